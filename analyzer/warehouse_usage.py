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
catalog.
"""

from __future__ import annotations

import bisect
import functools
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from analyzer.model import MeteringHour, QueryRecord, WarehouseHistory

MIB = 1024**2
TIB = 1024**4
MS_PER_HOUR = 3_600_000
BQ_MIN_BYTES_PER_TABLE = 10 * MIB
CLOUD_SERVICES_ONLY = "CLOUD_SERVICES_ONLY"


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
    text = resources.files("analyzer.catalogs").joinpath("snowflake_credits.toml").read_text("utf-8")
    return tuple(SnowflakeSize(name=s["name"], ddl=s["ddl"], standard=float(s["standard"]),
                               snowpark_optimized=s.get("snowpark_optimized"), aliases=tuple(s["aliases"]))
                 for s in tomllib.loads(text)["size"])


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


def billed_seconds(intervals: Iterable[tuple[int, int]], auto_suspend_s: float | None,
                   minimum_s: float = 60.0) -> float:
    """Seconds a warehouse bills to run these (start_ms, end_ms) executions with this auto-suspend.

    The warehouse resumes at a query's start, stays up ``auto_suspend_s`` after the last
    query ends, and bills every running period by the second with ``minimum_s`` per resume.
    ``None`` or 0 means it never suspends: one period from the first start to the last end.
    """
    spans = sorted(intervals)
    if not spans:
        return 0.0
    tail = 0 if not auto_suspend_s else auto_suspend_s * 1000
    billed, start, stop = 0.0, spans[0][0], spans[0][1] + tail
    for lo, hi in spans[1:]:
        if auto_suspend_s and lo > stop:
            billed += max(minimum_s, (stop - start) / 1000)
            start, stop = lo, hi + tail
        else:
            stop = max(stop, hi + tail)
    return billed + max(minimum_s, (stop - start) / 1000)


def ran_on_warehouse(q: QueryRecord) -> bool:
    """A Snowflake query that used warehouse compute (warehouse_size NULL = cloud services only)."""
    return q.vendor == "snowflake" and q.warehouse is not None and q.warehouse_size is not None


def execution_interval(q: QueryRecord) -> tuple[int, int] | None:
    """(start, end) ms of execution: start + queue + compile time (dbt), or end − execution_ms.

    Called for every query by the cost model and by several rules: kept branch-light.
    """
    start, end = q.start_time_ms, q.end_time_ms
    if start is None or end is None:
        return None
    overload, compiling, provisioning = q.queued_overload_ms, q.compilation_ms, q.queued_provisioning_ms
    if overload is not None or compiling is not None or provisioning is not None:
        start += (overload or 0) + (compiling or 0) + (provisioning or 0)
    elif q.execution_ms is not None:
        start = end - q.execution_ms
    return (start if start < end else end), end


def merged(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping intervals merged: the time a warehouse had at least one query running."""
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


@dataclass(frozen=True, slots=True)
class CreditShare:
    """Compute credits of one Snowflake query; ``estimated`` when some hour had no metering row."""

    credits: float
    estimated: bool


def snowflake_query_credits(queries: Sequence[QueryRecord],
                            metering: Sequence[MeteringHour]) -> dict[str, CreditShare]:
    """Compute credits per query id: metered hours shared by execution ms, else size × time.

    Two passes: first each query's execution milliseconds inside every metered hour of its
    warehouse (found by bisection), then each hour's credits split by those milliseconds.
    Execution time outside any metered hour is priced at the size's credits per hour.
    """
    by_warehouse: dict[str, list[MeteringHour]] = defaultdict(list)
    for m in metering:
        by_warehouse[m.warehouse].append(m)
    hours: dict[str, tuple[list[int], list[int], list[float], list[int]]] = {}
    for name, rows in by_warehouse.items():
        rows.sort(key=lambda m: m.start_time_ms)
        hours[name] = ([m.start_time_ms for m in rows], [m.end_time_ms for m in rows],
                       [m.credits_compute for m in rows], [0] * len(rows))
    pending = []
    for q in queries:
        span = execution_interval(q) if ran_on_warehouse(q) else None
        if span is None:
            continue
        lo, hi = span
        pieces: list[tuple[int, int]] = []
        covered = 0
        table = hours.get(q.warehouse or "")
        if table:
            starts, ends, _, totals = table
            i = max(0, bisect.bisect_right(starts, lo) - 1)
            while i < len(starts) and starts[i] < hi:
                ms = min(hi, ends[i]) - max(lo, starts[i])
                if ms > 0:
                    pieces.append((i, ms))
                    totals[i] += ms
                    covered += ms
                i += 1
        pending.append((q, table, pieces, hi - lo - covered))
    out: dict[str, CreditShare] = {}
    for q, table, pieces, rest in pending:
        metered = sum(table[2][i] * ms / table[3][i] for i, ms in pieces) if table else 0.0
        rate = (credits_per_hour(q.warehouse_size, q.warehouse_type) or 0.0) if rest > 0 else 0.0
        out[q.query_id] = CreditShare(metered + rest * rate / MS_PER_HOUR, estimated=rest > 0)
    return out


_LAST_CREDITS: list[tuple[WarehouseHistory, dict[str, CreditShare]]] = []


def history_query_credits(history: WarehouseHistory) -> dict[str, CreditShare]:
    """``snowflake_query_credits`` of a whole history, computed once for the last history asked.

    The cost model and several rules need the same per-query credits; on a million queries
    computing them is seconds, so the last result is kept (by identity; read-only).
    """
    if not _LAST_CREDITS or _LAST_CREDITS[0][0] is not history:
        _LAST_CREDITS[:] = [(history, snowflake_query_credits(history.queries, history.metering))]
    return _LAST_CREDITS[0][1]


def bigquery_failed(q: QueryRecord) -> bool:
    """A job that ended in an error (not billed on demand); cancelled ('stopped') jobs are billed."""
    status = q.status.upper()
    return "FAIL" in status or "ERROR" in status


def tib_billed(q: QueryRecord) -> float:
    """On-demand TiB a BigQuery job bills: bytes billed, at least 10 MiB per table referenced."""
    if q.cache_hit or bigquery_failed(q) or (q.statement_type or "").upper() == "SCRIPT":
        return 0.0
    billed = q.bytes_billed if q.bytes_billed is not None else q.bytes_scanned
    if billed <= 0:
        return 0.0
    return max(billed, BQ_MIN_BYTES_PER_TABLE * max(1, len(q.referenced_tables))) / TIB


def slot_hours(q: QueryRecord) -> float:
    """Slot-hours a BigQuery job used (what editions bill for reservation jobs)."""
    if (q.statement_type or "").upper() == "SCRIPT":
        return 0.0
    return (q.slot_ms or 0) / MS_PER_HOUR


def bigquery_pool(q: QueryRecord) -> str:
    """Who pays a BigQuery job: its reservation, or its project when on demand."""
    return q.warehouse or q.project or "(unknown project)"


def snowflake_pool(q: QueryRecord) -> str:
    """The Snowflake warehouse a query ran on (cloud-services-only queries share one pool)."""
    return q.warehouse if ran_on_warehouse(q) and q.warehouse else CLOUD_SERVICES_ONLY
