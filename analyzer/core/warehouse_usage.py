"""Warehouse usage in billing units, knowing no price: Snowflake credits, BigQuery TiB and slot-hours.

Snowflake bills a running warehouse by the second (at least 60 s per resume), not per
query, so a query's cost is a share of metered warehouse time. We share it the way
dbt-snowflake-monitoring's ``cost_per_query`` does: each metered warehouse-hour's compute
credits go to the queries that executed in that hour, by execution milliseconds within the
hour (queueing and compilation excluded), so idle time inside busy hours is carried by the
queries that caused the warehouse to run. BigQuery on-demand bills bytes (10 MiB minimum per
table referenced; cache hits and failed jobs free; SCRIPT parents repeat their children's
bytes and are skipped); editions bill slot-hours.

Why a module of its own: rules measure avoidable usage in these units and never know a
price, so they import this module only; ``warehouse_cost`` prices the same usage with the
catalog. Everything here works on whole columns of a ``QueryTable`` (numpy arrays aligned
with its rows): a million queries are priced in well under a second.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from analyzer.core.query_table import QueryTable, categorical_of, combination_codes, nan_to_zero, per_category
from analyzer.core.sql_text import text_fingerprint
from analyzer.core.units import MS_PER_HOUR
from analyzer.core.units import MiB as MIB
from analyzer.core.units import TiB as TIB
from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory

BQ_MIN_BYTES_PER_TABLE = 10 * MIB
CLOUD_SERVICES_ONLY = "CLOUD_SERVICES_ONLY"
#: Billing units of ``QueryUsage.unit`` (its values index this tuple).
UNITS = ("credits", "tib_billed", "slot_hours")


@dataclass(frozen=True, slots=True)
class SnowflakeSize:
    """One warehouse size: its QUERY_HISTORY name, its DDL value and credits per hour."""

    name: str
    ddl: str
    standard: float
    snowpark_optimized: float | None
    aliases: tuple[str, ...]


@functools.cache
def snowflake_sizes() -> tuple[SnowflakeSize, ...]:
    """Sizes smallest first, from ``catalogs/snowflake_credits.toml``."""
    text = resources.files("analyzer.core.catalogs").joinpath("snowflake_credits.toml").read_text("utf-8")
    return tuple(
        SnowflakeSize(
            name=s["name"],
            ddl=s["ddl"],
            standard=float(s["standard"]),
            snowpark_optimized=s.get("snowpark_optimized"),
            aliases=tuple(s["aliases"]),
        )
        for s in tomllib.loads(text)["size"]
    )


def _key(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


@functools.cache
def _size_positions() -> dict[str, int]:
    return {_key(name): i for i, s in enumerate(snowflake_sizes()) for name in (s.name, s.ddl, *s.aliases)}


def size_index(size: str | None) -> int | None:
    """Position of a size in ``snowflake_sizes()`` ('X-Small', 'XSMALL', 'x-small' → 0), None if unknown."""
    return _size_positions().get(_key(size or "")) if size else None


def resize(size: str | None, steps: int) -> SnowflakeSize | None:
    """The size ``steps`` up (positive) or down (negative), clamped to X-Small … 6X-Large."""
    i = size_index(size)
    sizes = snowflake_sizes()
    return None if i is None else sizes[min(len(sizes) - 1, max(0, i + steps))]


@functools.lru_cache(maxsize=256)
def credits_per_hour(size: str | None, warehouse_type: str | None = None) -> float | None:
    """Credits one cluster of this size bills per hour; None for an unknown size."""
    i = size_index(size)
    if i is None:
        return None
    s = snowflake_sizes()[i]
    if "SNOWPARK" in (warehouse_type or "").upper():
        return s.snowpark_optimized
    return s.standard


def billed_seconds(
    intervals: Iterable[tuple[int, int]], auto_suspend_s: float | None, minimum_s: float = 60.0
) -> float:
    """Seconds a warehouse bills to run these (start_ms, end_ms) executions with this auto-suspend.

    The warehouse resumes at a query's start, stays up ``auto_suspend_s`` after the last
    query ends, and bills every running period by the second with ``minimum_s`` per resume.
    ``None`` or 0 means it never suspends: one period from the first start to the last end.
    """
    spans = np.array(list(intervals), dtype=np.float64).reshape(-1, 2)
    return billed_seconds_of(spans[:, 0], spans[:, 1], auto_suspend_s, minimum_s)


def billed_seconds_of(
    lo: np.ndarray, hi: np.ndarray, auto_suspend_s: float | None, minimum_s: float = 60.0
) -> float:
    """``billed_seconds`` of execution intervals given as two arrays (ms)."""
    if lo.size == 0:
        return 0.0
    if not auto_suspend_s:
        return max(minimum_s, (float(hi.max()) - float(lo.min())) / 1000)
    # Each execution keeps the warehouse up until its end plus the auto-suspend delay: the
    # running periods are those intervals merged, one resume each.
    starts, ends = merged(lo, hi + auto_suspend_s * 1000)
    periods = np.maximum(minimum_s, (ends - starts) / 1000)
    return float(np.cumsum(periods)[-1])  # period after period, as a simulation adds them


# --- Columns of a query table ----------------------------------------------------------


def ran_on_warehouse(table: QueryTable) -> np.ndarray:
    """Snowflake queries that used warehouse compute (warehouse_size NULL = cloud services only)."""
    return table.derived("ran_on_warehouse", lambda: _ran_on_warehouse(table))  # type: ignore[no-any-return]


def _ran_on_warehouse(table: QueryTable) -> np.ndarray:
    frame = table.frame
    return (
        (frame["vendor"] == "snowflake").to_numpy()
        & frame["warehouse"].notna().to_numpy()
        & frame["warehouse_size"].notna().to_numpy()
    )


def execution_intervals(table: QueryTable) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) ms of each query's execution; NaN where the times are unknown.

    Start is start + queue + compile time (as dbt-snowflake-monitoring does), or
    end − execution_ms when the parts are not reported (BigQuery). Computed once per table.
    """
    return table.derived("execution_intervals", lambda: _execution_intervals(table))  # type: ignore[no-any-return]


