"""The tables of the Markdown report: costs per run, warehouse bills, applications, stages, what-if.

Split from ``markdown_report`` (summary and findings) to keep both readable. Money in one
column shares one format (``fmt_usd_column``); labels name the unit their values are in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.core.cost import AppCost, WhatIf
from analyzer.core.model import Application, Stage
from analyzer.core.report import Report
from reports.evidence import billed_units, compute_credits, shown_sql
from reports.fmt import (
    app_key,
    fmt_bytes,
    fmt_duration_ms,
    fmt_time_ms,
    fmt_usd_column,
    vendor_name,
)
from reports.governance import integrity_notes, stage_table_caption, warehouse_idle_sentence, what_if_caption
from reports.markdown_text import md_prose, md_text

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports

TOP_STAGES = 5
_BUCKETS = ("useful", "failed_work", "driver_only", "skew_tail", "idle_cores", "driver")


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table of already-escaped cells."""
    return [
        f"| {' | '.join(headers)} |",
        "|" + "---|" * len(headers),
        *(f"| {' | '.join(r)} |" for r in rows),
    ]


def money_columns(rows: list[list[float | None]]) -> list[list[str]]:
    """Rows of amounts formatted column by column, one money format per column."""
    columns = [fmt_usd_column(list(col)) for col in zip(*rows, strict=True)] if rows else []
    return [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in rows]


def cost_table(report: Report) -> list[str]:
    """The bill and waste ledger of each run, most expensive first."""
    if not report.costs:
        return []
    costs = sorted(report.costs, key=lambda c: -c.total_usd)
    amounts = money_columns(
        [[c.total_usd, c.monthly_usd, *(c.ledger_usd[b] for b in _BUCKETS), c.savings_usd] for c in costs]
    )
    rows = []
    for c, money in zip(costs, amounts, strict=True):
        runs = "-" if c.runs_per_month is None else f"{c.runs_per_month:.1f}"
        rows.append(
            [
                f"{md_text(c.app_name)} (`{md_text(app_key(c.app_id, c.attempt_id))}`)",
                money[0],
                runs,
                *money[1:],
            ]
        )
    out = ["## Cost estimate", ""]
    out += table(
        [
            "application",
            "cost per run",
            "runs / month",
            "monthly",
            "useful",
            "failed work",
            "driver only",
            "skew tail",
            "idle cores",
            "driver",
            "savings",
        ],
        rows,
    )
    notes = sorted({n for c in costs for n in c.notes})
    return [*out, "", *(f"- {md_text(n)}" for n in notes), *([""] if notes else [])]


def warehouse_tables(report: Report) -> list[str]:
    """Per warehouse / reservation / project bill of each history, in the units its vendor bills."""
    out: list[str] = []
    for h, c in zip(report.warehouses, report.warehouse_costs, strict=True):
        totals = sorted(c.warehouses.values(), key=lambda t: -t.usd)
        usd = fmt_usd_column([t.usd for t in totals])
        out += [f"## {vendor_name(h.vendor)} cost: `{md_text(h.source)}`", ""]
        if h.vendor == "snowflake":
            rows = [
                [
                    md_text(t.name),
                    f"{t.query_count:,}",
                    u,
                    billed_units(t, c),
                    compute_credits(t),
                    f"{t.cloud_services_credits:,.2f}",
                    "-" if t.idle_credits is None else f"{t.idle_credits:,.2f}",
                ]
                for t, u in zip(totals, usd, strict=True)
            ]
            out += table(
                [
                    "warehouse",
                    "queries",
                    "cost",
                    "billed",
                    "of which compute credits (metered)",
                    "of which cloud services credits",
                    "of compute, idle (no query running)",
                ],
                rows,
            )
            out += ["", md_prose(warehouse_idle_sentence(c))]
        else:
            rows = [
                [
                    md_text(t.name),
                    t.kind,
                    f"{t.query_count:,}",
                    u,
                    billed_units(t, c),
                ]
                for t, u in zip(totals, usd, strict=True)
            ]
            out += table(["reservation / project", "kind", "jobs", "cost", "billed"], rows)
        if c.projects:
            projects = list(c.projects.values())
            money = money_columns([[p.on_demand_usd, p.editions_usd, p.actual_usd] for p in projects])
            out += [
                "",
                *table(
                    ["project", "jobs", "on-demand", f"editions ({c.edition})", "paid"],
                    [[md_text(p.project), f"{p.jobs:,}", *m] for p, m in zip(projects, money, strict=True)],
                ),
            ]
        out += ["", *(f"- {md_text(n)}" for n in c.notes), ""]
        out += pattern_table(c, report)
    return out


