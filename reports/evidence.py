"""The evidence and the claim of a finding as reports show them.

Empty values are dropped, SQL literals masked (rules put only literal-masked SQL in evidence,
``example_sql``; ``--show-sql-literals`` swaps the raw text back in, looked up by
``example_query_id``). Lists and mappings become small tables instead of Python reprs. The
claim (``analyzer.core.ledger``) is worded so that every figure printed beside a dollar
amount converts to it with the stated price.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analyzer.core.findings import Claim, Finding
from analyzer.core.report import Report
from analyzer.core.sql_text import mask_literals
from reports.fmt import UNIT_PRICE_WORDS, evidence_label, fmt_evidence, fmt_units, fmt_usd

if TYPE_CHECKING:  # pandas-backed: only for warehouse reports
    from analyzer.core.warehouse_cost import WarehouseCost, WarehouseTotal

#: An evidence table: (title, column labels, rows of formatted cells).
EvidenceTable = tuple[str, list[str], list[list[str]]]
# Spark's short call site: ``collect at <console>:23``, ``save at NativeMethodAccessorImpl.java:0``.
_CALL_SITE = re.compile(r"[\w$.<>-]+ at \S+:\d+\Z")
_COUNT_CURVES = {"simulated_job_time_ms_by_count": ("executors", "simulated job time")}


def display_evidence(finding: Finding, report: Report) -> dict[str, object]:
    """Scalar evidence items worth showing, with raw SQL only when the user opted in."""
    shown: dict[str, object] = {}
    for k, v in finding.evidence.items():
        if v is None or k == "example_query_id" or isinstance(v, Mapping):
            continue
        if isinstance(v, list | tuple):  # scalars inline; lists of records become tables
            if v and not any(isinstance(item, Mapping) for item in v):
                shown[k] = ", ".join(_cell(_unit_key(k), item) for item in v)
            continue
        shown[k] = v
    if "sql_description" in shown:
        shown["sql_description"] = spark_sql(str(shown["sql_description"]), report.show_sql_literals)
    query_id = finding.evidence.get("example_query_id")
    if query_id and "example_sql" in shown:
        shown["example_sql"] = shown_sql(report, str(query_id), str(shown["example_sql"]))
    return shown


def evidence_tables(finding: Finding) -> list[EvidenceTable]:
    """Lists and mappings of the evidence as small tables (never a Python dict in a cell)."""
    out = []
    for key, value in finding.evidence.items():
        if isinstance(value, Mapping) and value:
            out.append(_mapping_table(key, value))
        elif isinstance(value, list | tuple) and value and any(isinstance(item, Mapping) for item in value):
            out.append(_list_table(key, value))
    return out


def _unit_key(key: str) -> str:
    """The key whose suffix names the unit of a list's items: ``wasted_ms_bounds`` -> ``_ms``."""
    return next((f"x{unit}" for unit in ("_ms", "_bytes", "_usd") if f"{unit}_" in key), key)


def _singular(key: str) -> str:
    word = evidence_label(key)
    return word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")


def _mapping_table(key: str, value: Mapping[object, object]) -> EvidenceTable:
    names = _COUNT_CURVES.get(key, (_singular(key), "count" if all(isinstance(v, int) for v in value.values())
                                    else "value"))
    unit_key = key.removesuffix("_by_count") if key in _COUNT_CURVES else key
    rows = [[str(k), fmt_evidence(unit_key, v) if v is not None else "-"] for k, v in value.items()]
    return evidence_label(key), [names[0] or "", names[1]], rows


def _list_table(key: str, value: Sequence[object]) -> EvidenceTable:
    records = [item for item in value if isinstance(item, Mapping)]
    if len(records) == len(value):
        columns = list(dict.fromkeys(str(k) for item in records for k in item))
        rows = [[_cell(c, item.get(c)) for c in columns] for item in records]
        return evidence_label(key), [evidence_label(c) for c in columns], rows
    return evidence_label(key), [_singular(key)], [[_cell(key, item)] for item in value]


