"""The analyst's Markdown report (default on stdout): readable in a terminal and on a review page.

Order: executive summary, findings ranked by money (evidence, paste-ready recommendation,
trade-offs, and how the saving was counted), early warnings, cost estimate per application,
warehouse bills, per-application detail with its what-if, data-governance notes, methodology.
Every string from the input goes through ``md_text`` (or ``md_prose``, which keeps backquoted
identifiers as code spans) so a hostile application name cannot break a table or inject HTML.
"""

from __future__ import annotations

import re

from analyzer.core.findings import Finding
from analyzer.core.report import Report
from analyzer.core.safe_text import printable_document
from reports import markdown_tables as tables
from reports.evidence import (
    claim_note,
    claim_units,
    display_evidence,
    early_warnings,
    evidence_tables,
    main_findings,
    period_label,
    savings_summary,
)
from reports.fmt import app_key, evidence_label, fmt_evidence, fmt_time_ms, fmt_usd, vendor_name
from reports.governance import governance_lines, methodology_lines
from reports.markdown_tables import TOP_STAGES
from reports.markdown_text import md_prose, md_text
from reports.renderer import Renderer

__all__ = ["TOP_ACTIONS", "TOP_STAGES", "MarkdownRenderer", "md_prose", "md_text"]

TOP_ACTIONS = 3
#: DDL the warehouse rules recommend (upper-case keywords, as the rules write them), up to its ';'.
_DDL = re.compile(r"\b(?:ALTER|CREATE)\s+(?:OR\s+REPLACE\s+)?(?:TABLE|WAREHOUSE|RESERVATION|ASSIGNMENT|"
                  r"MATERIALIZED\s+VIEW|VIEW)\b[^;]*;")
_BQ = re.compile(r"\bbq update --clustering_fields=[\w,]+ [\w.:-]+")
# A --conf key=value pair, without the sentence punctuation that may follow it.
CONF = re.compile(r"""--conf\s+([^\s=]+=(?:"[^"]*"|'[^']*'|\S+?))[.,;:)]*(?=\s|$)""")


class MarkdownRenderer(Renderer):
    """The analyst's report in Markdown."""

    media_type = "text/markdown"

    def render(self, report: Report) -> bytes:
        """The report as one Markdown document."""
        lines = ["# deanalyze report", "",
                 f"Generated {report.generated_at} by deanalyze {report.tool_version}.", ""]
        lines += _summary(report)
        lines += _findings(report)
        lines += _early_warnings(report)
        lines += tables.cost_table(report)
        lines += tables.warehouse_tables(report)
        costs = {(c.app_id, c.attempt_id): c for c in report.costs}
        for app in report.applications:
            lines += tables.application(app, costs.get((app.app_id, app.attempt_id)))
        lines += ["## Data-governance considerations", "", *governance_lines(report), ""]
        lines += ["## Methodology and assumptions", "", *methodology_lines(report), ""]
        lines += _errors(report)
        return printable_document("\n".join(lines).rstrip() + "\n").encode()


def bill_usd(report: Report) -> float:
    """What everything read cost: Spark runs and warehouse histories."""
    return sum(c.total_usd for c in report.costs) + sum(c.total_usd for c in report.warehouse_costs)


def savings_sentence(report: Report) -> str:
    """The headline saving: the union of the claims, what the changes cost, which claims overlap."""
    total = bill_usd(report)
    saving, change, shared = savings_summary(report)
    paying = sum(1 for f in main_findings(report) if f.estimated_savings_usd > 0)
    text = (f"{fmt_usd(saving)} ({saving / total:.0%} of the bill) from {paying} finding(s), each resource "
            "counted once")
    if change:
        text += f", net of {fmt_usd(change)} that the recommended changes cost"
    if shared:
        text += (f"; {shared} finding(s) share a resource with another and are counted on what it leaves "
                 "(their notes say which)")
    return text + "."


def _summary(report: Report) -> list[str]:
    total = bill_usd(report)
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
           _savings_line(report) if total else "- No cost could be computed."]
    warnings = early_warnings(report)
    if warnings:
        out.append(f"- {len(warnings)} early warning(s): problems seen in runs too small for them to cost "
                   "much yet.")
    actions = top_actions(report)
    if actions:
        out += ["", "Top actions:", ""]
        out += [f"{i}. {md_prose(f.title)} — saves {fmt_usd(f.estimated_savings_usd)} {period_label(f)} "
                f"(`{f.rule_id}`, {md_text(f.subject_label())})." for i, f in enumerate(actions, 1)]
    return [*out, ""]


