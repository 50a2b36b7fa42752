"""snowflake.oversized-warehouse: large warehouses that only ever run small, short queries."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable, nan_to_zero
from analyzer.core.units import GiB
from analyzer.core.warehouse_model import WarehouseHistory
from analyzer.core.warehouse_usage import busy_ms, credits_per_hour, execution_intervals, resize, size_index
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import (
    current_size,
    percentile,
    text_at,
    warehouse_compute_credits,
    warehouse_rows,
)


@dataclass(frozen=True, slots=True)
class SizeMeasure:
    """The workload of one warehouse, as far as its size matters."""

    size: str
    queries: int
    p95_execution_s: float
    p95_scanned_bytes: float
    spilled_bytes: int
    concurrency: float
    compute_credits: float
    steps_possible: int


def measure(table: QueryTable, size: str, compute_credits: float, target_s: float,
            rows: np.ndarray | None = None) -> SizeMeasure:
    """p95 execution time and bytes, spill, average concurrency while busy, and how far it could shrink.

    ``rows`` are the warehouse's row positions in ``table`` (default: all rows).
    ``steps_possible`` is the largest number of size steps down after which the p95 query
    would still finish within ``target_s`` even if its runtime doubled at every step
    (the pessimistic case: work that scales perfectly with the warehouse).
    """
    rows = np.arange(len(table)) if rows is None else rows
    lo, hi = execution_intervals(table)
    return _measure(table, rows, lo[rows], hi[rows], size, compute_credits, target_s)


def _measure(table: QueryTable, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, size: str,
             compute_credits: float, target_s: float) -> SizeMeasure:
    """``measure`` of ``rows`` whose execution intervals (ms, NaN unknown) are ``lo``, ``hi``."""
    reported = table.numbers("execution_ms")[rows]
    executions = nan_to_zero(reported) / 1000
    known = ~np.isnan(lo) & ~np.isnan(hi)
    busy = busy_ms(lo, hi)
    p95 = percentile(executions, 0.95)
    steps = min(size_index(size) or 0, _steps_down(target_s, p95, timed=bool((~np.isnan(reported)).any())))
    spilled = int(table.numbers("spilled_local_bytes")[rows].sum()) + int(
        table.numbers("spilled_remote_bytes")[rows].sum())
    return SizeMeasure(
        size=size, queries=int(rows.size), p95_execution_s=p95,
        p95_scanned_bytes=percentile(table.numbers("bytes_scanned")[rows], 0.95),
        spilled_bytes=spilled,
        concurrency=float((hi[known] - lo[known]).sum()) / busy if busy else 0.0,
        compute_credits=compute_credits, steps_possible=max(0, steps),
    )


def _steps_down(target_s: float, p95_s: float, *, timed: bool) -> int:
    """Size steps the p95 query could afford if its runtime doubled at each: ``log2(target / p95)``.

    Queries that all ran in no measurable time can afford any number of steps; a history
    with no execution times at all gives no evidence, so none.
    """
    if p95_s <= 0:
        return 1 << 10 if timed else 0
    headroom = target_s / p95_s
    return math.floor(math.log2(headroom)) if headroom >= 1 else 0


class OversizedWarehouse(WarehouseRule["OversizedWarehouse.Config"]):
    """A large Snowflake warehouse runs only small, short queries.

    ## Why it matters
    Each size step doubles the credits per hour. Queries that read little data and finish in
    seconds gain almost nothing from more nodes: their time goes to compilation, metadata and
    result transfer. The warehouse bills its size for every second it runs, including the
    auto-suspend tail after each burst.

    ## Anti-pattern
    A BI or service warehouse created X-Large "to be fast" that serves 2-second lookups.

    ## Fix
    Step down: ``ALTER WAREHOUSE bi_wh SET WAREHOUSE_SIZE = 'SMALL';``. The recommended size
    is the smallest (at most ``max_steps`` down) at which the p95 query would still finish
    within ``target_p95_execution_s`` even if its runtime doubled at every step.

    ## Savings estimate
    Each step down halves the credits per hour. The warehouse's metered hours are assumed to
    stay the same (for short queries they are dominated by auto-suspend tails and 60-second
    minimums, not by query runtime): saving = metered compute × (1 − 0.5^steps).

    ## Known problems
    Only warehouses at ``min_size`` or larger whose queries never spill, read at most
    ``max_p95_scanned_bytes`` (p95) and run at most ``max_concurrency`` at a time on average
    are considered. A rare large query not in the window may need the old size. Warehouses
    billing fewer than ``min_credits`` in the window are ignored.
    """

    id = "snowflake.oversized-warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of snowflake.oversized-warehouse."""

        steps_possible: Thresholds = option(Thresholds(low=1, medium=2, high=3, critical=4),
                                            "size steps down the workload would still fit in")
        target_p95_execution_s: float = option(60.0, "p95 query time the smaller size must keep (seconds)")
        max_p95_scanned_bytes: int = option(1 * GiB, "only warehouses whose p95 query reads at most this")
        max_concurrency: float = option(2.0, "only warehouses averaging at most this many queries at once")
        min_size: str = option("Medium", "only warehouses of this size or larger")
        max_steps: int = option(3, "recommend at most this many steps down at once")
        min_credits: float = option(10.0, "damping: ignore warehouses billing fewer compute credits")

    def check(self, history: WarehouseHistory, config: OversizedWarehouse.Config) -> Iterator[Finding]:
        """One finding per warehouse whose workload fits a smaller size."""
        table = history.queries
        lo, hi = execution_intervals(table)
        for name, rows in sorted(warehouse_rows(history).items()):
            size = current_size(history, name, rows)
            if size is None or (size_index(size) or 0) < (size_index(config.min_size) or 0):
                continue
            credits = warehouse_compute_credits(history, name, rows)
            m = _measure(table, rows, lo[rows], hi[rows], size, credits, config.target_p95_execution_s)
            small = m.p95_scanned_bytes <= config.max_p95_scanned_bytes and m.spilled_bytes == 0
            if not small or m.concurrency > config.max_concurrency or m.compute_credits < config.min_credits:
                continue
            kind = text_at(table, "warehouse_type", rows[-1]) or ""
            floor = 2 if "SNOWPARK" in kind.upper() else 0  # Snowpark-optimized sizes start at Medium
            m = replace(m, steps_possible=max(0, min(m.steps_possible, (size_index(size) or 0) - floor)))
            severity = config.steps_possible.severity(m.steps_possible)
            steps = min(m.steps_possible, config.max_steps)
            if severity and steps > 0:
                yield self._finding(name, m, steps, severity, config, kind)

    def _finding(self, name: str, m: SizeMeasure, steps: int, severity: str, config: Config,
                 kind: str) -> Finding:
        new = resize(m.size, -steps)
        if new is None:  # unreachable: check() only passes sizes size_index() knows
            raise ValueError(f"unknown warehouse size {m.size!r}")
        rate, new_rate = credits_per_hour(m.size, kind), credits_per_hour(new.name, kind)  # the type's rates
        saved = m.compute_credits * (1 - 0.5**steps)
        return Finding(
            rule_id=self.id, severity=severity, subject={"vendor": "snowflake", "warehouse": name},
            title=f"{m.size} warehouse {name} runs only short queries (p95 {m.p95_execution_s:.1f} s)",
            evidence={
                "size": m.size, "credits_per_hour": rate, "queries": m.queries,
                "p95_execution_ms": round(m.p95_execution_s * 1000),
                "p95_scanned_bytes": int(m.p95_scanned_bytes),
                "spilled_bytes": m.spilled_bytes, "average_concurrency": round(m.concurrency, 2),
                "compute_credits": round(m.compute_credits, 4), "steps_possible": m.steps_possible,
                "recommended_size": new.name, "recommended_credits_per_hour": new_rate,
            },
            recommendation=(
                f"ALTER WAREHOUSE {name} SET WAREHOUSE_SIZE = '{new.ddl}';  -- {m.size} → {new.name}: "
                f"{rate:g} → {new_rate:g} credits/h; the p95 query "
                f"({m.p95_execution_s:.1f} s) stays under {config.target_p95_execution_s:g} s even if it "
                f"ran {2**steps}× slower"),
            tradeoffs="A smaller warehouse has less memory, local disk and cache: a rare large query may "
                      "spill "
                      "or run slower (resize for it, or route it to another warehouse). Short queries may "
                      "queue if concurrency grows.",
            avoidable_usage={"credits": round(saved, 6)},
            confidence="medium",  # the saving assumes the metered hours stay the same at the smaller size
        )
