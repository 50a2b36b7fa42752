"""The evidence of a finding as reports show it: empty values dropped, SQL literals masked.

Rules put only literal-masked SQL in evidence (``example_sql``); the raw text stays in the
model. ``--show-sql-literals`` swaps the raw text back in, looked up by ``example_query_id``.
"""

from __future__ import annotations

from analyzer.core.findings import Finding
from analyzer.core.report import Report


def display_evidence(finding: Finding, report: Report) -> dict[str, object]:
    """Evidence items worth showing, with raw SQL only when the user opted in."""
    shown = {k: v for k, v in finding.evidence.items() if v is not None and k != "example_query_id"}
    query_id = finding.evidence.get("example_query_id")
    if query_id and "example_sql" in shown:
        shown["example_sql"] = shown_sql(report, str(query_id), str(shown["example_sql"]))
    return shown


def shown_sql(report: Report, query_id: str, masked: str) -> str:
    """The SQL a report shows for a query: ``masked`` unless the user opted in to raw literals."""
    if not report.show_sql_literals:
        return masked
    rows = ((h.queries, h.queries.index_of(query_id)) for h in report.warehouses)
    raw = next((table[row].query_text for table, row in rows if row is not None), None)
    return raw or masked


def period_label(finding: Finding) -> str:
    """What a finding's saving is counted over: one Spark run, or the warehouse window read."""
    return "per run" if "app_id" in finding.subject else "over the window analysed"
