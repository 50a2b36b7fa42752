"""The text sections of the HTML dashboard: the Markdown report's content, as HTML.

Same order and figures as ``markdown_report`` (summary, findings, costs, applications,
governance, methodology, unreadable inputs); every input string passes ``esc``. Cells of
sortable tables carry a ``data-sort`` key so sorting by money or severity is numeric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analyzer.core.cost import BUCKETS, AppCost, WhatIf
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from analyzer.core.report import Report
from reports.evidence import (
    billed_units,
    compute_credits,
    early_warnings,
    period_label,
    savings_summary,
    shown_sql,
)
from reports.fmt import (
    app_key,
    fmt_bytes,
    fmt_duration_ms,
    fmt_time_ms,
    fmt_usd,
    fmt_usd_column,
    vendor_name,
)
from reports.governance import (
    governance_lines,
    integrity_notes,
    methodology_lines,
    stage_table_caption,
    warehouse_idle_sentence,
    what_if_caption,
)
from reports.html_findings import prose, table
from reports.html_findings import td as _td
from reports.html_page import esc, inline_markdown
from reports.markdown_report import TOP_STAGES, bill_usd, top_actions

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports

_BUCKET_HEADERS = {"useful": "Useful", "failed_work": "Failed work", "driver_only": "Driver only",
                   "skew_tail": "Skew tail", "idle_cores": "Idle cores", "driver": "Driver"}


def section(anchor: str, title: str, inner: str) -> str:
    """A titled card of the page that the navigation bar links to."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{inner}</section>'


def summary(report: Report) -> str:
    """Headline numbers and the top actions."""
    html = '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="note">{esc(note)}</div></div>' for label, value, note in _cards(report)) + "</div>"
    actions: list[Finding] = top_actions(report)
    if not actions:
        return html + '<p class="muted">No rule found anything worth changing.</p>'
    items = "".join(f"<li><strong>{prose(f.title)}</strong> \u2014 saves "
                    f"{esc(fmt_usd(f.estimated_savings_usd))} {esc(period_label(f))} "
                    f"(<code>{esc(f.rule_id)}</code>, {esc(f.subject_label())})</li>"
                    for f in actions)
    return html + f'<h3>Top actions</h3><ol class="actions">{items}</ol>'


def _cards(report: Report) -> list[tuple[str, str, str]]:
    """(label, value, note) of each headline card, the Markdown summary's figures."""
    total = bill_usd(report)
    monthly = [c.monthly_usd for c in report.costs if c.monthly_usd is not None]
    severe = sum(f.severity_rank >= 2 for f in report.findings)
    priced = report.costs or report.warehouse_costs
    saving, change, _ = savings_summary(report)
    note = "no bill"
    if total:
        note = f"{saving / total:.0%} of the bill, each resource counted once" + (
            f", net of {fmt_usd(change)} the changes cost" if change else "")
    cards = [("Total cost", fmt_usd(total) if priced else "-", "for what was read"),
             ("Potential savings", fmt_usd(saving), note),
             ("Findings", str(len(report.findings) - len(early_warnings(report))),
              f"{severe} high or critical; {len(early_warnings(report))} early warning(s)"),
             ("Application runs", str(len(report.applications)), f"{len(report.errors)} input(s) unreadable")]
    if report.warehouses:
        queries = sum(len(h.queries) for h in report.warehouses)
        cards[-1] = ("Warehouse queries", f"{queries:,}", f"{len(report.errors)} input(s) unreadable")
    if monthly:
        cards.insert(1, ("Monthly cost", fmt_usd(sum(monthly)), "applications with a known frequency"))
    return cards


