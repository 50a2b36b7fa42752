"""Warehouse bills: Snowflake credits and BigQuery bytes or slot-hours, per query and per warehouse.

Snowflake bills a running warehouse by the second (at least 60 s per resume), not per
query, so a query's cost is a share of metered warehouse time. We share it the way
dbt-snowflake-monitoring's ``cost_per_query`` does: each metered warehouse-hour's compute
credits go to the queries that executed in that hour, by execution milliseconds within the
hour (queueing and compilation excluded), so idle time inside busy hours is carried by the
queries that caused the warehouse to run. Idle credits are what Snowflake itself calls idle:
metered compute minus ``credits_attributed_compute_queries``. Cloud services are billed only
above 10 % of the day's compute. BigQuery on-demand bills bytes (10 MiB minimum per table
referenced; cache hits and failed jobs free; SCRIPT parents repeat their children's bytes and
are skipped); editions bill slot-hours. Usage helpers here know no price and rules use them;
``price_history`` and ``assign_warehouse_savings`` turn usage into money with the catalog.
"""

from __future__ import annotations

import bisect
import functools
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources

from analyzer.catalog import PriceCatalog
from analyzer.model import MeteringHour, QueryRecord, WarehouseHistory
from analyzer.report import Finding

MIB = 1024**2
TIB = 1024**4
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
BQ_MIN_BYTES_PER_TABLE = 10 * MIB
CLOUD_SERVICES_FREE_SHARE = 0.10
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


# --- Pricing: usage × catalog ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryCost:
    """What one query or job cost, in its billing units and in money."""

    query_id: str
    vendor: str
    pool: str
    usd: float
    compute_credits: float = 0.0
    cloud_services_credits: float = 0.0  # billed share, after the daily 10 % adjustment
    tib_billed: float = 0.0
    slot_hours: float = 0.0
    on_demand_usd: float = 0.0  # BigQuery: the same job under each pricing model
    editions_usd: float = 0.0
    estimated: bool = False

    @property
    def credits(self) -> float:
        """Snowflake credits: compute plus billed cloud services."""
        return self.compute_credits + self.cloud_services_credits


@dataclass(frozen=True, slots=True)
class WarehouseTotal:
    """One Snowflake warehouse, BigQuery reservation, or on-demand BigQuery project."""

    name: str
    kind: str  # "warehouse", "reservation" or "project"
    query_count: int
    usd: float
    compute_credits: float = 0.0  # metered (estimated from execution time when not metered)
    query_credits: float = 0.0  # Σ per-query compute; includes idle time inside busy hours
    idle_credits: float | None = None  # metered − attributed to queries (Snowflake's own definition)
    idle_usd: float = 0.0
    cloud_services_credits: float = 0.0
    metered: bool = True
    tib_billed: float = 0.0
    slot_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class PricingComparison:
    """A BigQuery project's jobs priced under both models (bqbooster's per-job comparison, summed)."""

    project: str
    jobs: int
    tib_billed: float
    slot_hours: float
    on_demand_usd: float
    editions_usd: float
    actual_usd: float


@dataclass(frozen=True, slots=True)
class WarehouseCost:
    """The priced bill of one ``WarehouseHistory``: per query, per warehouse/project, in total."""

    vendor: str
    source: str
    currency: str
    usd_per_credit: float
    usd_per_tib: float
    slot_hour_usd: float
    edition: str
    queries: Mapping[str, QueryCost]
    warehouses: Mapping[str, WarehouseTotal]
    projects: Mapping[str, PricingComparison]
    cloud_services_billed_credits: float
    total_credits: float
    total_usd: float
    notes: tuple[str, ...] = ()


def _prices(catalog: PriceCatalog, edition: str) -> tuple[float, float, float]:
    """($/credit, $/TiB, $/slot-hour of ``edition``) from the catalog's ``[warehouse.*]`` tables."""
    sf, bq = catalog.warehouse.get("snowflake", {}), catalog.warehouse.get("bigquery", {})
    slot = bq.get("slot_hour", 0.0)
    slot_usd = float(slot.get(edition, 0.0) if isinstance(slot, Mapping) else slot)
    return float(sf.get("usd_per_credit", 0.0)), float(bq.get("usd_per_tib", 0.0)), slot_usd


def price_history(history: WarehouseHistory, catalog: PriceCatalog, *,
                  edition: str = "standard") -> WarehouseCost:
    """Price every query and warehouse of ``history``; BigQuery slot-hours at ``edition`` prices."""
    per_credit, per_tib, per_slot = _prices(catalog, edition)
    base = dict(vendor=history.vendor, source=history.source, currency=catalog.currency,
                usd_per_credit=per_credit, usd_per_tib=per_tib, slot_hour_usd=per_slot, edition=edition)
    if history.vendor == "bigquery":
        return WarehouseCost(**base, **_price_bigquery(history, per_tib, per_slot))  # type: ignore[arg-type]
    return WarehouseCost(**base, **_price_snowflake(history, per_credit))  # type: ignore[arg-type]


