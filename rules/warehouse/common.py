"""Measurements the warehouse rules share: who pays for a query, in which unit, and how much.

A warehouse rule reports avoidable usage in the unit the vendor bills, so that the cost
model can price it later: Snowflake credits (the query's share of metered warehouse time),
BigQuery on-demand TiB billed, or BigQuery reservation slot-hours. Nothing here knows a price.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from analyzer.model import MeteringHour, QueryRecord, TableStorage, WarehouseHistory
from analyzer.sql_text import mask_literals, normalize_sql, same_table
from analyzer.warehouse_usage import (
    CreditShare,
    bigquery_pool,
    history_query_credits,
    ran_on_warehouse,
    slot_hours,
    tib_billed,
)

GiB = 1024**3
TiB = 1024**4
MS_PER_DAY = 86_400_000
DAYS_PER_MONTH = 30.44
SQL_SNIPPET_CHARS = 300
# Leading comments, whitespace and parentheses, then SELECT or WITH.
_READ_HEAD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/|\()*(?:select|with)\b", re.IGNORECASE | re.DOTALL)

# Per-history results several rules need, kept for the last history only (by identity).
_cache: dict[str, tuple[WarehouseHistory, Any]] = {}


def _cached(name: str, history: WarehouseHistory, compute: Callable[[], Any]) -> Any:
    hit = _cache.get(name)
    if hit is None or hit[0] is not history:
        hit = _cache[name] = (history, compute())
    return hit[1]


def query_credits(history: WarehouseHistory) -> dict[str, CreditShare]:
    """Snowflake compute credits per query id (cached for the last history: several rules ask)."""
    return history_query_credits(history)


def metering_rows(history: WarehouseHistory, warehouse: str) -> list[MeteringHour]:
    """The metering hours of one warehouse."""
    def group() -> dict[str, list[MeteringHour]]:
        out: dict[str, list[MeteringHour]] = {}
        for m in history.metering:
            out.setdefault(m.warehouse, []).append(m)
        return out
    return _cached("metering", history, group).get(warehouse, [])


def query_usage(history: WarehouseHistory, q: QueryRecord) -> dict[str, float]:
    """What ``q`` was billed, in its billing unit: credits, tib_billed or slot_hours."""
    if q.vendor == "snowflake":
        share = query_credits(history).get(q.query_id)
        return {"credits": share.credits if share else 0.0}
    if q.warehouse:
        return {"slot_hours": slot_hours(q)}
    return {"tib_billed": tib_billed(q)}


def add_usage(items: Iterable[Mapping[str, float]], fraction: float = 1.0) -> dict[str, float]:
    """Sum usage mappings unit by unit, times ``fraction``."""
    out: dict[str, float] = {}
    for usage in items:
        for unit, value in usage.items():
            out[unit] = out.get(unit, 0.0) + value * fraction
    return {unit: round(value, 6) for unit, value in out.items()}


def paid_evidence(usage: Mapping[str, float]) -> dict[str, float]:
    """``paid_<unit>`` evidence keys (``assign_warehouse_savings`` prices them as ``paid_usd``)."""
    return {f"paid_{unit}": round(value, 6) for unit, value in usage.items()}


def is_paid(history: WarehouseHistory, q: QueryRecord) -> bool:
    """True when the query cost something (not a result-cache hit, not free)."""
    return not q.cache_hit and any(v > 0 for v in query_usage(history, q).values())


def pool_subject(q: QueryRecord) -> dict[str, object]:
    """The finding subject naming who pays: the Snowflake warehouse, BigQuery reservation or project."""
    if q.vendor == "snowflake":
        return {"vendor": "snowflake", "warehouse": q.warehouse}
    if q.warehouse:
        return {"vendor": q.vendor, "reservation": q.warehouse, "project": q.project}
    return {"vendor": q.vendor, "project": bigquery_pool(q)}


def pool_key(q: QueryRecord) -> str:
    """A grouping key for who pays (warehouse, reservation or project)."""
    return (q.warehouse or "") if q.vendor == "snowflake" else bigquery_pool(q)


def fingerprint(q: QueryRecord) -> str:
    """The vendor's parameterized hash when present, else a hash of the normalized text."""
    if q.query_hash:
        return q.query_hash
    text = normalize_sql(q.query_text, double_quoted_strings=q.vendor == "bigquery")
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def snippet(q: QueryRecord) -> str:
    """The query text with its literals masked, shortened for evidence."""
    masked = " ".join(mask_literals(q.query_text, double_quoted_strings=q.vendor == "bigquery").split())
    return masked if len(masked) <= SQL_SNIPPET_CHARS else masked[: SQL_SNIPPET_CHARS - 1] + "…"


def find_table(history: WarehouseHistory, name: str) -> TableStorage | None:
    """The stored size/layout of a table named in SQL or ``referenced_tables``."""
    return next((t for t in history.tables if same_table(t.table, name)), None)


def window_days(history: WarehouseHistory) -> float:
    """Days the history covers (from the window, else from the queries; at least one hour)."""
    lo, hi = history.window_start_ms, history.window_end_ms
    if lo is None or hi is None:
        times = [t for q in history.queries for t in (q.start_time_ms, q.end_time_ms) if t is not None]
        lo, hi = (min(times), max(times)) if times else (0, 0)
    return max(hi - lo, MS_PER_DAY / 24) / MS_PER_DAY


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values): the value at rank ceil(q × n)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))])


def warehouse_queries(history: WarehouseHistory) -> dict[str, list[QueryRecord]]:
    """Snowflake queries that ran on warehouse compute, by warehouse, in start order (cached)."""
    def group() -> dict[str, list[QueryRecord]]:
        out: dict[str, list[QueryRecord]] = {}
        for q in sorted(history.queries, key=lambda q: q.start_time_ms or 0):
            if ran_on_warehouse(q) and q.warehouse:
                out.setdefault(q.warehouse, []).append(q)
        return out
    return dict(_cached("by_warehouse", history, group))


def current_size(history: WarehouseHistory, name: str, queries: Sequence[QueryRecord]) -> str | None:
    """The warehouse's configured size, else the size its latest query ran on."""
    setting = next((w.size for w in history.warehouses if w.name == name and w.size), None)
    return setting or next((q.warehouse_size for q in reversed(queries) if q.warehouse_size), None)


def warehouse_compute_credits(history: WarehouseHistory, name: str, queries: Sequence[QueryRecord]) -> float:
    """Metered compute credits of a warehouse, else the credits estimated for its queries."""
    rows = metering_rows(history, name)
    if rows:
        return sum(m.credits_compute for m in rows)
    shares = query_credits(history)
    return sum(shares[q.query_id].credits for q in queries if q.query_id in shares)


def is_read(q: QueryRecord) -> bool:
    """A plain read (SELECT/WITH); DML such as ``INSERT … SELECT *`` is a pipeline moving whole rows."""
    return (q.statement_type or "SELECT").upper() == "SELECT" and _READ_HEAD.match(q.query_text) is not None