def warehouse_tables(report: Report) -> str:
    """Per warehouse/project bill of each warehouse history, in the units its vendor bills."""
    out = []
    for h, c in zip(report.warehouses, report.warehouse_costs, strict=True):
        totals = sorted(c.warehouses.values(), key=lambda t: -t.usd)
        usd = fmt_usd_column([t.usd for t in totals])
        if h.vendor == "snowflake":
            headers = [("Warehouse", "text"), ("Queries", "num"), ("Cost", "num"), ("Billed", "num"),
                       ("Of which compute credits (metered)", "num"),
                       ("Of which cloud services credits", "num"),
                       ("Of compute, idle (no query running)", "num")]
            rows = ["<tr>" + _td(esc(t.name)) + _td(f"{t.query_count:,}", t.query_count, num=True)
                    + _td(esc(u), t.usd, num=True) + _td(esc(billed_units(t, c)), t.usd, num=True)
                    + _td(compute_credits(t), t.compute_credits, num=True)
                    + _td(f"{t.cloud_services_credits:,.2f}", t.cloud_services_credits, num=True)
                    + _td("-" if t.idle_credits is None else f"{t.idle_credits:,.2f}", t.idle_credits or 0,
                          num=True) + "</tr>"
                    for t, u in zip(totals, usd, strict=True)]
            after = f"<p class=muted>{inline_markdown(warehouse_idle_sentence(c))}</p>"
        else:
            headers = [("Reservation / project", "text"), ("Kind", "text"), ("Jobs", "num"), ("Cost", "num"),
                       ("Billed", "num")]
            rows = ["<tr>" + _td(esc(t.name)) + _td(esc(t.kind))
                    + _td(f"{t.query_count:,}", t.query_count, num=True)
                    + _td(esc(u), t.usd, num=True) + _td(esc(billed_units(t, c)), t.usd, num=True) + "</tr>"
                    for t, u in zip(totals, usd, strict=True)]
            after = ""
        out.append(f"<h3>{esc(vendor_name(h.vendor))}: <code>{esc(h.source)}</code></h3>"
                   + table(headers, rows, sortable=True) + after + notes(list(c.notes))
                   + _patterns(c, report))
    return "".join(out)


def _patterns(cost: WarehouseCost, report: Report) -> str:
    """The costliest query patterns of one history (runs differing only in literals)."""
    if not cost.patterns:
        return ""
    headers = [("#", "num"), ("Runs", "num"), ("Cost", "num"), ("Share", "num"), ("Paid by", "text"),
               ("Example (costliest run)", "text")]
    usd = fmt_usd_column([p.usd for p in cost.patterns])
    rows = ["<tr>" + _td(str(rank), rank, num=True) + _td(f"{p.runs:,}", p.runs, num=True)
            + _td(esc(u), p.usd, num=True) + _td(f"{p.share:.1%}", p.share, num=True)
            + _td(esc(", ".join(p.pools)))
            + _td(f"<code>{esc(shown_sql(report, p.example_query_id, p.example_sql))}</code>") + "</tr>"
            for rank, (p, u) in enumerate(zip(cost.patterns, usd, strict=True), 1)]
    return "<h4>Costliest query patterns</h4>" + table(headers, rows, sortable=True)


def cost_table(costs: Sequence[AppCost]) -> str:
    """The bill and waste ledger of each run, most expensive first; one money format per column."""
    if not costs:
        return '<p class="muted">No cost could be computed.</p>'
    monthly = any(c.runs_per_month is not None for c in costs)  # two empty columns would only cost width
    headers = [("Application", "text"), ("Cost / run", "num"),
               *([("Runs / month", "num"), ("Monthly", "num")] if monthly else []),
               *[(_BUCKET_HEADERS[b], "num") for b in BUCKETS], ("Savings", "num")]
    ranked = sorted(costs, key=lambda c: -c.total_usd)
    columns: list[list[float | None]] = [[c.total_usd for c in ranked], [c.monthly_usd for c in ranked],
               *[[c.ledger_usd.get(b) for c in ranked] for b in BUCKETS],
               [c.savings_usd for c in ranked]]
    text = [fmt_usd_column(col) for col in columns]
    rows = [_cost_row(c, monthly, [col[i] for col in text]) for i, c in enumerate(ranked)]
    notes_ = sorted({n for c in costs for n in c.notes})
    return table(headers, rows, sortable=True) + (notes(notes_) if notes_ else "")


