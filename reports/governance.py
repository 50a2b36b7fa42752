"""The report's data-governance and methodology sections, shared by Markdown and HTML.

A cost report travels further than the logs it came from (tickets, chat, review pages);
these sections say what it contains about people and data, and how sure its numbers are.
"""

from __future__ import annotations

from analyzer.model import Application
from analyzer.report import Report

REDACTION_NOTE = (
    "Spark properties whose names look like credentials (secret, password, token, access key, "
    "credential) are replaced by `*********(redacted)` when the log is read; they never reach a report."
)


def governance_lines(report: Report) -> list[str]:
    """What the inputs contain, and how the report handles each kind of sensitive data."""
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
        *_warehouse_lines(report),
        "- Treat this report as internal: share it where the event logs themselves may be read.",
    ]


def methodology_lines(report: Report) -> list[str]:
    """Where the figures come from, what is measured and what is estimated."""
    c = report.catalog
    prices = (f"Prices: catalog **{c.name}** ({c.description}), as of {c.as_of}, source {c.source}: "
              f"${c.vcpu_hour:.4f} per vCPU-hour and ${c.gib_hour:.5f} per GiB-hour."
              if c else "Prices: none (no catalog loaded).")
    return [
        "- **Measured**: every stage figure (tasks, run time, CPU, GC, bytes, spill) is read from the event "
        "logs and equals what Spark's History Server reports for them; sums include failed attempts.",
        f"- {prices} Override with `--prices FILE` (TOML with `as_of` and `source`); `--spot` applies the "
        "catalog's spot discount to executors.",
        "- **Cost of a run** = executor lifetimes x (cores x vCPU price + container memory x GiB price) "
        "+ the driver's; container memory = heap + overhead (max(384 MiB, 10 %)) + PySpark memory. "
        "Local-mode runs are priced as one machine with the driver's cores. When the log names its "
        "node types (Databricks) and the catalog prices them, executors and the driver are priced "
        "per node-hour (instance plus DBUs).",
        "- **Waste ledger**: executor core-hours are split, without overlap, into useful task time, "
        "failed or retried work, driver-only time (executors held while no job runs), skew tail and "
        "other idle cores; the driver is its own bucket. Each finding's saving comes from one bucket and "
        "is scaled down if the findings of a bucket would exceed it, so savings never add up to more "
        "than the bill.",
        "- **Estimated**: avoidable core-hours are each rule's estimate (see `deanalyze explain RULE_ID`); "
        "treat savings as an order of magnitude to prioritise work, not as a quote.",
        "- **Monthly projection**: `--runs-per-month`, or inferred from several runs of the same application "
        "name analysed together.",
        "- **Confidence**: incomplete or truncated logs, undecodable lines and missing task events are "
        "listed under each application; their figures cover only what was logged.",
    ]


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
