"""The fleet view for people (``deanalyze history``): what recurring jobs cost, what got slower.

Order: the bill and who pays it (with the unattributed share), the recurring applications
ranked by cost with their trends, regressions with the stage or pattern that moved and the
configuration that changed, the findings followed across runs, then each application's
latest runs. Input strings pass ``md_text``; numbers pass ``reports.fmt``.
"""

from __future__ import annotations

from analyzer.core.fleet import FindingTrack, FleetReport, RecurringApp, Regression
from analyzer.core.safe_text import printable_document
from reports.fleet_renderer import FleetRenderer, signed_usd
from reports.fmt import fmt_bytes, fmt_duration_ms, fmt_time_ms, fmt_usd, vendor_name
from reports.markdown_report import md_text

MAX_APPS = 50
MAX_RUNS = 10
MAX_FINDINGS = 50
MAX_REGRESSIONS = 50


class FleetMarkdownRenderer(FleetRenderer):
    """GitHub-flavoured Markdown."""

    media_type = "text/markdown"

    def render(self, fleet: FleetReport) -> bytes:
        """The whole fleet report."""
        since = f", runs since {fleet.since}" if fleet.since else ""
        matching = f", applications matching `{md_text(fleet.app_pattern)}`" if fleet.app_pattern else ""
        lines = ["# deanalyze fleet report", "",
                 f"Generated {fleet.generated_at} by deanalyze {fleet.tool_version} from the history "
                 f"`{md_text(fleet.history)}`{since}{matching}.", ""]
        lines += _owners(fleet) + _apps(fleet.applications) + _regressions(fleet.regressions)
        lines += _findings(fleet.findings) + _runs(fleet.applications)
        lines += ["## Methodology", "", *[f"- {md_text(m)}" for m in fleet.methodology], ""]
        return printable_document("\n".join(lines)).encode()


def ratio(value: float | None) -> str:
    """``1.8`` -> ``1.80x``; ``-`` when unknown."""
    return "-" if value is None else f"{value:.2f}x"


def metric_value(metric: str, value: float | None) -> str:
    """A regression's baseline or value in the unit of its metric."""
    return fmt_duration_ms(value) if metric == "duration_ms" else fmt_usd(value)


def _owners(fleet: FleetReport) -> list[str]:
    total = fleet.total_usd
    lines = ["## Cost by owner", "", f"Total recorded cost: **{fmt_usd(total)}**.", ""]
    owners = fleet.cost_by_owner()
    if not owners:
        return lines + ["No cost recorded yet.", ""]
    lines += ["| owner | cost | share |", "|---|---:|---:|"]
    lines += [f"| {md_text(o)} | {fmt_usd(u)} | {f'{u / total:.1%}' if total else '-'} |" for o, u in owners]
    return lines + [""]


def _apps(apps: tuple[RecurringApp, ...]) -> list[str]:
    lines = ["## Recurring applications", ""]
    if not apps:
        return lines + ["No runs recorded.", ""]
    lines += ["| application | source | runs | cost | per run | per month | duration trend | input trend "
              "| owner |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for a in apps[:MAX_APPS]:
        lines.append(f"| {md_text(a.name)} | {vendor_name(a.kind)} | {len(a.runs)} | {fmt_usd(a.total_usd)} "
                     "| "
                     f"{fmt_usd(a.usd_per_run)} | {fmt_usd(a.usd_per_month)} | {ratio(a.duration_change)} | "
                     f"{ratio(a.input_change)} | {md_text(a.owner or '-')} |")
    if len(apps) > MAX_APPS:
        lines.append(f"\n{len(apps) - MAX_APPS} cheaper applications not shown (JSON lists every one).")
    return lines + ["", "Trends: median of the last runs over the median of the first runs.", ""]


def _regressions(regressions: tuple[Regression, ...]) -> list[str]:
    lines = ["## Regressions", ""]
    if not regressions:
        return lines + ["No run is far above its application's own baseline.", ""]
    for r in regressions[:MAX_REGRESSIONS]:
        stages = ", ".join(f"{'stage ' + s.stage if s.stage.isdigit() else 'pattern'} ({md_text(s.name)}: "
                           f"{fmt_duration_ms(s.baseline_ms)} -> {fmt_duration_ms(s.value_ms)})"
                           for s in r.stages) or "-"
        changes = ", ".join(f"`{md_text(c.key)}`: {md_text(c.before or 'unset')} -> "
                            f"{md_text(c.after or 'unset')}" for c in r.config_changes) or "none"
        what = "duration" if r.metric == "duration_ms" else "cost"
        lines += [f"- **{md_text(r.name)}** run {md_text(r.app_id)} ({fmt_time_ms(r.start_time_ms)}): "
                  f"{what} {metric_value(r.metric, r.value)} against a "
                  f"baseline of {metric_value(r.metric, r.baseline)} over {r.baseline_runs} runs "
                  f"(**{ratio(r.change)}**; input {ratio(r.input_change)}). Moved most: {stages}. "
                  f"Configuration changed since the previous run: {changes}."]
    if len(regressions) > MAX_REGRESSIONS:
        lines.append(f"- ... and {len(regressions) - MAX_REGRESSIONS} earlier ones (JSON lists every one).")
    return lines + [""]


def _findings(tracks: tuple[FindingTrack, ...]) -> list[str]:
    lines = ["## Findings across runs", ""]
    if not tracks:
        return lines + ["No findings recorded.", ""]
    counts = {s: sum(t.status == s for t in tracks) for s in ("new", "persisting", "resolved")}
    lines += [f"{counts['new']} new, {counts['persisting']} persisting, {counts['resolved']} resolved.", "",
              "| status | rule | severity | subject | runs | predicted saving / run "
              "| realised saving / run |", "|---|---|---|---|---:|---:|---:|"]
    lines += [f"| {t.status} | {md_text(t.rule_id)} | {t.severity} | {md_text(t.subject)} | {t.runs_seen} | "
              f"{fmt_usd(t.predicted_saving_usd)} | {signed_usd(t.realised_saving_usd)} |"
              for t in tracks[:MAX_FINDINGS]]
    return lines + [""]


def _runs(apps: tuple[RecurringApp, ...]) -> list[str]:
    lines = ["## Latest runs per application", ""]
    for a in apps[:MAX_APPS]:
        lines += [f"### {md_text(a.name)}", "", f"Key `{md_text(a.key)}`.", "",
                  "| run | started | duration | cost | input |", "|---|---|---:|---:|---:|"]
        lines += [f"| {md_text(r.app_id)} | {fmt_time_ms(r.start_time_ms)} | "
                  f"{fmt_duration_ms(r.duration_ms)} | {fmt_usd(r.cost_usd)} | {fmt_bytes(r.input_bytes)} |"
                  for r in a.runs[-MAX_RUNS:]]
        lines.append("")
    return lines
