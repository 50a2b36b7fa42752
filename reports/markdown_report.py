"""The analyst's Markdown report (default on stdout): readable in a terminal and on a review page.

Order: executive summary, findings ranked by money (evidence, paste-ready recommendation,
trade-offs), cost estimate per application, per-application detail, data-governance
notes, methodology. Every string from the input goes through ``md_text`` so a hostile
application name cannot break a table or inject HTML.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from analyzer.core.cost import AppCost
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from analyzer.core.report import Report
from reports.evidence import display_evidence, period_label, shown_sql
from reports.fmt import app_key, fmt_bytes, fmt_duration_ms, fmt_evidence, fmt_time_ms, fmt_usd, vendor_name
from reports.governance import governance_lines, integrity_notes, methodology_lines
from reports.renderer import Renderer

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports

TOP_STAGES = 5
TOP_ACTIONS = 3
# A --conf key=value pair, without the sentence punctuation that may follow it.
#: DDL the warehouse rules recommend (upper-case keywords, as the rules write them), up to its ';'.
_DDL = re.compile(r"\b(?:ALTER|CREATE)\s+(?:OR\s+REPLACE\s+)?(?:TABLE|WAREHOUSE|RESERVATION|ASSIGNMENT|"
                  r"MATERIALIZED\s+VIEW|VIEW)\b[^;]*;")
_BQ = re.compile(r"\bbq update --clustering_fields=[\w,]+ [\w.:-]+")
_CONF = re.compile(r"""--conf\s+([^\s=]+=(?:"[^"]*"|'[^']*'|\S+?))[.,;:)]*(?=\s|$)""")


class MarkdownRenderer(Renderer):
    """The analyst's report in Markdown."""

    media_type = "text/markdown"

    def render(self, report: Report) -> bytes:
        """The report as one Markdown document."""
        lines = ["# deanalyze report", "",
                 f"Generated {report.generated_at} by deanalyze {report.tool_version}.", ""]
        lines += _summary(report)
        lines += _findings(report)
        lines += _cost_table(report)
        lines += _warehouse_tables(report)
        for app in report.applications:
            lines += _application(app)
        lines += ["## Data-governance considerations", "", *governance_lines(report), ""]
        lines += ["## Methodology and assumptions", "", *methodology_lines(report), ""]
        lines += _errors(report)
        return ("\n".join(lines).rstrip() + "\n").encode()