def _cost_row(c: AppCost, monthly: bool, money: list[str]) -> str:
    name = f"{esc(c.app_name)}<br><code>{esc(app_key(c.app_id, c.attempt_id))}</code>"
    runs = "-" if c.runs_per_month is None else f"{c.runs_per_month:.1f}"
    cells = [_td(name, c.app_name.lower()), _td(esc(money[0]), c.total_usd, num=True)]
    if monthly:
        cells += [_td(runs, c.runs_per_month or 0, num=True),
                  _td(esc(money[1]), c.monthly_usd or 0, num=True)]
    ledger = [c.ledger_usd.get(b, 0.0) for b in BUCKETS]
    cells += [_td(esc(text), v, num=True) for text, v in zip(money[2:-1], ledger, strict=True)]
    cells.append(_td(esc(money[-1]), c.savings_usd, num=True))
    return "<tr>" + "".join(cells) + "</tr>"


def applications(report: Report) -> str:
    """Each run's facts, log integrity, top stages and what-if, folded so long reports stay scannable."""
    if not report.applications:
        return '<p class="muted">No application could be read.</p>'
    costs = {(c.app_id, c.attempt_id): c for c in report.costs}
    return "".join(_application(a, costs.get((a.app_id, a.attempt_id))) for a in report.applications)


def _application(app: Application, cost: AppCost | None) -> str:
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
    stage_html = (f"<p class=muted>{esc(stage_table_caption(len(stages), len(app.stages)))}</p>"
                  + _stage_table(stages)) if stages else ""
    what_if = _what_if(cost.what_if) if cost is not None and cost.what_if is not None else ""
    return (f"<details><summary><strong>{esc(app.name or app.app_id)}</strong> "
            f"<code>{esc(app_key(app.app_id, app.attempt_id))}</code></summary>{_facts(facts)}"
            f"{stage_html}{what_if}</details>")


def _what_if(w: WhatIf) -> str:
    """Sparklens' table: predicted wall time and cost per executor count, and the critical path."""
    usd = fmt_usd_column([r.usd for r in w.rows])
    rows = [("<tr class='observed'>" if r.observed else "<tr>")
            + _td(f"{r.executors}{' (as run)' if r.observed else ''}", r.executors, num=True)
            + _td(esc(fmt_duration_ms(r.predicted_ms)), r.predicted_ms, num=True)
            + _td(esc(u), r.usd, num=True)
            + "</tr>" for r, u in zip(w.rows, usd, strict=True)]
    return f"<h4>What-if</h4><p class=muted>{esc(what_if_caption(w))}</p>" + table(
        [(w.unit.capitalize(), "num"), ("Predicted wall time", "num"), ("Cost per run", "num")], rows)


def _facts(facts: Mapping[str, str]) -> str:
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts.items())
    return f'<dl class="facts">{items}</dl>'


def _stage_table(stages: Sequence[Stage]) -> str:
    headers = [("Stage", "text"), ("Name", "text"), ("Status", "text"), ("Tasks (failed)", "num"),
               ("Task time (sum)", "num"), ("Wall time", "num"), ("Input", "num"), ("Shuffle read", "num"),
               ("Shuffle write", "num"), ("Spill (disk)", "num"), ("Task p50 / max", "num")]
    return table(headers, [_stage_row(s) for s in stages])


def _stage_row(s: Stage) -> str:
    m, q = s.metrics, s.tasks.duration_ms
    spread = f"{fmt_duration_ms(q.p50)} / {fmt_duration_ms(q.max)}" if q else "-"
    name = s.name if len(s.name) <= 60 else s.name[:59] + "\u2026"
    cells = [f"{s.stage_id}.{s.attempt_id}", f'<span title="{esc(s.name)}">{esc(name)}</span>', esc(s.status)]
    nums = [f"{s.num_tasks} ({s.num_failed_tasks})", fmt_duration_ms(m.executor_run_time_ms),
            fmt_duration_ms(s.duration_ms), fmt_bytes(m.input_bytes), fmt_bytes(m.shuffle_read_bytes),
            fmt_bytes(m.shuffle_write_bytes), fmt_bytes(m.disk_bytes_spilled), spread]
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
