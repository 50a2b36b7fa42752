"""The report's data-governance and methodology sections, shared by Markdown and HTML.

A cost report travels further than the logs it came from (tickets, chat, review pages);
these sections say what it contains about people and data, and how sure its numbers are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.core.model import Application
from analyzer.core.report import Report
from reports.fmt import fmt_duration_ms, fmt_number

if TYPE_CHECKING:
    from analyzer.core.cost import WhatIf
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports

REDACTION_NOTE = (
    "Spark properties whose names look like credentials (secret, password, token, access key, "
    "credential) are replaced by `*********(redacted)` when the log is read; they never reach a report."
)


def governance_lines(report: Report) -> list[str]:
    """What the inputs contain, and how the report handles each kind of sensitive data."""
    return [
        *_spark_lines(report),
        *_warehouse_lines(report),
        "- Treat this report as internal: share it where its inputs (event logs, query history) may be read.",
    ]


def _spark_lines(report: Report) -> list[str]:
    """What Spark event logs contain (nothing to say for a warehouse-only report)."""
    if report.warehouses and not report.applications:
        return []
    users = sorted({a.user for a in report.applications if a.user})
    sql = sum(len(a.sql_executions) for a in report.applications)
    return [
        f"- **People**: the logs name {len(users)} Spark user(s); user names appear in the JSON output "
        "(`applications[].user`), not in the Markdown or HTML report.",
        f"- **Queries**: {sql} SQL execution(s) carry query descriptions and physical plans (table names, "
        "file locations, filter literals). The report shows descriptions cut to 200 characters and "
        "table locations where a finding needs them; it never copies rows of data.",
        "- **Infrastructure**: host names, executor ids, file paths of the logs and Spark properties "
        "(cluster sizes, memory settings) are kept because the recommendations depend on them.",
        f"- **Credentials**: {REDACTION_NOTE}",
    ]


def methodology_lines(report: Report) -> list[str]:
    """Where the figures come from, what is measured and what is estimated."""
    spark = _spark_methodology(report) if report.applications or not report.warehouses else []
    return [*spark, *_warehouse_methodology(report)]


def _spark_methodology(report: Report) -> list[str]:
    c = report.catalog
    prices = (f"Prices: catalog **{c.name}** ({c.description}), as of {c.as_of}, source {c.source}: "
              f"${c.vcpu_hour:.4f} per vCPU-hour and ${c.gib_hour:.5f} per GiB-hour."
              if c else "Prices: none (no catalog loaded).")
    return [
        "- **Measured**: every stage figure (tasks, run time, CPU, GC, bytes, spill) is read from the event "
        "logs and equals what Spark's History Server reports for them; sums include failed attempts.",
        f"- {prices} Override with `--prices FILE` (TOML with `as_of` and `source`); `--spot` applies the "
        "catalog's spot discount (`spot_discount`, with its `spot_source`) to executors.",
        "- **Cost of a run** = executor lifetimes x (cores x vCPU price + container memory x GiB price) "
        "+ the driver's; container memory = heap + overhead (max(384 MiB, 10 %)) + PySpark memory. "
        "Local-mode runs are priced as one machine with the driver's cores. When the log names its "
        "node types (Databricks) and the catalog prices them, executors and the driver are priced "
        "per node-hour (instance plus DBUs).",
        "- **Waste ledger**: executor core-hours are split, without overlap, into useful task time, "
        "failed or retried work, driver-only time (executors held while no job runs), skew tail and "
        "other idle cores; the driver is its own bucket.",
        LEDGER_NOTE,
        "- **What-if**: each run's stage DAG replayed on N executors (Sparklens' estimator, N at 10 % to "
        "500 % of the size it ran with), calibrated by real over simulated job time; the cost assumes a "
        "static cluster of N executors held for the whole run. The critical path is the run with a slot "
        "for every task: no cluster size runs faster.",
        "- **Estimated**: avoidable core-hours are each rule's estimate (see `deanalyze explain RULE_ID`); "
        "treat savings as an order of magnitude to prioritise work, not as a quote.",
        "- **Monthly projection**: `--runs-per-month`, or inferred from several runs of the same application "
        "name analysed together.",
        "- **Confidence**: incomplete or truncated logs, undecodable lines and missing task events are "
        "listed under each application; their figures cover only what was logged.",
    ]


def _warehouse_methodology(report: Report) -> list[str]:
    """How warehouse queries are priced, per vendor present in the report."""
    out: list[str] = []
    vendors = {c.vendor: c for c in report.warehouse_costs}
    if "snowflake" in vendors:
        c = vendors["snowflake"]
        out += [
            f"- **Snowflake cost per query**: each metered warehouse-hour's compute credits "
            f"(WAREHOUSE_METERING_HISTORY) are shared among the queries that executed in that hour by "
            f"execution time, queueing and compilation excluded (dbt-snowflake-monitoring's "
            f"`cost_per_query`); execution outside any metered hour is priced at the size's credits per "
            f"hour and marked estimated. Idle credits = metered compute − "
            f"`credits_attributed_compute_queries`. Cloud services are billed only above 10 % of the day's "
            f"compute. ${c.usd_per_credit:.2f} per credit.",
        ]
    if "bigquery" in vendors:
        c = vendors["bigquery"]
        out += [
            f"- **BigQuery cost per job**: on demand, ${c.usd_per_tib:.2f} per TiB of `total_bytes_billed` "
            f"(at least 10 MiB per table referenced; cache hits and failed jobs free; SCRIPT parents "
            f"excluded, their children carry the bytes); reservation jobs, slot-hours × "
            f"${c.slot_hour_usd:.3f} ({c.edition} edition, `--edition`). The free first TiB per month is "
            f"not deducted.",
        ]
    if out:
        out += [
            "- **Savings**: each rule reports avoidable usage in the unit the vendor bills (credits, TiB, "
            "slot-hours; see `deanalyze explain RULE_ID`), priced with the same catalog.",
            WAREHOUSE_LEDGER_NOTE,
            "- **Query patterns**: runs that differ only in their literals (the vendor's parameterized "
            "hash, else the normalized text) are one pattern; its cost is the sum of its runs' costs.",
        ]
    return out


def _warehouse_lines(report: Report) -> list[str]:
    """What warehouse query history contains, and how its SQL is shown."""
    if not report.warehouses:
        return []
    queries = sum(len(h.queries) for h in report.warehouses)
    users = len({u for h in report.warehouses for u in h.queries.frame["user"].dropna().unique() if u})
    shown = ("shown as written, literals included (`--show-sql-literals`)" if report.show_sql_literals else
             "shown with every literal replaced by `?` (`customer_id = ?`); `--show-sql-literals` opts out")
    return [f"- **Warehouse history**: {queries:,} queries by {users} user(s), with their SQL text. "
            f"SQL in this report is {shown}. User names and full query texts stay out of the report; "
            "warehouse credentials are never read into it (connections use the connector's own "
            "configuration)."]


_LEDGER = (
    "- **One ledger of claims**: each finding claims a resource ({what}). Claims are counted once each, the "
    "narrow ones ({narrow}) first and the broad ones ({broad}) on what is left; a finding counted after "
    "another says so and what it would save alone. A saving is net of what the change itself costs{cost}. "
    "Nothing is scaled to fit a bill: the total is the union of the claims and never exceeds the bill less "
    "what the changes cost.")
LEDGER_NOTE = _LEDGER.format(what="core-hours of a stage or of a waste bucket", narrow="a stage",
                             broad="a cluster size, driver-only time", cost="")
WAREHOUSE_LEDGER_NOTE = _LEDGER.format(
    what="a table's TiB or credits, a warehouse's credits or idle time, slot-hours",
    narrow="a table's scans, idle time", broad="a warehouse size, a pricing model",
    cost=" (a reservation's slot-hours, a bigger warehouse)")


def what_if_caption(w: WhatIf) -> str:
    """What the what-if table predicts, how well the model fits, and the critical path."""
    error = fmt_number(w.model_error * 100, 2)
    return (f"What-if (simulated; model error {error} % at the size it ran with): critical path "
            f"{fmt_duration_ms(w.critical_path_ms)}, the run time with unlimited {w.unit}. Costs assume "
            f"{w.unit} held for the whole run; the bill above counts them as they came and went.")


def stage_table_caption(shown: int, total: int) -> str:
    """Which stages the stage table lists and which run time it shows."""
    which = f"The {shown} of {total} stages" if shown < total else f"All {total} stages"
    return (f"{which} with the most task time: task time (sum) adds up every task's run time across "
            "executors; wall time runs from the stage's submission to its completion.")


def warehouse_idle_sentence(cost: WarehouseCost) -> str:
    """The two kinds of Snowflake idle, named once, so nobody adds them up."""
    idle = sum(t.idle_credits or 0.0 for t in cost.warehouses.values())
    return (f"Two kinds of idle, never to be added: the idle column is Snowflake's (metered credits with no "
            f"query running: {idle:,.2f} credits, metered compute − `credits_attributed_compute_queries`), "
            "while query and pattern costs share each busy warehouse-hour among its queries, the idle time "
            "inside that hour included (dbt-snowflake-monitoring's way).")


def integrity_notes(app: Application) -> list[str]:
    """What the reader could not trust in one application's log (plain text; renderers escape it)."""
    i, notes = app.integrity, []
    if i.truncated_tail:
        notes.append("the log ends in a cut-off line or frame (still being written, or copied mid-write)")
    if i.unparsed_lines:
        notes.append(f"{i.unparsed_lines} line(s) could not be decoded and were skipped ({i.first_error})")
    if i.tasks_expected and i.task_end_events < i.tasks_expected:
        notes.append(f"{i.tasks_expected - i.task_end_events} task end event(s) missing for finished stages")
    return notes
