"""The text sections of the HTML dashboard: the Markdown report's content, as HTML.

Same order and figures as ``markdown_report`` (summary, findings, costs, applications,
governance, methodology, unreadable inputs); every input string passes ``esc``. Cells of
sortable tables carry a ``data-sort`` key so sorting by money or severity is numeric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analyzer.core.cost import BUCKETS, AppCost
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from analyzer.core.report import Report
from reports.evidence import display_evidence, period_label, shown_sql
from reports.fmt import app_key, fmt_bytes, fmt_duration_ms, fmt_evidence, fmt_time_ms, fmt_usd, vendor_name
from reports.governance import governance_lines, integrity_notes, methodology_lines
from reports.html_page import esc, inline_markdown
from reports.markdown_report import TOP_ACTIONS, TOP_STAGES

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports

_WHERE_KEYS = {"stage_id": "stage", "sql_execution_id": "SQL execution", "table": "table"}
_BUCKET_HEADERS = {"useful": "Useful", "failed_work": "Failed work", "driver_only": "Driver only",
                   "skew_tail": "Skew tail", "idle_cores": "Idle cores", "driver": "Driver"}


def section(anchor: str, title: str, inner: str) -> str:
    """A titled card of the page that the navigation bar links to."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{inner}</section>'


def table(headers: Sequence[tuple[str, str]], rows: Sequence[str], sortable: bool = False) -> str:
    """A table; headers are (label, "num"|"text") and rows are ready ``<tr>`` strings."""
    def th(label: str, kind: str) -> str:
        cls = ' class="num"' if kind == "num" else ""
        sort = f' data-sortable tabindex="0" data-type="{kind}"' if sortable else ""
        return f'<th scope="col"{cls}{sort}>{esc(label)}</th>'
    head = "".join(th(label, kind) for label, kind in headers)
    body = "".join(rows)
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _td(text: str, sort: object = None, num: bool = False) -> str:
    """A cell of already-escaped HTML, with an optional sort key."""
    key = "" if sort is None else f' data-sort="{esc(sort)}"'
    return f'<td{" class=num" if num else ""}{key}>{text}</td>'


def top_actions(report: Report) -> list[Finding]:
    """The same three actions the Markdown summary lists."""
    paying = [f for f in report.findings if f.estimated_savings_usd > 0]
    return paying[:TOP_ACTIONS] or list(report.findings[:TOP_ACTIONS])


def summary(report: Report) -> str:
    """Headline numbers and the top actions."""
    html = '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="note">{esc(note)}</div></div>' for label, value, note in _cards(report)) + "</div>"
    actions = top_actions(report)
    if not actions:
        return html + '<p class="muted">No rule found anything worth changing.</p>'
    items = "".join(f"<li><strong>{esc(f.title)}</strong> \u2014 saves "
                    f"{esc(fmt_usd(f.estimated_savings_usd))} {esc(period_label(f))} "
                    f"(<code>{esc(f.rule_id)}</code>, {esc(f.subject_label())})</li>"
                    for f in actions)
    return html + f'<h3>Top actions</h3><ol class="actions">{items}</ol>'


def _cards(report: Report) -> list[tuple[str, str, str]]:
    """(label, value, note) of each headline card, the Markdown summary's figures."""
    total = sum(c.total_usd for c in report.costs) + sum(c.total_usd for c in report.warehouse_costs)
    savings = sum(f.estimated_savings_usd for f in report.findings)
    monthly = [c.monthly_usd for c in report.costs if c.monthly_usd is not None]
    severe = sum(f.severity_rank >= 2 for f in report.findings)
    priced = report.costs or report.warehouse_costs
    cards = [("Total cost", fmt_usd(total) if priced else "-", "for what was read"),
             ("Potential savings", fmt_usd(savings),
              f"{savings / total:.0%} of the bill" if total else "no bill"),
             ("Findings", str(len(report.findings)), f"{severe} high or critical"),
             ("Application runs", str(len(report.applications)), f"{len(report.errors)} input(s) unreadable")]
    if report.warehouses:
        queries = sum(len(h.queries) for h in report.warehouses)
        cards[-1] = ("Warehouse queries", f"{queries:,}", f"{len(report.errors)} input(s) unreadable")
    if monthly:
        cards.insert(1, ("Monthly cost", fmt_usd(sum(monthly)), "applications with a known frequency"))
    return cards


def findings_table(findings: Sequence[Finding], report: Report) -> str:
    """Every finding, ranked by money; click a header to sort, open a title for its evidence."""
    if not findings:
        return '<p class="muted">No rule found anything worth changing.</p>'
    headers = [("#", "num"), ("Severity", "num"), ("Rule", "text"), ("Who pays", "text"),
               ("Finding", "text"), ("Saving", "num"), ("Recommendation", "text")]
    return table(headers, [_finding_row(i, f, report) for i, f in enumerate(findings, 1)], sortable=True)


