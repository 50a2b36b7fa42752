"""What differs between warehouse vendors, as data: SQL dialect, how the bill is counted, who pays.

Why a table instead of ``if vendor == "snowflake"`` in every rule: a rule asks the question
it means ("does this vendor bill warehouse credits?", "how is a table name quoted?") and a
new warehouse is one more entry here, not a hunt through the rules and the cost model.
Advice that is a vendor's own DDL (``ALTER WAREHOUSE``, ``bq update``) stays in the rule
that gives it, looked up by vendor name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Vendor:
    """One warehouse vendor's facts that rules, the cost model and reports rely on."""

    name: str
    bills: Literal["credits", "bytes"]  # warehouse credits (Snowflake) or bytes / slot-hours (BigQuery)
    pool: Literal["warehouse", "reservation"]  # who pays for a query's compute
    pruning: Literal["partitions", "bytes"]  # how a query's pruning shows: micro-partitions or bytes billed
    double_quoted_strings: bool  # "x" is a string literal (BigQuery) rather than an identifier
    identifier_quote: str  # around a table name in SQL the reports suggest
    star_except: str  # SELECT * EXCEPT (...) / EXCLUDE (...)
    free_preview: str = ""  # a free way to look at rows, when the vendor has one


SNOWFLAKE = Vendor(name="snowflake", bills="credits", pool="warehouse", pruning="partitions",
                   double_quoted_strings=False, identifier_quote="", star_except="EXCLUDE")
BIGQUERY = Vendor(name="bigquery", bills="bytes", pool="reservation", pruning="bytes",
                  double_quoted_strings=True, identifier_quote="`", star_except="EXCEPT",
                  free_preview="the table preview or bq head (free)")
VENDORS = {v.name: v for v in (SNOWFLAKE, BIGQUERY)}


def vendor(name: str) -> Vendor:
    """The facts of vendor ``name``; an unknown vendor is a programming error in a connector."""
    try:
        return VENDORS[name]
    except KeyError:
        raise ValueError(f"unknown warehouse vendor {name!r} (known: {', '.join(VENDORS)})") from None