def md_text(value: object) -> str:
    """Input text made safe for Markdown: no table breaks, no raw HTML, one line."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("`", "'")
    return " ".join(text.split())


def _summary(report: Report) -> list[str]:
    total = sum(c.total_usd for c in report.costs) + sum(c.total_usd for c in report.warehouse_costs)
    savings = sum(f.estimated_savings_usd for f in report.findings)
    monthly = [c.monthly_usd for c in report.costs if c.monthly_usd is not None]
    read = []
    if report.applications or not report.warehouses:
        read.append(f"**{len(report.applications)} Spark application run(s)**")
    for h in report.warehouses:
        read.append(f"**{len(h.queries):,} {vendor_name(h.vendor)} queries** from `{md_text(h.source)}`"
                    f" ({fmt_time_ms(h.window_start_ms)} to {fmt_time_ms(h.window_end_ms)})")
    out = ["## Executive summary", "",
           f"- Read {', '.join(read)}"
           f"{f'; {len(report.errors)} input(s) unreadable' if report.errors else ''}.",
           f"- **Total cost: {fmt_usd(total)}** for what was read"
           + (f"; {fmt_usd(sum(monthly))} a month for the applications whose frequency is known."
              if monthly else "."),
           f"- **Potential savings: {fmt_usd(savings)}** ({savings / total:.0%} of the bill) "
           f"from {len(report.findings)} finding(s)." if total else "- No cost could be computed.",
           ]
    actions = ([f for f in report.findings if f.estimated_savings_usd > 0][:TOP_ACTIONS]
               or report.findings[:TOP_ACTIONS])
    if actions:
        out += ["", "Top actions:", ""]
        out += [f"{i}. {md_text(f.title)} — saves {fmt_usd(f.estimated_savings_usd)} {period_label(f)} "
                f"(`{f.rule_id}`, {md_text(f.subject_label())})." for i, f in enumerate(actions, 1)]
    return [*out, ""]


def _findings(report: Report) -> list[str]:
    if not report.findings:
        return ["## Findings", "", "No rule found anything worth changing.", ""]
    out = ["## Findings, ranked by money", ""]
    for i, f in enumerate(report.findings, 1):
        out += _finding(i, f, report)
    return out


def _finding(index: int, f: Finding, report: Report) -> list[str]:
    where = ", ".join(f"{k.replace('_', ' ')} {md_text(v)}" for k, v in f.subject.items()
                      if k in ("stage_id", "sql_execution_id", "table", "project") and v is not None)
    who = md_text(f.subject_label())
    if "app_id" in f.subject:
        who += f" (`{md_text(app_key(f.subject.get('app_id'), f.subject.get('attempt_id')))}`)"
    usage = ", ".join(f"{v:.3g} {k.replace('_', ' ')}" for k, v in f.avoidable_usage.items()) or (
        f"{f.avoidable_core_hours:.3g} core-hours")
    out = [f"### {index}. {md_text(f.title)}", "",
           f"**{f.severity.upper()}** · `{f.rule_id}` · {who}{' · ' + where if where else ''} · "
           f"saves **{fmt_usd(f.estimated_savings_usd)}** {period_label(f)} ({usage})", "",
           "| evidence | value |", "|---|---|"]
    out += [f"| {md_text(k.replace('_', ' '))} | {md_text(fmt_evidence(k, v))} |"
            for k, v in display_evidence(f, report).items()]
    out += ["", f"**Recommendation.** {md_text(f.recommendation)}", ""]
    confs = _CONF.findall(f.recommendation)
    if confs:
        out += ["```bash", "spark-submit \\", *[f"  --conf {c} \\" for c in confs], "  ...", "```", ""]
    statements = [s for s in _DDL.findall(f.recommendation) if "```" not in s]
    if statements:  # verbatim, so that backquoted BigQuery names survive and the block can be pasted
        out += ["```sql", *statements, "```", ""]
    commands = [c for c in _BQ.findall(f.recommendation) if "```" not in c]
    if commands:
        out += ["```bash", *commands, "```", ""]
    if f.tradeoffs:
        out += [f"**Trade-offs and risks.** {md_text(f.tradeoffs)}", ""]
    return out


def _cost_table(report: Report) -> list[str]:
    if not report.costs:
        return []
    out = ["## Cost estimate", "",
           "| application | cost per run | runs / month | monthly | useful | failed work | driver only | "
           "skew tail | idle cores | driver | savings |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    out += [_cost_row(c) for c in sorted(report.costs, key=lambda c: -c.total_usd)]
    return [*out, ""]


def _warehouse_tables(report: Report) -> list[str]:
    out: list[str] = []
    for h, c in zip(report.warehouses, report.warehouse_costs, strict=True):
        out += [f"## {vendor_name(h.vendor)} cost: `{md_text(h.source)}`", "",
                "| warehouse / project | kind | queries | cost | credits | idle credits | idle cost |"
                " TiB billed | slot-hours |", "|---|---|---|---|---|---|---|---|---|"]
        for t in sorted(c.warehouses.values(), key=lambda t: -t.usd):
            idle = "-" if t.idle_credits is None else f"{t.idle_credits:,.2f}"
            out.append(f"| {md_text(t.name)} | {t.kind} | {t.query_count:,} | {fmt_usd(t.usd)} | "
                       f"{t.compute_credits:,.2f} | {idle} | {fmt_usd(t.idle_usd)} | {t.tib_billed:,.3f} | "
                       f"{t.slot_hours:,.1f} |")
        if c.projects:
            out += ["", "| project | jobs | on-demand | editions | paid |", "|---|---|---|---|---|"]
            out += [f"| {md_text(p.project)} | {p.jobs:,} | {fmt_usd(p.on_demand_usd)} | "
                    f"{fmt_usd(p.editions_usd)} | {fmt_usd(p.actual_usd)} |" for p in c.projects.values()]
        out += [*(f"- {md_text(n)}" for n in c.notes), ""]
        out += _pattern_table(c, report)
    return out


def _pattern_table(cost: WarehouseCost, report: Report) -> list[str]:
    """The costliest query patterns: where to look first."""
    if not cost.patterns:
        return []
    out = ["### Costliest query patterns", "",
           "Runs that differ only in their literals are one pattern; the example is its costliest run.", "",
           "| # | runs | cost | share | paid by | example |", "|---|---|---|---|---|---|"]
    for rank, p in enumerate(cost.patterns, 1):
        sql = shown_sql(report, p.example_query_id, p.example_sql)
        payers = md_text(", ".join(p.pools))
        out.append(f"| {rank} | {p.runs:,} | {fmt_usd(p.usd)} | {p.share:.1%} | {payers} | {md_text(sql)} |")
    return [*out, ""]


def _cost_row(c: AppCost) -> str:
    ledger = c.ledger_usd
    runs = "-" if c.runs_per_month is None else f"{c.runs_per_month:.1f}"
    cells = [ledger[b] for b in ("useful", "failed_work", "driver_only", "skew_tail", "idle_cores", "driver")]
    return (f"| {md_text(c.app_name)} (`{md_text(app_key(c.app_id, c.attempt_id))}`) | "
            f"{fmt_usd(c.total_usd)} | {runs} | {fmt_usd(c.monthly_usd)} | "
            + " | ".join(fmt_usd(v) for v in cells)
            + f" | {fmt_usd(c.savings_usd)} |")


def _application(app: Application) -> list[str]:
    out = [f"## {md_text(app.name) or md_text(app.app_id)} "
           f"(`{md_text(app_key(app.app_id, app.attempt_id))}`)", "",
           f"- Source: `{md_text(app.source)}`",
           f"- Spark {md_text(app.spark_version or '?')}, master `{md_text(app.master or '?')}`, "
           f"started {fmt_time_ms(app.start_time_ms)}, ran {fmt_duration_ms(app.duration_ms)}"
           f"{'' if app.complete else ' (incomplete: no end recorded)'}",
           f"- Executors: {sum(1 for e in app.executors if not e.is_driver)}, "
           f"jobs: {len(app.jobs)}, SQL executions: {len(app.sql_executions)}, stages: {len(app.stages)}"]
    out += _integrity(app)
    stages = sorted(app.stages, key=lambda s: s.metrics.executor_run_time_ms, reverse=True)[:TOP_STAGES]
    if stages:
        out += ["", "| stage | name | status | tasks (failed) | run time | input | shuffle read | "
                "shuffle write | spill (disk) | task time p50 / max |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        out += [_stage_row(s) for s in stages]
    return [*out, ""]


def _stage_row(s: Stage) -> str:
    m, q = s.metrics, s.tasks.duration_ms
    spread = f"{fmt_duration_ms(q.p50)} / {fmt_duration_ms(q.max)}" if q else "-"
    return (f"| {s.stage_id}.{s.attempt_id} | {md_text(s.name)[:60]} | {s.status} | "
            f"{s.num_tasks} ({s.num_failed_tasks}) | {fmt_duration_ms(m.executor_run_time_ms)} | "
            f"{fmt_bytes(m.input_bytes)} | {fmt_bytes(m.shuffle_read_bytes)} | "
            f"{fmt_bytes(m.shuffle_write_bytes)} | {fmt_bytes(m.disk_bytes_spilled)} | {spread} |")


def _integrity(app: Application) -> list[str]:
    return [f"- Log integrity: {md_text(n)}" for n in integrity_notes(app)]


def _errors(report: Report) -> list[str]:
    if not report.errors:
        return []
    out = ["## Inputs that could not be read", ""]
    out += [f"- `{md_text(e.source)}`: {md_text(e.message)}" for e in report.errors]
    return [*out, ""]