def _finding_row(rank: int, f: Finding, report: Report) -> str:
    severity = f'<span class="sev sev-{esc(f.severity)}">{esc(f.severity)}</span>'
    usage = ", ".join(f"{v:.3g} {k.replace('_', ' ')}" for k, v in f.avoidable_usage.items()) or (
        f"{f.avoidable_core_hours:.3g} core-h")
    saving = f"{esc(fmt_usd(f.estimated_savings_usd))}<br><span class=muted>{esc(usage)}</span>"
    return ("<tr>" + _td(str(rank), rank, num=True) + _td(severity, f.severity_rank)
            + _td(f"<code>{esc(f.rule_id)}</code>", f.rule_id)
            + _td(_subject(f), f.subject_label().lower())
            + _td(_evidence(f, report), f.title.lower()) + _td(saving, f.estimated_savings_usd, num=True)
            + _td(esc(f.recommendation), f.recommendation.lower()) + "</tr>")


def _subject(f: Finding) -> str:
    """Who pays (application run, warehouse, reservation or project) and what the finding is about."""
    subject = f.subject
    where = ", ".join(f"{label} {subject[key]}" for key, label in _WHERE_KEYS.items()
                      if subject.get(key) is not None)
    html = esc(f.subject_label())
    if "app_id" in subject:
        html += f"<br><code>{esc(app_key(subject.get('app_id'), subject.get('attempt_id')))}</code>"
    return html + (f'<br><span class="muted">{esc(where)}</span>' if where else "")


def _evidence(f: Finding, report: Report) -> str:
    rows = "".join(f"<li><span class=muted>{esc(k.replace('_', ' '))}:</span> {esc(fmt_evidence(k, v))}</li>"
                   for k, v in display_evidence(f, report).items())
    trade = f"<p><strong>Trade-offs and risks.</strong> {esc(f.tradeoffs)}</p>" if f.tradeoffs else ""
    body = f"<ul class=evidence>{rows}</ul>{trade}"
    return f"{esc(f.title)}<details><summary>evidence</summary>{body}</details>"


def warehouse_tables(report: Report) -> str:
    """Per warehouse/project bill of each warehouse history, and the BigQuery pricing-model comparison."""
    out = []
    for h, c in zip(report.warehouses, report.warehouse_costs, strict=True):
        headers = [("Warehouse / project", "text"), ("Kind", "text"), ("Queries", "num"), ("Cost", "num"),
                   ("Credits", "num"), ("Idle cost", "num"), ("TiB billed", "num"), ("Slot-hours", "num")]
        rows = ["<tr>" + _td(esc(t.name)) + _td(esc(t.kind))
                + _td(f"{t.query_count:,}", t.query_count, num=True)
                + _td(esc(fmt_usd(t.usd)), t.usd, num=True) + _td(f"{t.compute_credits:,.2f}", num=True)
                + _td(esc(fmt_usd(t.idle_usd)), t.idle_usd, num=True) + _td(f"{t.tib_billed:,.3f}", num=True)
                + _td(f"{t.slot_hours:,.1f}", num=True) + "</tr>"
                for t in sorted(c.warehouses.values(), key=lambda t: -t.usd)]
        out.append(f"<h3>{esc(vendor_name(h.vendor))}: <code>{esc(h.source)}</code></h3>"
                   + table(headers, rows, sortable=True) + notes(list(c.notes)) + _patterns(c, report))
    return "".join(out)


def _patterns(cost: WarehouseCost, report: Report) -> str:
    """The costliest query patterns of one history (runs differing only in literals)."""
    if not cost.patterns:
        return ""
    headers = [("#", "num"), ("Runs", "num"), ("Cost", "num"), ("Share", "num"), ("Paid by", "text"),
               ("Example (costliest run)", "text")]
    rows = ["<tr>" + _td(str(rank), rank, num=True) + _td(f"{p.runs:,}", p.runs, num=True)
            + _td(esc(fmt_usd(p.usd)), p.usd, num=True) + _td(f"{p.share:.1%}", p.share, num=True)
            + _td(esc(", ".join(p.pools)))
            + _td(f"<code>{esc(shown_sql(report, p.example_query_id, p.example_sql))}</code>") + "</tr>"
            for rank, p in enumerate(cost.patterns, 1)]
    return "<h4>Costliest query patterns</h4>" + table(headers, rows, sortable=True)


def cost_table(costs: Sequence[AppCost]) -> str:
    """The bill and waste ledger of each run, most expensive first."""
    if not costs:
        return '<p class="muted">No cost could be computed.</p>'
    monthly = any(c.runs_per_month is not None for c in costs)  # two empty columns would only cost width
    headers = [("Application", "text"), ("Cost / run", "num"),
               *([("Runs / month", "num"), ("Monthly", "num")] if monthly else []),
               *[(_BUCKET_HEADERS[b], "num") for b in BUCKETS], ("Savings", "num")]
    rows = [_cost_row(c, monthly) for c in sorted(costs, key=lambda c: -c.total_usd)]
    return table(headers, rows, sortable=True)


