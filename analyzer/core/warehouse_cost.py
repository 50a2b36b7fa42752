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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analyzer.core.catalog import PriceCatalog
from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable, nan_to_zero
from analyzer.core.units import MS_PER_DAY
from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory
from analyzer.core.warehouse_patterns import QueryPattern, top_patterns
from analyzer.core.warehouse_savings import assign_savings
from analyzer.core.warehouse_usage import (
    MS_PER_HOUR,
    QueryUsage,
    busy_ms,
    credits_per_hour,
    execution_intervals,
    history_usage,
    ran_on_warehouse,
)

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


class QueryCosts(Mapping[str, QueryCost]):
    """What every query cost, as columns row-aligned with the history's ``QueryTable``.

    A million ``QueryCost`` objects would cost more than the pricing itself, so costs stay
    arrays (``usd``, ``compute_credits``, ...); looking up one query id builds its
    ``QueryCost``. Rows outside ``present`` (BigQuery SCRIPT parents) are not in the mapping.
    """

    def __init__(self, table: QueryTable, vendor: str, pool: pd.Series, *, usd: np.ndarray,
                 present: np.ndarray | None = None, **columns: np.ndarray) -> None:
        n = len(table)
        self.table, self.vendor, self.pool, self.usd = table, vendor, pool, usd
        self.present = np.ones(n, dtype=bool) if present is None else present
        zeros = np.zeros(n)
        self.columns = {name: columns.get(name, zeros) for name in _COST_COLUMNS}

    def __getitem__(self, query_id: str) -> QueryCost:
        i = self.table.index_of(query_id)
        if i is None or not self.present[i]:
            raise KeyError(query_id)
        values = {name: float(column[i]) for name, column in self.columns.items() if name != "estimated"}
        return QueryCost(query_id=query_id, vendor=self.vendor, pool=str(self.pool.iloc[i]),
                         usd=float(self.usd[i]), estimated=bool(self.columns["estimated"][i]), **values)

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.frame["query_id"].to_numpy()[self.present])

    def __len__(self) -> int:
        return int(self.present.sum())


_COST_COLUMNS = ("compute_credits", "cloud_services_credits", "tib_billed", "slot_hours", "on_demand_usd",
                 "editions_usd", "estimated")


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
    queries: QueryCosts
    warehouses: Mapping[str, WarehouseTotal]
    projects: Mapping[str, PricingComparison]
    cloud_services_billed_credits: float
    total_credits: float
    total_usd: float
    notes: tuple[str, ...] = ()
    patterns: tuple[QueryPattern, ...] = ()  # the costliest query patterns (analyzer.core.warehouse_patterns)


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
        cost = WarehouseCost(**base, **_price_bigquery(history, per_tib, per_slot))  # type: ignore[arg-type]
    else:
        cost = WarehouseCost(**base, **_price_snowflake(history, per_credit))  # type: ignore[arg-type]
    spent = np.where(cost.queries.present, cost.queries.usd, 0.0)
    pools = cost.queries.pool.cat
    names = np.asarray(pools.categories, dtype=object)
    patterns = top_patterns(history, spent, pools.codes.to_numpy(), names)
    return replace(cost, patterns=patterns)


def _pool_rows(pool: pd.Series) -> dict[str, np.ndarray]:
    """Row positions of each pool (who pays), in row order."""
    return {str(k): v for k, v in pool.groupby(pool, observed=True).indices.items()}