def _savings_line(report: Report) -> str:
    amount, _, rest = savings_sentence(report).partition(" (")
    return f"- **Potential savings: {amount}** ({rest}"


def top_actions(report: Report) -> list[Finding]:
    """The findings that save most (early warnings never)."""
    ranked = main_findings(report)
    return [f for f in ranked if f.estimated_savings_usd > 0][:TOP_ACTIONS] or ranked[:TOP_ACTIONS]


def _findings(report: Report) -> list[str]:
    findings = main_findings(report)
    if not findings:
        return ["## Findings", "", "No rule found anything worth changing.", ""]
    out = ["## Findings, ranked by money", ""]
    for i, f in enumerate(findings, 1):
        out += _finding(i, f, report)
    return out


def _finding(index: int, f: Finding, report: Report) -> list[str]:
    out = [f"### {index}. {md_prose(f.title)}", "", _headline(f), ""]
    note = claim_note(f.claim)
    if note:
        out += [f"**Counted once.** {md_text(note)}", ""]
    out += tables.table(["evidence", "value"], [[md_text(evidence_label(k)), md_prose(fmt_evidence(k, v))]
                                                 for k, v in display_evidence(f, report).items()])
    for title, headers, rows in evidence_tables(f):
        out += ["", f"*{md_text(title)}*", "", *tables.table([md_text(h) for h in headers],
                                                              [[md_text(c) for c in r] for r in rows])]
    out += ["", f"**Recommendation.** {md_prose(f.recommendation)}", ""]
    out += _paste_blocks(f.recommendation)
    if f.tradeoffs:
        out += [f"**Trade-offs and risks.** {md_prose(f.tradeoffs)}", ""]
    return out


def _headline(f: Finding) -> str:
    """Severity, confidence, rule, who pays, where, and the saving with the units it is made of."""
    where = ", ".join(f"{k.replace('_', ' ')} {md_text(v)}" for k, v in f.subject.items()
                      if k in ("stage_id", "sql_execution_id", "table", "project") and v is not None)
    who = md_text(f.subject_label())
    if "app_id" in f.subject:
        who += f" (`{md_text(app_key(f.subject.get('app_id'), f.subject.get('attempt_id')))}`)"
    return (f"**{f.severity.upper()}** · confidence {f.confidence} · `{f.rule_id}` · {who}"
            f"{' · ' + where if where else ''} · saves **{fmt_usd(f.estimated_savings_usd)}** "
            f"{period_label(f)} "
            f"({md_text(claim_units(f.claim, f))})")


def _paste_blocks(recommendation: str) -> list[str]:
    """The recommendation's --conf lines, DDL and bq commands, verbatim and ready to paste."""
    out: list[str] = []
    confs = CONF.findall(recommendation)
    if confs:
        out += ["```bash", "spark-submit \\", *[f"  --conf {c} \\" for c in confs], "  ...", "```", ""]
    statements = [s for s in _DDL.findall(recommendation) if "```" not in s]
    if statements:  # verbatim, so that backquoted BigQuery names survive and the block can be pasted
        out += ["```sql", *statements, "```", ""]
    commands = [c for c in _BQ.findall(recommendation) if "```" not in c]
    if commands:
        out += ["```bash", *commands, "```", ""]
    return out


def _early_warnings(report: Report) -> list[str]:
    """Info findings in one compact table: seen, but too small in this run to claim money."""
    warnings = early_warnings(report)
    if not warnings:
        return []
    rows = [[f"`{f.rule_id}`", md_text(f.subject_label()), md_prose(f.title), f.confidence,
             md_prose(f.scale_note) or "-"] for f in warnings]
    return ["## Early warnings", "",
            "Problems a rule saw in runs below its damping threshold, or changes the findings above leave "
            "nothing to save for: no saving is claimed and no gate fails on them.", "",
            *tables.table(["rule", "who", "what", "confidence", "at production scale, or counted after"],
                          rows), ""]


def _errors(report: Report) -> list[str]:
    if not report.errors:
        return []
    out = ["## Inputs that could not be read", ""]
    out += [f"- `{md_text(e.source)}`: {md_text(e.message)}" for e in report.errors]
    return [*out, ""]