def _day(ms: int | None) -> int:
    return (ms or 0) // MS_PER_DAY


def _cloud_services(history: WarehouseHistory, compute: Mapping[str, CreditShare]
                    ) -> tuple[dict[str, float], dict[str, float]]:
    """Billed cloud-services credits per query and per pool: max(0, CS − 10 % of compute) per day."""
    cs_day: dict[int, float] = defaultdict(float)
    compute_day: dict[int, float] = defaultdict(float)
    pool_cs: dict[tuple[str, int], float] = defaultdict(float)
    if history.metering:
        for m in history.metering:
            cs_day[_day(m.start_time_ms)] += m.credits_cloud_services
            compute_day[_day(m.start_time_ms)] += m.credits_compute
            pool_cs[(m.warehouse, _day(m.start_time_ms))] += m.credits_cloud_services
    else:
        for q in history.queries:
            cs_day[_day(q.start_time_ms)] += q.credits_cloud_services or 0.0
            used = compute.get(q.query_id)
            compute_day[_day(q.start_time_ms)] += used.credits if used else 0.0
            pool_cs[(snowflake_pool(q), _day(q.start_time_ms))] += q.credits_cloud_services or 0.0
    billed = {d: max(0.0, cs - CLOUD_SERVICES_FREE_SHARE * compute_day[d]) for d, cs in cs_day.items()}
    share = {d: billed[d] / cs if cs else 0.0 for d, cs in cs_day.items()}
    per_query = {q.query_id: (q.credits_cloud_services or 0.0) * share.get(_day(q.start_time_ms), 0.0)
                 for q in history.queries}
    per_pool: dict[str, float] = defaultdict(float)
    for (pool, d), cs in pool_cs.items():
        per_pool[pool] += cs * share[d]
    return per_query, per_pool


def _attributed(queries: Sequence[QueryRecord], rows: list[MeteringHour], size: str | None) -> float:
    """Credits Snowflake attributes to queries (no idle); estimated from busy time when not reported."""
    if rows and all(m.credits_attributed_queries is not None for m in rows):
        return sum(m.credits_attributed_queries or 0.0 for m in rows)
    spans = [s for s in (execution_interval(q) for q in queries if ran_on_warehouse(q)) if s is not None]
    busy_ms = sum(hi - lo for lo, hi in merged(spans))
    return busy_ms * (credits_per_hour(size) or 0.0) / MS_PER_HOUR


def _price_snowflake(history: WarehouseHistory, per_credit: float) -> dict[str, object]:
    compute = history_query_credits(history)
    cs_query, cs_pool = _cloud_services(history, compute)
    queries: dict[str, QueryCost] = {}
    by_pool: dict[str, list[QueryRecord]] = defaultdict(list)
    for q in history.queries:
        share = compute.get(q.query_id, CreditShare(0.0, False))
        pool = snowflake_pool(q)
        by_pool[pool].append(q)
        queries[q.query_id] = QueryCost(
            query_id=q.query_id, vendor="snowflake", pool=pool,
            usd=(share.credits + cs_query[q.query_id]) * per_credit, compute_credits=share.credits,
            cloud_services_credits=cs_query[q.query_id], estimated=share.estimated)
    rows: dict[str, list[MeteringHour]] = defaultdict(list)
    for m in history.metering:
        rows[m.warehouse].append(m)
    totals: dict[str, WarehouseTotal] = {}
    notes: list[str] = []
    for name in sorted(set(rows) | set(by_pool)):
        qs = by_pool.get(name, [])
        query_credits = sum(queries[q.query_id].compute_credits for q in qs)
        size = next((q.warehouse_size for q in reversed(qs) if q.warehouse_size), None)
        metered = bool(rows.get(name))
        compute_credits = sum(m.credits_compute for m in rows[name]) if metered else query_credits
        idle = max(0.0, compute_credits - _attributed(qs, rows[name], size)) if metered else None
        if not metered and query_credits:
            notes.append(f"{name}: no metering rows; credits estimated as execution time × "
                         f"{credits_per_hour(size) or 0:g} credits/h ({size}); idle time unknown")
        totals[name] = WarehouseTotal(
            name=name, kind="warehouse", query_count=len(qs),
            usd=(compute_credits + cs_pool.get(name, 0.0)) * per_credit, compute_credits=compute_credits,
            query_credits=query_credits, idle_credits=idle, idle_usd=(idle or 0.0) * per_credit,
            cloud_services_credits=cs_pool.get(name, 0.0), metered=metered)
    cs_billed = sum(cs_pool.values())
    total_credits = sum(t.compute_credits for t in totals.values()) + cs_billed
    return dict(queries=queries, warehouses=totals, projects={}, cloud_services_billed_credits=cs_billed,
                total_credits=total_credits, total_usd=total_credits * per_credit, notes=tuple(notes))