def _cloud_services(history: WarehouseHistory, usage: QueryUsage) -> tuple[np.ndarray, dict[str, float]]:
    """Billed cloud-services credits per query and per pool: max(0, CS − 10 % of compute) per day."""
    table = history.queries
    day = np.floor_divide(nan_to_zero(table.numbers("start_time_ms")), MS_PER_DAY).astype(np.int64)
    cs = nan_to_zero(table.numbers("credits_cloud_services"))
    days, which = np.unique(day, return_inverse=True)  # the days queries started on; each row's day
    which = which.ravel()
    cs_day: dict[int, float] = defaultdict(float)
    compute_day: dict[int, float] = defaultdict(float)
    pool_cs: dict[tuple[str, int], float] = defaultdict(float)
    if history.metering:
        for m in history.metering:
            d = m.start_time_ms // MS_PER_DAY
            cs_day[d] += m.credits_cloud_services
            compute_day[d] += m.credits_compute
            pool_cs[(m.warehouse, d)] += m.credits_cloud_services
    elif len(table):
        width = len(days)
        per_day_cs = np.bincount(which, weights=cs, minlength=width)
        per_day_compute = np.bincount(which, weights=usage.credits, minlength=width)
        for d, number in enumerate(days.tolist()):
            cs_day[number], compute_day[number] = float(per_day_cs[d]), float(per_day_compute[d])
        pools = usage.pool.cat
        pair = pools.codes.to_numpy().astype(np.int64) * width + which
        counts = np.bincount(pair, minlength=len(pools.categories) * width)
        sums = np.bincount(pair, weights=cs, minlength=len(pools.categories) * width)
        for key in np.flatnonzero(counts).tolist():
            pool_cs[(str(pools.categories[key // width]), int(days[key % width]))] = float(sums[key])
    billed = {d: max(0.0, c - CLOUD_SERVICES_FREE_SHARE * compute_day[d]) for d, c in cs_day.items()}
    share = {d: billed[d] / c if c else 0.0 for d, c in cs_day.items()}
    day_share = np.array([share.get(d, 0.0) for d in days.tolist()], dtype=np.float64)
    per_query = cs * day_share[which]
    per_pool: dict[str, float] = defaultdict(float)
    for (pool, d), c in pool_cs.items():
        per_pool[pool] += c * share[d]
    return per_query, per_pool


def _attributed(history: WarehouseHistory, rows_of_pool: np.ndarray, metering: list[MeteringHour],
                size: str | None) -> float:
    """Credits Snowflake attributes to queries (no idle); estimated from busy time when not reported."""
    if metering and all(m.credits_attributed_queries is not None for m in metering):
        return sum(m.credits_attributed_queries or 0.0 for m in metering)
    lo, hi = execution_intervals(history.queries)
    on = rows_of_pool[ran_on_warehouse(history.queries)[rows_of_pool]]
    return busy_ms(lo[on], hi[on]) * (credits_per_hour(size) or 0.0) / MS_PER_HOUR


def _price_snowflake(history: WarehouseHistory, per_credit: float) -> dict[str, object]:
    usage = history_usage(history)
    cs_query, cs_pool = _cloud_services(history, usage)
    usd = (usage.credits + cs_query) * per_credit
    queries = QueryCosts(history.queries, "snowflake", usage.pool, usd=usd,
                         compute_credits=usage.credits, cloud_services_credits=cs_query,
                         estimated=usage.estimated)
    by_pool = _pool_rows(usage.pool)
    rows: dict[str, list[MeteringHour]] = defaultdict(list)
    for m in history.metering:
        rows[m.warehouse].append(m)
    totals: dict[str, WarehouseTotal] = {}
    notes: list[str] = []
    none = np.zeros(0, dtype=np.int64)
    for name in sorted(set(rows) | set(by_pool)):
        idx = by_pool.get(name, none)
        query_credits = float(usage.credits[idx].sum())
        size = history.queries.last_text("warehouse_size", idx)
        metered = bool(rows.get(name))
        compute_credits = sum(m.credits_compute for m in rows[name]) if metered else query_credits
        idle = max(0.0, compute_credits - _attributed(history, idx, rows[name], size)) if metered else None
        if not metered and query_credits:
            notes.append(f"{name}: no metering rows; credits estimated as execution time × "
                         f"{credits_per_hour(size) or 0:g} credits/h ({size}); idle time unknown")
        totals[name] = WarehouseTotal(
            name=name, kind="warehouse", query_count=len(idx),
            usd=(compute_credits + cs_pool.get(name, 0.0)) * per_credit, compute_credits=compute_credits,
            query_credits=query_credits, idle_credits=idle, idle_usd=(idle or 0.0) * per_credit,
            cloud_services_credits=cs_pool.get(name, 0.0), metered=metered)
    cs_billed = sum(cs_pool.values())
    total_credits = sum(t.compute_credits for t in totals.values()) + cs_billed
    return dict(queries=queries, warehouses=totals, projects={}, cloud_services_billed_credits=cs_billed,
                total_credits=total_credits, total_usd=total_credits * per_credit, notes=tuple(notes))


def _price_bigquery(history: WarehouseHistory, per_tib: float, per_slot: float) -> dict[str, object]:
    table, usage = history.queries, history_usage(history)
    on_demand, editions = usage.tib_billed * per_tib, usage.slot_hours * per_slot
    reserved = table.frame["warehouse"].notna().to_numpy()
    usd = np.where(reserved, editions, on_demand)
    queries = QueryCosts(table, "bigquery", usage.pool, usd=usd, tib_billed=usage.tib_billed,
                         slot_hours=usage.slot_hours, on_demand_usd=on_demand, editions_usd=editions,
                         estimated=usage.estimated, present=~usage.script)
    project = table.frame["project"].astype(object).fillna("(unknown project)")
    frame = pd.DataFrame({"pool": usage.pool, "project": project, "reserved": reserved, "usd": usd,
                          "tib": usage.tib_billed, "slots": usage.slot_hours, "on_demand": on_demand,
                          "editions": editions})[~usage.script]
    totals = {}
    for name, group in sorted(frame.groupby("pool", observed=True), key=lambda kv: str(kv[0])):
        totals[str(name)] = WarehouseTotal(
            name=str(name), kind="reservation" if group["reserved"].iloc[-1] else "project",
            query_count=len(group), usd=float(group["usd"].sum()), tib_billed=float(group["tib"].sum()),
            slot_hours=float(group["slots"].sum()))
    comparisons = {}
    for project, group in sorted(frame.groupby("project"), key=lambda kv: str(kv[0])):
        comparisons[str(project)] = PricingComparison(
            project=str(project), jobs=len(group), tib_billed=float(group["tib"].sum()),
            slot_hours=float(group["slots"].sum()), on_demand_usd=float(group["on_demand"].sum()),
            editions_usd=float(group["editions"].sum()), actual_usd=float(group["usd"].sum()))
    notes = ["on-demand: the first 1 TiB per month per billing account is free and not deducted here"]
    scripts = int(usage.script.sum())
    if scripts:
        notes.append(f"{scripts} SCRIPT parent job(s) excluded: their child jobs carry the bytes and slots")
    return dict(queries=queries, warehouses=totals, projects=comparisons, cloud_services_billed_credits=0.0,
                total_credits=0.0, total_usd=float(usd[~usage.script].sum()), notes=tuple(notes))


# --- Savings: see warehouse_savings (the ledger of claims) ------------------------------


def assign_warehouse_savings(findings: Iterable[Finding], cost: WarehouseCost) -> list[Finding]:
    """Each finding's claim counted once in the ledger and priced (``warehouse_savings``)."""
    return assign_savings(findings, cost)
