"""The fleet dashboard (``deanalyze dashboard``): one offline HTML file over the whole history.

It shows cost per day by source and per week by owner, the costliest recurring applications
and query patterns with sparklines of their runs, the biggest movers and the regressions,
findings opened and resolved per week, and the savings measured after a finding was
resolved. The page shell, CSP and escaping are the run dashboard's (``html_page``); figures
come from ``fleet_charts``. Every input string passes ``esc`` or ``plot_text``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from analyzer.core.fleet import UNATTRIBUTED, FindingTrack, FleetReport, RecurringApp, Regression
from reports.fleet_charts import daily_source_chart, findings_chart, sparkline, weekly_owner_chart
from reports.fleet_renderer import FleetRenderer, signed_usd
from reports.fmt import fmt_duration_ms, fmt_time_ms, fmt_usd, vendor_name
from reports.html_charts import Chart
from reports.html_page import PLOTLYJS_MODES, data_block, esc, page, plotly_tags
from reports.html_sections import section, table

MAX_APPS = 25
MAX_MOVERS = 10
MAX_FINDINGS = 100
MAX_REGRESSIONS = 100
# The run dashboard's grid wants 480 px per column; on a phone everything becomes one column.
NARROW_CSS = ("<style>@media (max-width:640px){header,nav{padding-left:1rem;padding-right:1rem}"
              "main{padding:1rem .5rem 2rem}section{padding:.8rem}.grid2{grid-template-columns:1fr}"
              ".cards{grid-template-columns:1fr 1fr}.card .value{font-size:1.2rem}}"
              "svg.spark{display:block}nav{display:flex;flex-wrap:wrap;row-gap:.2rem}</style>")
_NAV = [("summary", "Summary"), ("costs", "Costs"), ("owners", "Owners"),
        ("applications", "Applications"), ("movers", "Movers"), ("regressions", "Regressions"),
        ("findings", "Findings"), ("savings", "Savings"), ("methodology", "Methodology")]


class FleetHtmlRenderer(FleetRenderer):
    """The fleet page; ``plotlyjs`` is ``inline`` (offline) or ``cdn``."""

    media_type = "text/html"

    def __init__(self, plotlyjs: str = "inline") -> None:
        if plotlyjs not in PLOTLYJS_MODES:
            raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}, not {plotlyjs!r}")
        self.plotlyjs = plotlyjs

    def render(self, fleet: FleetReport) -> bytes:
        """The whole page."""
        from plotly.offline import get_plotlyjs, get_plotlyjs_version  # lazy, as the run dashboard

        js = get_plotlyjs() if self.plotlyjs == "inline" else ""
        cdn = f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
        tag, source = plotly_tags(self.plotlyjs, js, cdn)
        subtitle = f"Generated {fleet.generated_at} by deanalyze {fleet.tool_version} from {fleet.history}"
        body = NARROW_CSS + _body(fleet)
        return page("deanalyze fleet dashboard", subtitle, _NAV, body, tag, source).encode()


def _body(fleet: FleetReport) -> str:
    costs = [c for c in (daily_source_chart(fleet), weekly_owner_chart(fleet)) if c is not None]
    found = findings_chart(fleet.findings)
    return "".join([
        section("summary", "Summary", _cards(fleet)),
        section("costs", "Cost over time", _charts(costs)),
        section("owners", "Cost by owner", _owners(fleet)),
        section("applications", "Costliest recurring applications and query patterns",
                _apps(fleet.applications)),
        section("movers", "Biggest movers", _movers(fleet.applications)),
        section("regressions", "Regressions", _regressions(fleet.regressions)),
        section("findings", "Findings over time",
                _charts([found] if found else []) + _by_rule(fleet.findings) + _findings(fleet.findings)),
        section("savings", "Realised savings", _savings(fleet.findings)),
        section("methodology", "Methodology", "<ul class='notes'>"
                + "".join(f"<li>{esc(m)}</li>" for m in fleet.methodology) + "</ul>"),
    ])


def _charts(charts: Sequence[Chart]) -> str:
    if not charts:
        return "<p class='muted'>Nothing to chart yet.</p>"
    return "<div class='grid2'>" + "".join(
        f"<figure><h3>{esc(c.title)}</h3><div class='chart' id='{esc(c.chart_id)}' "
        f"data-figure='{esc(c.chart_id)}-data' role='img' aria-label='{esc(c.title)}'></div>"
        f"{data_block(c.chart_id + '-data', c.figure_json)}<figcaption>{esc(c.caption)}</figcaption></figure>"
        for c in charts) + "</div>"


def _cards(fleet: FleetReport) -> str:
    owners = dict(fleet.cost_by_owner())
    total = fleet.total_usd
    share = owners.get(UNATTRIBUTED, 0.0) / total if total else 0.0
    realised = sum(t.realised_saving_usd or 0.0 for t in fleet.findings if t.status == "resolved")
    days = len({d.day for d in fleet.daily_costs})
    cards = [("Recorded cost", fmt_usd(total), f"over {days} days"),
             ("Recurring applications", str(len(fleet.applications)),
              "Spark jobs, query patterns, dbt models"),
             ("Regressions", str(len(fleet.regressions)), "runs far above their own baseline"),
             ("Unattributed", f"{share:.0%}", f"{fmt_usd(owners.get(UNATTRIBUTED, 0.0))} with no owner key"),
             ("Realised savings", signed_usd(realised), "per run, findings resolved")]
    return "<div class='cards'>" + "".join(
        f"<div class='card'><div class='label'>{esc(label)}</div><div class='value'>{esc(value)}</div>"
        f"<div class='note'>{esc(note)}</div></div>"
        for label, value, note in cards) + "</div>"


def _td(text: str, sort: object = None, num: bool = False) -> str:
    attrs = (' class="num"' if num else "") + ("" if sort is None else f' data-sort="{esc(sort)}"')
    return f"<td{attrs}>{text}</td>"


def _owners(fleet: FleetReport) -> str:
    total = fleet.total_usd
    rows = [f"<tr>{_td(esc(o))}{_td(fmt_usd(u), round(u, 6), True)}"
            f"{_td(f'{u / total:.1%}' if total else '-', u, True)}</tr>" for o, u in fleet.cost_by_owner()]
    if not rows:
        return "<p class='muted'>No cost recorded yet.</p>"
    return table([("owner", "text"), ("cost", "num"), ("share", "num")], rows, sortable=True)


def _apps(apps: Sequence[RecurringApp]) -> str:
    rows = [f"<tr>{_td(esc(a.name) + f'<br><code>{esc(a.key)}</code>', a.name)}"
            f"{_td(esc(vendor_name(a.kind)))}"
            f"{_td(str(len(a.runs)), len(a.runs), True)}{_td(fmt_usd(a.total_usd), a.total_usd, True)}"
            f"{_td(fmt_usd(a.usd_per_run), a.usd_per_run or 0, True)}"
            f"{_td(fmt_usd(a.usd_per_month), a.usd_per_month or 0, True)}"
            f"{_td(sparkline([r.cost_usd for r in a.runs]))}"
            f"{_td(sparkline([r.duration_ms for r in a.runs]))}"
            f"{_td(esc(a.owner or '-'))}</tr>" for a in apps[:MAX_APPS]]
    if not rows:
        return "<p class='muted'>No runs recorded.</p>"
    hidden = len(apps) - MAX_APPS
    more = f"<p class='muted'>{hidden} cheaper ones not shown.</p>" if hidden > 0 else ""
    return table([("application", "text"), ("source", "text"), ("runs", "num"), ("cost", "num"),
                  ("per run", "num"), ("per month", "num"), ("cost per run", "text"), ("duration", "text"),
                  ("owner", "text")], rows, sortable=True) + more


def movers(apps: Sequence[RecurringApp],
           limit: int = MAX_MOVERS) -> list[tuple[RecurringApp, float, float]]:
    """(application, last run's cost, median cost of its previous runs), largest change in dollars first."""
    out = []
    for a in apps:
        costs = [r.cost_usd for r in a.runs if r.cost_usd is not None]
        if len(costs) >= 2:
            out.append((a, costs[-1], float(statistics.median(costs[-11:-1]))))
    out.sort(key=lambda m: -abs(m[1] - m[2]))
    return out[:limit]


def _movers(apps: Sequence[RecurringApp]) -> str:
    rows = [f"<tr>{_td(esc(a.name), a.name)}{_td(esc(vendor_name(a.kind)))}{_td(fmt_usd(base), base, True)}"
            f"{_td(fmt_usd(last), last, True)}"
            f"{_td(('+' if last >= base else '-') + fmt_usd(abs(last - base)), last - base, True)}</tr>"
            for a, last, base in movers(apps)]
    if not rows:
        return "<p class='muted'>No application has two runs yet.</p>"
    return table([("application", "text"), ("source", "text"), ("median before", "num"), ("last run", "num"),
                  ("change", "num")], rows, sortable=True)


def _regressions(regressions: Sequence[Regression]) -> str:
    rows = []
    for r in regressions[:MAX_REGRESSIONS]:
        show = fmt_duration_ms if r.metric == "duration_ms" else fmt_usd
        moved = "<br>".join(("stage " + esc(s.stage) + " " if s.stage.isdigit() else "") + esc(s.name)
                            + f": {esc(fmt_duration_ms(s.baseline_ms))} &rarr; "
                            + esc(fmt_duration_ms(s.value_ms))
                            for s in r.stages) or "-"
        conf = "<br>".join(f"<code>{esc(c.key)}</code>: {esc(c.before or 'unset')} &rarr; "
                           f"{esc(c.after or 'unset')}" for c in r.config_changes) or "-"
        rows.append(f"<tr>{_td(esc(r.name), r.name)}{_td(esc(r.app_id))}"
                    f"{_td(esc(fmt_time_ms(r.start_time_ms)))}"
                    f"{_td(esc(r.metric))}{_td(esc(show(r.baseline)), r.baseline, True)}"
                    f"{_td(esc(show(r.value)), r.value, True)}{_td(f'{r.change:.2f}x', r.change, True)}"
                    f"{_td(_ratio(r.input_change), r.input_change or 0, True)}"
                    f"{_td(moved)}{_td(conf)}</tr>")
    if not rows:
        return "<p class='muted'>No run is far above its application's own baseline.</p>"
    return table([("application", "text"), ("run", "text"), ("started", "text"), ("metric", "text"),
                  ("baseline", "num"), ("value", "num"), ("change", "num"), ("input", "num"),
                  ("moved most", "text"), ("configuration changed", "text")], rows, sortable=True)


def _by_rule(tracks: Sequence[FindingTrack]) -> str:
    """Per rule: findings open now (new or persisting), resolved, and the open ones' predicted saving."""
    rules: dict[str, list[float]] = {}
    for t in tracks:
        row = rules.setdefault(t.rule_id, [0, 0, 0.0])
        if t.status == "resolved":
            row[1] += 1
        else:
            row[0] += 1
            row[2] += t.predicted_saving_usd
    rows = [f"<tr>{_td(esc(rule))}{_td(str(int(o)), o, True)}{_td(str(int(r)), r, True)}"
            f"{_td(fmt_usd(s), s, True)}</tr>" for rule, (o, r, s) in sorted(rules.items())]
    if not rows:
        return ""
    return "<h3>By rule</h3>" + table([("rule", "text"), ("open", "num"), ("resolved", "num"),
                                        ("open saving / run", "num")], rows, sortable=True)


def _findings(tracks: Sequence[FindingTrack]) -> str:
    rows = [f"<tr>{_td(esc(t.status))}{_td(esc(t.rule_id))}{_td(esc(t.severity))}{_td(esc(t.subject))}"
            f"{_td(str(t.runs_seen), t.runs_seen, True)}"
            f"{_td(fmt_usd(t.predicted_saving_usd), t.predicted_saving_usd, True)}</tr>"
            for t in tracks[:MAX_FINDINGS]]
    if not rows:
        return "<p class='muted'>No findings recorded.</p>"
    return table([("status", "text"), ("rule", "text"), ("severity", "text"), ("subject", "text"),
                  ("runs", "num"), ("predicted saving / run", "num")], rows, sortable=True)


def _savings(tracks: Sequence[FindingTrack]) -> str:
    resolved = [t for t in tracks if t.status == "resolved"]
    rows = [f"<tr>{_td(esc(t.rule_id))}{_td(esc(t.subject))}{_td(esc(fmt_time_ms(t.last_seen_ms)))}"
            f"{_td(fmt_usd(t.predicted_saving_usd), t.predicted_saving_usd, True)}"
            f"{_td(signed_usd(t.realised_saving_usd), t.realised_saving_usd or 0, True)}</tr>"
            for t in resolved]
    if not rows:
        return "<p class='muted'>No finding has been resolved yet.</p>"
    return table([("rule", "text"), ("subject", "text"), ("last seen", "text"), ("predicted / run", "num"),
                  ("realised / run", "num")], rows, sortable=True)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