def _price_bigquery(history: WarehouseHistory, per_tib: float, per_slot: float) -> dict[str, object]:
    queries: dict[str, QueryCost] = {}
    pools: dict[str, list[QueryCost]] = defaultdict(list)
    projects: dict[str, list[QueryCost]] = defaultdict(list)
    scripts = 0
    for q in history.queries:
        if (q.statement_type or "").upper() == "SCRIPT":
            scripts += 1
            continue
        tib, hours = tib_billed(q), slot_hours(q)
        on_demand, editions = tib * per_tib, hours * per_slot
        cost = QueryCost(query_id=q.query_id, vendor="bigquery", pool=bigquery_pool(q),
                         usd=editions if q.warehouse else on_demand, tib_billed=tib, slot_hours=hours,
                         on_demand_usd=on_demand, editions_usd=editions,
                         estimated=q.bytes_billed is None and tib > 0)
        queries[q.query_id] = cost
        pools[cost.pool].append(cost)
        projects[q.project or "(unknown project)"].append(cost)
    kinds = {bigquery_pool(q): "reservation" if q.warehouse else "project" for q in history.queries}
    totals = {name: WarehouseTotal(
        name=name, kind=kinds[name], query_count=len(cs), usd=sum(c.usd for c in cs),
        tib_billed=sum(c.tib_billed for c in cs), slot_hours=sum(c.slot_hours for c in cs))
        for name, cs in sorted(pools.items())}
    comparisons = {p: PricingComparison(
        project=p, jobs=len(cs), tib_billed=sum(c.tib_billed for c in cs),
        slot_hours=sum(c.slot_hours for c in cs), on_demand_usd=sum(c.on_demand_usd for c in cs),
        editions_usd=sum(c.editions_usd for c in cs), actual_usd=sum(c.usd for c in cs))
        for p, cs in sorted(projects.items())}
    notes = ["on-demand: the first 1 TiB per month per billing account is free and not deducted here"]
    if scripts:
        notes.append(f"{scripts} SCRIPT parent job(s) excluded: their child jobs carry the bytes and slots")
    return dict(queries=queries, warehouses=totals, projects=comparisons, cloud_services_billed_credits=0.0,
                total_credits=0.0, total_usd=sum(c.usd for c in queries.values()), notes=tuple(notes))


# --- Savings ---------------------------------------------------------------------------

POOL_KEYS = ("warehouse", "reservation", "project")


def usage_usd(usage: Mapping[str, float], cost: WarehouseCost) -> float:
    """Money of an ``avoidable_usage`` mapping: credits, tib_billed and slot_hours at catalog prices."""
    return (usage.get("credits", 0.0) * cost.usd_per_credit + usage.get("tib_billed", 0.0) * cost.usd_per_tib
            + usage.get("slot_hours", 0.0) * cost.slot_hour_usd)


def finding_pool(finding: Finding) -> str | None:
    """The warehouse, reservation or project a finding's subject names (who pays)."""
    return next((str(finding.subject[k]) for k in POOL_KEYS if finding.subject.get(k)), None)


def assign_warehouse_savings(findings: Iterable[Finding], cost: WarehouseCost) -> list[Finding]:
    """Price each finding's avoidable usage; findings on one pool never save more than its bill.

    Findings overlap (a full scan may also be a repeated SELECT *), so when the savings on a
    pool add up to more than the pool's bill (or, for ``savings_bucket="idle"``, its idle
    cost) they are scaled down proportionally. Usage a rule reports as negative (the other
    pricing model's slot-hours) is a cost of the change and nets against the saving.
    ``paid_*`` evidence in billing units (what the subject cost) is priced as ``paid_usd``.
    """
    items = list(findings)
    raw = [max(0.0, usage_usd(f.avoidable_usage, cost)) for f in items]
    for bucket in ("idle", None):
        groups: dict[str | None, list[int]] = defaultdict(list)
        for i, f in enumerate(items):
            if bucket is None or f.savings_bucket == bucket:
                groups[finding_pool(f)].append(i)
        for pool, idx in groups.items():
            total = cost.warehouses.get(pool or "")
            cap = cost.total_usd if total is None else (total.idle_usd if bucket == "idle" else total.usd)
            spent = sum(raw[i] for i in idx)
            if spent > cap:
                for i in idx:
                    raw[i] *= cap / spent if spent else 0.0
    out = []
    for f, usd in zip(items, raw, strict=True):
        evidence = dict(f.evidence)
        paid = {k[5:]: float(v) for k, v in f.evidence.items()
                if k in ("paid_credits", "paid_tib_billed", "paid_slot_hours") and isinstance(v, int | float)}
        if paid:
            evidence["paid_usd"] = round(usage_usd(paid, cost), 2)
        out.append(replace(f, estimated_savings_usd=round(usd, 2), evidence=evidence,
                           savings_bucket=f.savings_bucket or "compute"))
    return out
