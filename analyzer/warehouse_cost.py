"""Warehouse bills: Snowflake credits and BigQuery bytes or slot-hours priced, per query and per warehouse.

The usage comes from ``warehouse_usage``, which knows no price: each query's share of
metered Snowflake warehouse-hours, BigQuery TiB billed and slot-hours, and who pays.
Idle credits are what Snowflake itself calls idle: metered compute minus
``credits_attributed_compute_queries``. Cloud services are billed only above 10 % of the
day's compute. ``price_history`` and ``assign_warehouse_savings`` turn usage into money
with the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from analyzer.catalog import PriceCatalog
from analyzer.model import MeteringHour, QueryRecord, WarehouseHistory
from analyzer.report import Finding
from analyzer.warehouse_usage import (
    MS_PER_HOUR,
    CreditShare,
    bigquery_pool,
    credits_per_hour,
    execution_interval,
    history_query_credits,
    merged,
    ran_on_warehouse,
    slot_hours,
    snowflake_pool,
    tib_billed,
)

MS_PER_DAY = 86_400_000
CLOUD_SERVICES_FREE_SHARE = 0.10


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
