"""snowflake.undersized-warehouse: remote spill and overload queueing on too small a warehouse."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable, nan_to_zero
from analyzer.core.units import GiB
from analyzer.core.warehouse_model import WarehouseHistory
from analyzer.core.warehouse_usage import credits_per_hour, resize
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import current_size, percentile, text_at, warehouse_rows

BIN_MS = 300_000  # WAREHOUSE_LOAD_HISTORY's 5-minute intervals


@dataclass(frozen=True, slots=True)
class LoadMeasure:
    """Remote spill and overload queueing of one warehouse."""

    queries: int
    remote_spill_queries: int
    remote_spilled_bytes: int
    local_spilled_bytes: int
    spill_time_share: float  # execution time of remote-spilling queries / all execution time
    p90_remote_to_local: float  # p90 over remote-spilling queries of remote / local spill
    queued_overload_ms: int
    overload_share: float  # queued_overload / total elapsed
    demand_ratio_p90: float  # p90 over queueing 5-min bins of (executing + queued) / executing


def measure(table: QueryTable, rows: np.ndarray | None = None) -> LoadMeasure:
    """Spill and queueing figures (dbt-cost-optimization's overload_to_elapsed_ratio, summed).

    ``rows`` are the warehouse's row positions in ``table`` (default: all rows).
    """
    rows = np.arange(len(table)) if rows is None else rows
    execution = nan_to_zero(table.numbers("execution_ms")[rows])
    remote = table.numbers("spilled_remote_bytes")[rows]
    local = table.numbers("spilled_local_bytes")[rows]
    spilling = remote > 0
    ratios = remote[spilling] / np.maximum(1, local[spilling])
    elapsed = float(nan_to_zero(table.numbers("total_elapsed_ms")[rows]).sum())
    queued_ms = nan_to_zero(table.numbers("queued_overload_ms")[rows])
    queued = float(queued_ms.sum())
    return LoadMeasure(
        queries=int(rows.size), remote_spill_queries=int(spilling.sum()),
        remote_spilled_bytes=int(remote[spilling].sum()), local_spilled_bytes=int(local.sum()),
        spill_time_share=_share(float(execution[spilling].sum()), float(execution.sum())),
        p90_remote_to_local=percentile(ratios, 0.9), queued_overload_ms=int(queued),
        overload_share=queued / elapsed if elapsed else 0.0,
        demand_ratio_p90=_demand_ratio(table.numbers("start_time_ms")[rows], execution, queued_ms),
    )


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def demand_ratio(table: QueryTable, rows: np.ndarray | None = None) -> float:
    """p90 over 5-minute bins with queueing of (execution + overload queueing) / execution time.

    A ratio of 2 means as much work waited as ran: twice the capacity (two clusters) would have
    run it without waiting. Time is binned by each query's start, as load history does roughly.
    """
    rows = np.arange(len(table)) if rows is None else rows
    execution = nan_to_zero(table.numbers("execution_ms")[rows])
    return _demand_ratio(table.numbers("start_time_ms")[rows], execution,
                         nan_to_zero(table.numbers("queued_overload_ms")[rows]))


def _demand_ratio(start_ms: np.ndarray, execution_ms: np.ndarray, queued_ms: np.ndarray) -> float:
    """``demand_ratio`` of queries given as start times (NaN unknown: bin 0), execution and queued ms."""
    bins, which = np.unique(nan_to_zero(start_ms) // BIN_MS, return_inverse=True)
    running = np.bincount(which, weights=execution_ms, minlength=bins.size)
    waiting = np.bincount(which, weights=queued_ms, minlength=bins.size)
    queueing = (waiting > 0) & (running > 0)
    return percentile((running[queueing] + waiting[queueing]) / running[queueing], 0.9)


class UndersizedWarehouse(WarehouseRule["UndersizedWarehouse.Config"]):
    """A Snowflake warehouse is too small for its work: queries spill to remote storage or queue.

    ## Why it matters
    A query whose working set exceeds the warehouse's memory and local SSD spills to remote
    storage and can run many times slower, billing warehouse time all along. Queries that
    queue because the warehouse is overloaded (``queued_overload_time``) are not billed while
    they wait, but their users and downstream jobs wait.

    ## Anti-pattern
    Large joins, sorts or window functions on an X-Small or Small warehouse; a BI warehouse
    sized for one user serving a whole team at 9 a.m.

    ## Fix
    Remote spill: one size up per doubling of memory needed
    (``ALTER WAREHOUSE etl_wh SET WAREHOUSE_SIZE = 'LARGE';``), or split the work into smaller
    batches. Queueing: scale out, not up
    (``ALTER WAREHOUSE bi_wh SET MAX_CLUSTER_COUNT = 3 SCALING_POLICY = 'STANDARD';``,
    Enterprise edition), with the cluster count computed from the queued demand.

    ## Savings estimate
    None claimed: both fixes buy speed with credits. The evidence gives the extra credits per
    hour of the new size; a query that stops spilling remotely often finishes more than
    twice as fast, which can make the larger size cost the same or less.

    ## Known problems
    Remote spill is benign when Query Acceleration handles it. Queueing figures come from
    per-query ``queued_overload_time``, binned by start time, not WAREHOUSE_LOAD_HISTORY.
    Warehouses with fewer than ``min_remote_spilled_bytes`` remote spill and no queueing
    above the lowest threshold are ignored.
    """

    id = "snowflake.undersized-warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of snowflake.undersized-warehouse."""

        spill_time_share: Thresholds = option(Thresholds(low=0.05, medium=0.1, high=0.25, critical=0.5),
                                              "execution time of queries spilling to remote storage / all")
        overload_share: Thresholds = option(Thresholds(low=0.05, medium=0.1, high=0.2, critical=0.4),
                                            "queued_overload_time / total_elapsed_time over all queries")
        min_remote_spilled_bytes: int = option(1 * GiB, "damping: ignore less remote spill in the window")
        max_steps_up: int = option(2, "recommend at most this many size steps up at once")
        max_clusters: int = option(10, "upper bound of the recommended MAX_CLUSTER_COUNT")

    def check(self, history: WarehouseHistory, config: UndersizedWarehouse.Config) -> Iterator[Finding]:
        """Up to two findings per warehouse: remote spill (size up) and queueing (scale out)."""
        for name, rows in sorted(warehouse_rows(history).items()):
            m = measure(history.queries, rows)
            size = current_size(history, name, rows)
            spill = config.spill_time_share.severity(m.spill_time_share)
            if spill and m.remote_spilled_bytes >= config.min_remote_spilled_bytes and size:
                kind = text_at(history.queries, "warehouse_type", rows[-1]) or ""
                yield self._spill_finding(name, size, m, spill, config, kind)
            queue = config.overload_share.severity(m.overload_share)
            if queue:
                yield self._queue_finding(name, size, m, queue, config)

    def _spill_finding(self, name: str, size: str, m: LoadMeasure, severity: str, config: Config,
                       kind: str) -> Finding:
        steps = max(1, min(config.max_steps_up, math.ceil(math.log2(1 + m.p90_remote_to_local))))
        new = resize(size, steps)
        rate = credits_per_hour(size, kind) or 0.0  # the warehouse type's rates (Snowpark-optimized: 1.5x)
        new_rate = (credits_per_hour(new.name, kind) or 0.0) if new else 0.0
        return Finding(
            rule_id=self.id, severity=severity,
            subject={"vendor": "snowflake", "warehouse": name, "cause": "spill"},
            title=f"{m.remote_spill_queries} queries on {size} warehouse {name} spilled "
                  f"{m.remote_spilled_bytes / GiB:,.1f} GiB to remote storage",
            evidence={
                "size": size, "queries": m.queries, "remote_spill_queries": m.remote_spill_queries,
                "remote_spilled_bytes": m.remote_spilled_bytes, "local_spilled_bytes": m.local_spilled_bytes,
                "spill_time_share": round(m.spill_time_share, 4),
                "p90_remote_to_local_spill": round(m.p90_remote_to_local, 3),
                "recommended_size": new.name if new else None, "extra_credits_per_hour": new_rate - rate,
            },
            recommendation=(f"ALTER WAREHOUSE {name} SET WAREHOUSE_SIZE = '{new.ddl if new else '?'}';  -- "
                            f"{size} → {new.name if new else '?'}: {2**steps}× the memory and local disk, so "
                            f"the p90 spilling query ({m.p90_remote_to_local:.1f}× as much remote as local "
                            f"spill) fits locally; or process it in smaller batches"),
            tradeoffs=f"{rate:g} → {new_rate:g} credits/h while running: cheaper overall only if the "
                      "spilling "
                      "queries speed up by more than that factor; other queries on the warehouse pay the "
                      "higher rate too (consider a separate larger warehouse for the heavy jobs).",
            confidence="high",  # spill measured; no saving claimed (the cost is speed)
        )

    def _queue_finding(self, name: str, size: str | None, m: LoadMeasure, severity: str,
                       config: Config) -> Finding:
        clusters = max(2, min(config.max_clusters, math.ceil(m.demand_ratio_p90) + 1))
        return Finding(
            rule_id=self.id, severity=severity,
            subject={"vendor": "snowflake", "warehouse": name, "cause": "queueing"},
            title=f"Queries on warehouse {name} spent {m.overload_share:.0%} of their time queued (overload)",
            evidence={
                "size": size, "queries": m.queries, "queued_overload_ms": m.queued_overload_ms,
                "overload_share": round(m.overload_share, 4),
                "demand_ratio_p90": round(m.demand_ratio_p90, 3),
                "recommended_max_cluster_count": clusters,
            },
            recommendation=(f"ALTER WAREHOUSE {name} SET MIN_CLUSTER_COUNT = 1 "
                            f"MAX_CLUSTER_COUNT = {clusters} "
                            f"SCALING_POLICY = 'STANDARD';  -- at peak, {m.demand_ratio_p90:.1f}× the work "
                            f"that ran was waiting (multi-cluster needs Enterprise edition)"),
            tradeoffs="Every running cluster bills the full size rate: busy periods cost up to "
                      f"{clusters}× as much per hour. SCALING_POLICY = 'ECONOMY' starts clusters more "
                      "reluctantly: fewer credits, some queueing left.",
            confidence="high",  # queueing measured; no saving claimed
        )