def pattern_table(cost: WarehouseCost, report: Report) -> list[str]:
    """The costliest query patterns: where to look first."""
    if not cost.patterns:
        return []
    usd = fmt_usd_column([p.usd for p in cost.patterns])
    rows = [
        [
            str(rank),
            f"{p.runs:,}",
            u,
            f"{p.share:.1%}",
            md_text(", ".join(p.pools)),
            md_prose(shown_sql(report, p.example_query_id, p.example_sql)),
        ]
        for rank, (p, u) in enumerate(zip(cost.patterns, usd, strict=True), 1)
    ]
    return [
        "### Costliest query patterns",
        "",
        "Runs that differ only in their literals are one pattern; the example is its costliest run."
        + (
            " A run's cost is its share of the warehouse-hours it ran in, idle time inside those hours "
            "included."
            if cost.vendor == "snowflake"
            else ""
        ),
        "",
        *table(["#", "runs", "cost", "share", "paid by", "example"], rows),
        "",
    ]


def application(app: Application, cost: AppCost | None) -> list[str]:
    """One run's facts, log integrity, top stages and what-if."""
    out = [
        f"## {md_text(app.name) or md_text(app.app_id)} (`{md_text(app_key(app.app_id, app.attempt_id))}`)",
        "",
        f"- Source: `{md_text(app.source)}`",
        f"- Spark {md_text(app.spark_version or '?')}, master `{md_text(app.master or '?')}`, "
        f"started {fmt_time_ms(app.start_time_ms)}, ran {fmt_duration_ms(app.duration_ms)}"
        f"{'' if app.complete else ' (incomplete: no end recorded)'}",
        f"- Executors: {sum(1 for e in app.executors if not e.is_driver)}, "
        f"jobs: {len(app.jobs)}, SQL executions: {len(app.sql_executions)}, stages: {len(app.stages)}",
    ]
    out += [f"- Log integrity: {md_text(n)}" for n in integrity_notes(app)]
    stages = sorted(app.stages, key=lambda s: s.metrics.executor_run_time_ms, reverse=True)[:TOP_STAGES]
    if stages:
        out += ["", stage_table_caption(len(stages), len(app.stages)), ""]
        out += table(
            [
                "stage",
                "name",
                "status",
                "tasks (failed)",
                "task time (sum)",
                "wall time",
                "input",
                "shuffle read",
                "shuffle write",
                "spill (disk)",
                "task time p50 / max",
            ],
            [_stage_row(s) for s in stages],
        )
    if cost is not None and cost.what_if is not None:
        out += ["", *what_if_table(cost.what_if)]
    return [*out, ""]


def _stage_row(s: Stage) -> list[str]:
    m, q = s.metrics, s.tasks.duration_ms
    spread = f"{fmt_duration_ms(q.p50)} / {fmt_duration_ms(q.max)}" if q else "-"
    return [
        f"{s.stage_id}.{s.attempt_id}",
        md_text(s.name)[:60],
        s.status,
        f"{s.num_tasks} ({s.num_failed_tasks})",
        fmt_duration_ms(m.executor_run_time_ms),
        fmt_duration_ms(s.duration_ms),
        fmt_bytes(m.input_bytes),
        fmt_bytes(m.shuffle_read_bytes),
        fmt_bytes(m.shuffle_write_bytes),
        fmt_bytes(m.disk_bytes_spilled),
        spread,
    ]


def what_if_table(w: WhatIf) -> list[str]:
    """Sparklens' table: predicted wall time and cost per executor count, and the critical path."""
    usd = fmt_usd_column([r.usd for r in w.rows])
    rows = [
        [
            f"**{r.executors}** (as run)" if r.observed else str(r.executors),
            fmt_duration_ms(r.predicted_ms),
            u,
        ]
        for r, u in zip(w.rows, usd, strict=True)
    ]
    return [
        md_text(what_if_caption(w)),
        "",
        *table([w.unit, "predicted wall time", "cost per run"], rows),
    ]
