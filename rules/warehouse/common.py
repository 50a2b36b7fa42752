"""Measurements the warehouse rules share: who pays for a query, in which unit, and how much.

A warehouse rule reports avoidable usage in the unit the vendor bills, so that the cost
model can price it later: Snowflake credits (the query's share of metered warehouse time),
BigQuery on-demand TiB billed, or BigQuery reservation slot-hours. Nothing here knows a price.

Rules work on whole columns of ``history.queries`` (a ``QueryTable``): they select the
rows that matter with numpy masks, group with pandas, parse each distinct query text
once (``per_category``), and build ``QueryRecord`` objects only for the evidence they
show. The row-level helpers below (``pool_subject``, ``snippet``) serve that evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from analyzer.core.query_table import QueryTable, nan_to_zero, per_category, text_or
from analyzer.core.sql_text import same_table, sql_snippet
from analyzer.core.units import MS_PER_DAY
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, TableStorage, WarehouseHistory
from analyzer.core.warehouse_usage import (
    UNITS,
    QueryUsage,
    history_usage,
    query_fingerprints,
    ran_on_warehouse,
)
from rules.engine import Thresholds

DAYS_PER_MONTH = 30.44
# Leading comments, whitespace and parentheses, then SELECT or WITH.
_READ_HEAD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/|\()*(?:select|with)\b", re.IGNORECASE | re.DOTALL)

# Per-history results several rules need, kept for the last history only (by identity).
_cache: dict[str, tuple[WarehouseHistory, Any]] = {}


def _cached(name: str, history: WarehouseHistory, compute: Callable[[], Any]) -> Any:
    hit = _cache.get(name)
    if hit is None or hit[0] is not history:
        hit = _cache[name] = (history, compute())
    return hit[1]


def usage(history: WarehouseHistory) -> QueryUsage:
    """Per-row billing usage of the history (cached: every rule and the cost model ask)."""
    return history_usage(history)


def metering_rows(history: WarehouseHistory, warehouse: str) -> list[MeteringHour]:
    """The metering hours of one warehouse."""
    def group() -> dict[str, list[MeteringHour]]:
        out: dict[str, list[MeteringHour]] = {}
        for m in history.metering:
            out.setdefault(m.warehouse, []).append(m)
        return out
    return _cached("metering", history, group).get(warehouse, [])


def paid_rows(history: WarehouseHistory) -> np.ndarray:
    """True for queries that cost something (not a result-cache hit, not free)."""
    return ~history.queries.numbers("cache_hit") & (usage(history).billed > 0)


def pool_keys(history: WarehouseHistory) -> np.ndarray:
    """Per row, who pays: the Snowflake warehouse ('' for none), BigQuery reservation or project."""
    def compute() -> np.ndarray:
        table = history.queries
        if vendor(history.vendor).pool == "warehouse":
            return text_or(table.frame["warehouse"], "")
        return usage(history).pool.astype(object).to_numpy()
    return _cached("pool_keys", history, compute)  # type: ignore[no-any-return]


def fingerprints(history: WarehouseHistory) -> np.ndarray:
    """Per row, the vendor's parameterized hash when present, else a hash of the normalized text."""
    return query_fingerprints(history.queries)


def reads(history: WarehouseHistory) -> np.ndarray:
    """Per row, a plain read (SELECT/WITH); DML such as ``INSERT … SELECT *`` moves whole rows."""
    frame = history.queries.frame
    select = per_category(frame["statement_type"], lambda t: t.upper() == "SELECT", True, bool)
    read_text = per_category(frame["query_text"], lambda t: _READ_HEAD.match(t) is not None, False, bool)
    return select & read_text


def statement_starts(history: WarehouseHistory, prefix: str) -> np.ndarray:
    """Per row, the statement type starts with ``prefix`` (e.g. 'CREATE')."""
    return per_category(history.queries.frame["statement_type"], lambda t: t.upper().startswith(prefix),
                        False, bool)


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


def pool_subject(q: QueryRecord) -> dict[str, object]:
    """The finding subject naming who pays: the Snowflake warehouse, BigQuery reservation or project."""
    if vendor(q.vendor).pool == "warehouse":
        return {"vendor": q.vendor, "warehouse": q.warehouse}
    if q.warehouse:
        return {"vendor": q.vendor, "reservation": q.warehouse, "project": q.project}
    return {"vendor": q.vendor, "project": q.project or "(unknown project)"}


def snippet(q: QueryRecord) -> str:
    """The query text with its literals masked, shortened for evidence."""
    return sql_snippet(q.query_text, double_quoted_strings=vendor(q.vendor).double_quoted_strings)


def find_table(history: WarehouseHistory, name: str) -> TableStorage | None:
    """The stored size/layout of a table named in SQL or ``referenced_tables``."""
    return next((t for t in history.tables if same_table(t.table, name)), None)


def window_days(history: WarehouseHistory) -> float:
    """Days the history covers (from the window, else from the queries; at least one hour)."""
    lo, hi = history.window_start_ms, history.window_end_ms
    if lo is None or hi is None:
        table = history.queries
        times = np.concatenate([table.numbers("start_time_ms"), table.numbers("end_time_ms")])
        times = times[~np.isnan(times)]
        lo, hi = (int(times.min()), int(times.max())) if times.size else (0, 0)
    return max(hi - lo, MS_PER_DAY / 24) / MS_PER_DAY