def _execution_intervals(table: QueryTable) -> tuple[np.ndarray, np.ndarray]:
    start, end = table.numbers("start_time_ms"), table.numbers("end_time_ms")
    parts = [table.numbers(n) for n in ("queued_overload_ms", "compilation_ms", "queued_provisioning_ms")]
    has_parts = ~np.isnan(parts[0]) | ~np.isnan(parts[1]) | ~np.isnan(parts[2])
    waited = nan_to_zero(parts[0]) + nan_to_zero(parts[1]) + nan_to_zero(parts[2])
    execution = table.numbers("execution_ms")
    lo = np.where(has_parts, start + waited, np.where(np.isnan(execution), start, end - execution))
    lo = np.fmin(lo, end)
    known = ~np.isnan(start) & ~np.isnan(end)
    return np.where(known, lo, np.nan), np.where(known, end, np.nan)


def merged(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping intervals merged: the spans a warehouse had at least one query running."""
    keep = ~np.isnan(lo) & ~np.isnan(hi)
    lo, hi = lo[keep], hi[keep]
    if lo.size == 0:
        return lo, hi
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    running = np.maximum.accumulate(hi)
    new = np.concatenate(([True], lo[1:] > running[:-1]))
    last = np.concatenate((np.flatnonzero(new)[1:] - 1, [lo.size - 1]))
    return lo[new], running[last]


def busy_ms(lo: np.ndarray, hi: np.ndarray) -> float:
    """Milliseconds during which at least one of the intervals was running."""
    starts, ends = merged(lo, hi)
    return float((ends - starts).sum())


def size_rates(table: QueryTable) -> np.ndarray:
    """Credits per hour of each query's warehouse size and type (NaN for an unknown size)."""
    codes, combos, _ = combination_codes([table.frame["warehouse_size"], table.frame["warehouse_type"]])
    rates = [credits_per_hour(size, kind) for size, kind in combos]
    return np.array([np.nan if r is None else r for r in rates], dtype=np.float64)[codes]


@dataclass(frozen=True, slots=True)
class QueryCredits:
    """Compute credits of each Snowflake query, row-aligned.

    ``estimated`` marks queries that ran (partly) outside any metered hour.
    """

    credits: np.ndarray
    estimated: np.ndarray


def snowflake_query_credits(table: QueryTable, metering: Sequence[MeteringHour]) -> QueryCredits:
    """Compute credits per query: metered hours shared by execution ms, else size × time.

    Each query's execution is cut into pieces, one per metered hour of its warehouse it
    overlaps (found by binary search on (warehouse, hour start)); each hour's credits
    are split by those pieces' milliseconds. Execution time outside any metered hour is
    priced at the size's credits per hour.
    """
    n = len(table)
    lo, hi = execution_intervals(table)
    runs = ran_on_warehouse(table) & ~np.isnan(lo)
    credits, covered = np.zeros(n), np.zeros(n)
    warehouse = table.frame["warehouse"]
    codes = {name: i for i, name in enumerate(warehouse.cat.categories)}
    rows = sorted(
        (codes[m.warehouse], m.start_time_ms, m.end_time_ms, m.credits_compute)
        for m in metering
        if m.warehouse in codes
    )
    if rows:
        hours = np.array(rows, dtype=np.float64)
        span = 2.0**45  # > any epoch ms: (warehouse code, time) as one sortable number
        keys = hours[:, 0] * span + hours[:, 1]
        idx = np.flatnonzero(runs)
        code = warehouse.cat.codes.to_numpy()[idx].astype(np.float64)
        q_lo, q_hi = code * span + lo[idx], code * span + hi[idx]
        first = np.maximum(np.searchsorted(keys, q_lo, side="right") - 1, 0)
        stop = np.searchsorted(keys, q_hi, side="left")  # hours starting before the query ends
        count = np.maximum(stop - first, 0)
        piece_query = np.repeat(idx, count)
        piece_hour = np.repeat(first, count) + (
            np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        )
        same = hours[piece_hour, 0] == code.repeat(count)
        ms = np.minimum(hi[piece_query], hours[piece_hour, 2]) - np.maximum(
            lo[piece_query], hours[piece_hour, 1]
        )
        ms = np.where(same & (ms > 0), ms, 0.0)
        totals = np.bincount(piece_hour, weights=ms, minlength=len(hours))
        share = np.divide(
            hours[piece_hour, 3] * ms, totals[piece_hour], out=np.zeros_like(ms), where=totals[piece_hour] > 0
        )
        credits += np.bincount(piece_query, weights=share, minlength=n)
        covered += np.bincount(piece_query, weights=ms, minlength=n)
    rest = np.where(runs, hi - lo - covered, 0.0)
    estimated = rest > 0
    rate = nan_to_zero(size_rates(table))
    credits += np.where(estimated, rest * rate / MS_PER_HOUR, 0.0)
    return QueryCredits(credits=credits, estimated=estimated)


@dataclass(frozen=True, slots=True)
class QueryUsage:
    """What each query of a history was billed, row-aligned with ``history.queries``.

    ``unit`` is the billing unit of the row as an index into ``UNITS`` ("credits",
    "tib_billed" or "slot_hours") and ``billed`` its amount; ``pool`` names who pays
    (warehouse, reservation or project).
    """

    pool: pd.Series
    unit: np.ndarray
    billed: np.ndarray
    credits: np.ndarray
    estimated: np.ndarray
    tib_billed: np.ndarray
    slot_hours: np.ndarray
    script: np.ndarray


_LAST_USAGE: list[tuple[WarehouseHistory, QueryUsage]] = []


def history_usage(history: WarehouseHistory) -> QueryUsage:
    """``QueryUsage`` of a whole history, computed once for the last history asked.

    The cost model and several rules need the same per-query usage; it is kept by
    identity (histories are immutable).
    """
    if not _LAST_USAGE or _LAST_USAGE[0][0] is not history:
        _LAST_USAGE[:] = [(history, _usage(history))]
    return _LAST_USAGE[0][1]


def _usage(history: WarehouseHistory) -> QueryUsage:
    table = history.queries
    n = len(table)
    script = per_category(table.frame["statement_type"], lambda t: t.upper() == "SCRIPT", False, bool)
    if history.vendor == "snowflake":
        shares = snowflake_query_credits(table, history.metering)
        zeros = np.zeros(n)
        return QueryUsage(
            pool=snowflake_pools(table),
            unit=np.full(n, UNITS.index("credits"), dtype=np.int8),
            billed=shares.credits,
            credits=shares.credits,
            estimated=shares.estimated,
            tib_billed=zeros,
            slot_hours=zeros,
            script=script,
        )
    tib, hours = tib_billed(table, script), slot_hours(table, script)
    reserved = table.frame["warehouse"].notna().to_numpy()
    return QueryUsage(
        pool=bigquery_pools(table),
        unit=np.where(reserved, UNITS.index("slot_hours"), UNITS.index("tib_billed")).astype(np.int8),
        billed=np.where(reserved, hours, tib),
        credits=np.zeros(n),
        estimated=np.isnan(table.numbers("bytes_billed")) & (tib > 0),
        tib_billed=tib,
        slot_hours=hours,
        script=script,
    )


def bigquery_failed(table: QueryTable) -> np.ndarray:
    """Jobs that ended in an error (not billed on demand); cancelled ('stopped') jobs are billed."""
    return per_category(
        table.frame["status"], lambda s: "FAIL" in s.upper() or "ERROR" in s.upper(), False, bool
    )


def tib_billed(table: QueryTable, script: np.ndarray | None = None) -> np.ndarray:
    """On-demand TiB each BigQuery job bills: bytes billed, at least 10 MiB per table referenced.

    Cache hits, failed jobs and SCRIPT parents (whose children carry the bytes) bill nothing.
    """
    if script is None:
        script = per_category(table.frame["statement_type"], lambda t: t.upper() == "SCRIPT", False, bool)
    billed = table.numbers("bytes_billed")
    billed = np.where(np.isnan(billed), table.numbers("bytes_scanned"), billed)
    tables = np.fromiter(
        map(len, table.frame["referenced_tables"].to_numpy()), dtype=np.float64, count=len(table)
    )
    minimum = BQ_MIN_BYTES_PER_TABLE * np.maximum(1.0, tables)
    free = table.numbers("cache_hit") | bigquery_failed(table) | script | ~(billed > 0)
    return np.where(free, 0.0, np.maximum(billed, minimum) / TIB)


def slot_hours(table: QueryTable, script: np.ndarray | None = None) -> np.ndarray:
    """Slot-hours each BigQuery job used (what editions bill for reservation jobs); 0 for SCRIPT parents."""
    if script is None:
        script = per_category(table.frame["statement_type"], lambda t: t.upper() == "SCRIPT", False, bool)
    return np.where(script, 0.0, nan_to_zero(table.numbers("slot_ms")) / MS_PER_HOUR)


def bigquery_pools(table: QueryTable) -> pd.Series:
    """Who pays each BigQuery job: its reservation, or its project when on demand."""
    codes, combos, _ = combination_codes([table.frame["warehouse"], table.frame["project"]])
    payers = [reservation or project or "(unknown project)" for reservation, project in combos]
    return categorical_of(codes, payers)


def snowflake_pools(table: QueryTable) -> pd.Series:
    """The Snowflake warehouse each query ran on (cloud-services-only queries share one pool)."""
    codes, combos, _ = combination_codes([table.frame["warehouse"]])
    names = [name or CLOUD_SERVICES_ONLY for (name,) in combos] + [CLOUD_SERVICES_ONLY]
    return categorical_of(np.where(ran_on_warehouse(table), codes, len(names) - 1), names)


def query_fingerprints(table: QueryTable) -> np.ndarray:
    """Per row, the vendor's parameterized hash when present, else a hash of the normalized text.

    Runs of one query that differ only in literals share a fingerprint.
    """
    codes, labels = fingerprint_codes(table)
    return labels[codes]


def fingerprint_codes(table: QueryTable) -> tuple[np.ndarray, np.ndarray]:
    """Per row, a code of its fingerprint, and each code's fingerprint (computed once per table).

    Each distinct (hash, text) pair is fingerprinted once: a million runs of a few thousand
    queries cost a few thousand normalizations.
    """
    return table.derived("fingerprints", lambda: _fingerprint_codes(table))  # type: ignore[no-any-return]


def _fingerprint_codes(table: QueryTable) -> tuple[np.ndarray, np.ndarray]:
    frame = table.frame
    bigquery = bool(len(table)) and frame["vendor"].iloc[0] == "bigquery"
    codes, pairs, _ = combination_codes([frame["query_hash"], frame["query_text"]])
    prints = [vendor_hash or text_fingerprint(text or "", double_quoted_strings=bigquery)
              for vendor_hash, text in pairs]
    labels, which = np.unique(np.array(prints, dtype=object), return_inverse=True)
    return which.ravel()[codes], labels