def _cost_row(c: AppCost, monthly: bool) -> str:
    name = f"{esc(c.app_name)}<br><code>{esc(app_key(c.app_id, c.attempt_id))}</code>"
    runs = "-" if c.runs_per_month is None else f"{c.runs_per_month:.1f}"
    cells = [_td(name, c.app_name.lower()), _td(esc(fmt_usd(c.total_usd)), c.total_usd, num=True)]
    if monthly:
        cells += [_td(runs, c.runs_per_month or 0, num=True),
                  _td(esc(fmt_usd(c.monthly_usd)), c.monthly_usd or 0, num=True)]
    ledger = [c.ledger_usd.get(b, 0.0) for b in BUCKETS]
    cells += [_td(esc(fmt_usd(v)), v, num=True) for v in ledger]
    cells.append(_td(esc(fmt_usd(c.savings_usd)), c.savings_usd, num=True))
    return "<tr>" + "".join(cells) + "</tr>"


def applications(apps: Sequence[Application]) -> str:
    """Each run's facts, log integrity and top stages, folded so long reports stay scannable."""
    if not apps:
        return '<p class="muted">No application could be read.</p>'
    return "".join(_application(a) for a in apps)


def _application(app: Application) -> str:
    executors = sum(1 for e in app.executors if not e.is_driver)
    ran = fmt_duration_ms(app.duration_ms) + ("" if app.complete else " (incomplete: no end recorded)")
    facts = {"Source": f"<code>{esc(app.source)}</code>",
             "Spark": f"{esc(app.spark_version or '?')}, master <code>{esc(app.master or '?')}</code>",
             "Started": esc(fmt_time_ms(app.start_time_ms)), "Ran": esc(ran),
             "Counts": f"{executors} executors, {len(app.jobs)} jobs, {len(app.sql_executions)} SQL "
                       f"executions, {len(app.stages)} stages"}
    integrity = integrity_notes(app)
    if integrity:
        facts["Log integrity"] = esc("; ".join(integrity))
    stages = sorted(app.stages, key=lambda s: s.metrics.executor_run_time_ms, reverse=True)[:TOP_STAGES]
    return (f"<details><summary><strong>{esc(app.name or app.app_id)}</strong> "
            f"<code>{esc(app_key(app.app_id, app.attempt_id))}</code></summary>{_facts(facts)}"
            f"{_stage_table(stages) if stages else ''}</details>")


def _facts(facts: Mapping[str, str]) -> str:
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts.items())
    return f'<dl class="facts">{items}</dl>'


def _stage_table(stages: Sequence[Stage]) -> str:
    headers = [("Stage", "text"), ("Name", "text"), ("Status", "text"), ("Tasks (failed)", "num"),
               ("Run time", "num"), ("Input", "num"), ("Shuffle read", "num"), ("Shuffle write", "num"),
               ("Spill (disk)", "num"), ("Task p50 / max", "num")]
    return table(headers, [_stage_row(s) for s in stages])


def _stage_row(s: Stage) -> str:
    m, q = s.metrics, s.tasks.duration_ms
    spread = f"{fmt_duration_ms(q.p50)} / {fmt_duration_ms(q.max)}" if q else "-"
    name = s.name if len(s.name) <= 60 else s.name[:59] + "\u2026"
    cells = [f"{s.stage_id}.{s.attempt_id}", f'<span title="{esc(s.name)}">{esc(name)}</span>', esc(s.status)]
    nums = [f"{s.num_tasks} ({s.num_failed_tasks})", fmt_duration_ms(m.executor_run_time_ms),
            fmt_bytes(m.input_bytes), fmt_bytes(m.shuffle_read_bytes), fmt_bytes(m.shuffle_write_bytes),
            fmt_bytes(m.disk_bytes_spilled), spread]
    return "<tr>" + "".join(_td(c) for c in cells) + "".join(_td(esc(n), num=True) for n in nums) + "</tr>"


def notes(lines: Sequence[str]) -> str:
    """The shared governance or methodology lines as a list."""
    return '<ul class="notes">' + "".join(f"<li>{inline_markdown(line)}</li>" for line in lines) + "</ul>"


def governance(report: Report) -> str:
    """Data-governance notes, worded once in ``reports.governance`` (which names the Markdown format)."""
    return notes(governance_lines(report))


def methodology(report: Report) -> str:
    """Methodology notes, worded once in ``reports.governance``."""
    return notes(methodology_lines(report))


def errors(report: Report) -> str:
    """Inputs that could not be read, so a partial analysis never looks complete."""
    items = "".join(f'<li><code>{esc(e.source)}</code>: <span class="err">{esc(e.message)}</span></li>'
                    for e in report.errors)
    return f"<ul>{items}</ul>"