def warehouse_rows(history: WarehouseHistory) -> dict[str, np.ndarray]:
    """Row positions of the Snowflake queries that ran on warehouse compute, by warehouse, in start order."""
    def group() -> dict[str, np.ndarray]:
        table = history.queries
        on = np.flatnonzero(ran_on_warehouse(table))
        if on.size == 0:
            return {}
        on = on[np.argsort(nan_to_zero(table.numbers("start_time_ms")[on]), kind="stable")]
        warehouse = table.frame["warehouse"].cat
        codes = warehouse.codes.to_numpy()[on]
        order = np.argsort(codes, kind="stable")  # stays in start order within each warehouse
        present, first = np.unique(codes[order], return_index=True)
        groups = np.split(on[order], first[1:])
        return {str(warehouse.categories[c]): rows for c, rows in zip(present, groups, strict=True) if c >= 0}
    return dict(_cached("by_warehouse", history, group))


def warehouse_compute_credits(history: WarehouseHistory, name: str, rows: np.ndarray) -> float:
    """Metered compute credits of a warehouse, else the credits estimated for its queries (``rows``)."""
    metered = metering_rows(history, name)
    if metered:
        return sum(m.credits_compute for m in metered)
    return float(usage(history).credits[rows].sum())


def records(history: WarehouseHistory, rows: np.ndarray | Sequence[int]) -> list[QueryRecord]:
    """The ``QueryRecord`` of some rows, for evidence."""
    return history.queries.records(rows)


# --- Column helpers shared by the rules -----------------------------------------------------


def rows_usage(history: WarehouseHistory, rows: np.ndarray,
                fraction: np.ndarray | None = None) -> dict[str, float]:
    """What the queries at ``rows`` were billed, by unit (credits, tib_billed, slot_hours).

    Each row's amount times its ``fraction`` (rounded to 6 places, as per-query usage is),
    summed in row order, unit by unit in order of first appearance: a pairwise numpy sum
    could differ in the last digit from adding the queries one by one.
    """
    used = usage(history)
    units, billed = used.unit[rows], used.billed[rows]
    if fraction is not None:
        billed = round6(billed * fraction)
    out: dict[str, float] = {}
    left = np.ones(len(rows), dtype=bool)
    while left.any():  # once per unit (at most three)
        unit = units[int(np.argmax(left))]
        same = units == unit
        out[UNITS[unit]] = round(in_order_sum(billed[same]), 6)
        left &= ~same
    return out


def in_order_sum(values: np.ndarray) -> float:
    """The sum of ``values`` added one after the other (as ``sum()`` of a Python list does)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def round6(values: np.ndarray) -> np.ndarray:
    """``round(value, 6)`` of every value, exactly as Python rounds it.

    ``np.round`` scales by 10⁶ first, which can tip a value next to a half the other way:
    those few values are rounded by Python, once per distinct value.
    """
    out = np.round(values, 6)
    scaled = values * 1e6
    near = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) <= 1e-9 * (1.0 + np.abs(scaled)))
    if near.size:
        distinct, inverse = np.unique(values[near], return_inverse=True)
        out[near] = np.array([round(float(v), 6) for v in distinct])[inverse.ravel()]
    return out


def exact_mean(values: np.ndarray) -> float:
    """``statistics.mean`` of float values (an exact sum) without a Python loop over every value."""
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) > 4096:
        return math.fsum(values) / len(values)
    total = sum((Fraction(float(v)) * int(c) for v, c in zip(distinct, counts, strict=True)), Fraction(0))
    return float(total / len(values))


def reaches(thresholds: Thresholds, values: np.ndarray) -> np.ndarray:
    """Per value, ``thresholds.severity(value) is not None`` (NaN reaches no level)."""
    out = np.zeros(values.shape, dtype=bool)
    for bound in thresholds.as_dict().values():
        out |= (values >= bound) if thresholds.ascending else (values <= bound)
    return out


def grouped(history: WarehouseHistory, rows: np.ndarray, table_codes: np.ndarray,
            table_names: np.ndarray) -> list[tuple[tuple[str, str], np.ndarray]]:
    """((pool key, table), positions into ``rows``) of every group, sorted by key; positions ascend."""
    if rows.size == 0:
        return []
    codes, names = pd.factorize(pool_keys(history)[rows])
    width = len(table_names)
    group, keys = pd.factorize(codes.astype(np.int64) * width + table_codes)
    members = np.split(np.argsort(group, kind="stable"), np.cumsum(np.bincount(group))[:-1])
    found = [((str(names[key // width]), str(table_names[key % width])), at)
             for key, at in zip(keys.tolist(), members, strict=True)]
    return sorted(found, key=lambda item: item[0])


def percentile(values: np.ndarray | Sequence[float], q: float) -> float:
    """Nearest-rank percentile (the value at rank ceil(q × n)) of an array; 0 for no values."""
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n == 0:
        return 0.0
    k = max(0, min(n - 1, math.ceil(q * n) - 1))
    return float(np.partition(values, k)[k])


def current_size(history: WarehouseHistory, name: str, rows: np.ndarray) -> str | None:
    """The configured size of a warehouse, else the latest size its ``rows`` report (empty ones skipped)."""
    setting = next((w.size for w in history.warehouses if w.name == name and w.size), None)
    if setting:
        return setting
    return history.queries.last_text("warehouse_size", rows)


def text_at(table: QueryTable, name: str, row: int) -> str | None:
    """The text of column ``name`` in one row (None where missing)."""
    value = table.frame[name].iat[row]
    return value if isinstance(value, str) else None