def _cell(key: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt_evidence(key, value)


def claim_units(claim: Claim | None, finding: Finding) -> str:
    """What the saving is made of: ``24.49 TiB billed × $6.25/TiB − $36.00 the change costs``.

    The figures convert to the finding's dollars with the stated price: counted units times the
    unit price, less what the change costs, never below zero.
    """
    if claim is None:
        return fmt_units(finding.avoidable_core_hours, "core_hours")
    price = f"{fmt_usd(claim.usd_per_unit)}/{UNIT_PRICE_WORDS.get(claim.unit, claim.unit)}"
    text = f"{fmt_units(claim.counted, claim.unit)} × {price}"
    if claim.change_cost_usd:
        text += f" − {fmt_usd(claim.change_cost_usd)} the change costs"
    return text


def claim_note(claim: Claim | None) -> str:
    """One sentence when the ledger counted less than the rule asked, or the change costs money."""
    if claim is None:
        return ""
    parts = []
    if claim.note:
        parts.append(claim.note[0].upper() + claim.note[1:])
        if claim.standalone_usd > 0:
            parts.append(f"alone, it would save {fmt_usd(claim.standalone_usd)}")
    if claim.change_cost_usd and claim.counted * claim.usd_per_unit <= claim.change_cost_usd:
        parts.append("what is left no longer pays for the change")
    return "; ".join(parts) + ("." if parts else "")


def billed_units(total: WarehouseTotal, cost: WarehouseCost) -> str:
    """What a warehouse, reservation or project was billed, in the unit and at the price of its bill.

    ``21.25 credits × $3.00/credit``: the figure beside a pool's cost converts to it exactly
    (Snowflake: compute plus billed cloud services; BigQuery on demand: TiB; a reservation:
    slot-hours).
    """
    if cost.vendor == "snowflake":
        units, unit = total.compute_credits + total.cloud_services_credits, "credits"
        price = cost.usd_per_credit
    elif total.kind == "reservation":
        units, unit, price = total.slot_hours, "slot_hours", cost.slot_hour_usd
    else:
        units, unit, price = total.tib_billed, "tib_billed", cost.usd_per_tib
    return f"{fmt_units(units, unit, digits=4)} × {fmt_usd(price)}/{UNIT_PRICE_WORDS[unit]}"


def compute_credits(total: WarehouseTotal) -> str:
    """Compute credits, marked when estimated from execution time (no metering rows)."""
    estimated = not total.metered and total.compute_credits > 0
    return f"{total.compute_credits:,.2f}" + (" (estimated)" if estimated else "")


def shown_sql(report: Report, query_id: str, masked: str) -> str:
    """The SQL a report shows for a query: ``masked`` unless the user opted in to raw literals."""
    if not report.show_sql_literals:
        return masked
    rows = ((h.queries, h.queries.index_of(query_id)) for h in report.warehouses)
    raw = next((table[row].query_text for table, row in rows if row is not None), None)
    return raw or masked


def spark_sql(text: str, show_literals: bool) -> str:
    """A Spark SQL description as reports show it: literals masked as in warehouse SQL, unless opted in.

    Spark keeps the statement as submitted, so an email or a card number in a ``WHERE`` would
    otherwise reach every report. Spark SQL reads ``"..."`` as a string, hence
    ``double_quoted_strings``. A call site (what Spark shows when no SQL text was given) keeps
    its line number.
    """
    if show_literals or _CALL_SITE.match(text):  # ``collect at <console>:23``: code, not a statement
        return text
    return mask_literals(text, double_quoted_strings=True)


def period_label(finding: Finding) -> str:
    """What a finding's saving is counted over: one Spark run, or the warehouse window read."""
    return "per run" if "app_id" in finding.subject else "over the window analysed"


def main_findings(report: Report) -> list[Finding]:
    """Findings above ``info``: the ranked list."""
    return [f for f in report.findings if f.severity != "info"]


def early_warnings(report: Report) -> list[Finding]:
    """``info`` findings: problems seen in runs too small for them to matter yet."""
    return [f for f in report.findings if f.severity == "info"]


def savings_summary(report: Report) -> tuple[float, float, int]:
    """(total saving, what the recommended changes cost, findings counted after another on one resource)."""
    findings = main_findings(report)
    saving = sum(f.estimated_savings_usd for f in findings)
    change = sum(f.claim.change_cost_usd for f in findings if f.claim and f.estimated_savings_usd > 0)
    shared = sum(1 for f in findings if f.claim and f.claim.overlaps_with)
    return saving, change, shared
