"""snowflake.idle-warehouse: credits billed while a warehouse runs no query."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable
from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory
from analyzer.core.warehouse_usage import billed_seconds_of, credits_per_hour, execution_intervals, merged
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import current_size, metering_rows, percentile, text_at, warehouse_rows

SNOWFLAKE_DEFAULT_AUTO_SUSPEND_S = 600


@dataclass(frozen=True, slots=True)
class IdleMeasure:
    """Idle credits of one warehouse and the auto-suspend its gaps between queries call for."""

    metered_credits: float
    attributed_credits: float
    idle_credits: float
    idle_share: float
    gaps_within_bursts: int
    p90_gap_s: float
    median_gap_s: float
    recommended_auto_suspend_s: int
    current_billed_s: float
    recommended_billed_s: float
    avoidable_credits: float


def measure(table: QueryTable, metering: Sequence[MeteringHour], rate: float, auto_suspend_s: int | None,
            burst_gap_s: float, bounds: tuple[int, int], rows: np.ndarray | None = None) -> IdleMeasure:
    """Idle = metered compute − credits attributed to queries (simulated when not metered).

    Gaps between busy periods up to ``burst_gap_s`` are pauses within a burst of work; the
    recommended AUTO_SUSPEND is their p90, rounded up to whole minutes and kept within
    ``bounds``, so the warehouse stays warm (cache, no resume latency) inside bursts and
    stops between them. Both settings are simulated with per-second billing and the
    60-second minimum per resume; the difference, capped at the idle credits, is avoidable.
    ``rows`` are the warehouse's row positions in ``table`` (default: all rows).
    """
    rows = np.arange(len(table)) if rows is None else rows
    lo, hi = execution_intervals(table)
    return _measure(lo[rows], hi[rows], metering, rate, auto_suspend_s, burst_gap_s, bounds)


def _measure(lo: np.ndarray, hi: np.ndarray, metering: Sequence[MeteringHour], rate: float,
             auto_suspend_s: int | None, burst_gap_s: float, bounds: tuple[int, int]) -> IdleMeasure:
    """``measure`` of queries whose execution intervals (ms, NaN unknown) are ``lo``, ``hi``."""
    starts, ends = merged(lo, hi)
    busy_credits = float((ends - starts).sum()) / 3_600_000 * rate
    gaps = (starts[1:] - ends[:-1]) / 1000
    inside = gaps[gaps <= burst_gap_s]
    p90 = percentile(inside, 0.9)
    recommended = int(min(bounds[1], max(bounds[0], math.ceil(p90 / 60) * 60)))
    current = billed_seconds_of(starts, ends, auto_suspend_s)
    proposed = billed_seconds_of(starts, ends, recommended)
    if metering:
        metered = sum(m.credits_compute for m in metering)
        reported = [m.credits_attributed_queries for m in metering]
        attributed = sum(r or 0.0 for r in reported) if None not in reported else min(metered, busy_credits)
    else:
        metered, attributed = current / 3600 * rate, busy_credits
    idle = max(0.0, metered - attributed)
    saving = min(idle, max(0.0, current - proposed) / 3600 * rate)
    return IdleMeasure(
        metered_credits=metered, attributed_credits=attributed, idle_credits=idle,
        idle_share=idle / metered if metered else 0.0, gaps_within_bursts=int(inside.size), p90_gap_s=p90,
        median_gap_s=percentile(gaps, 0.5),
        recommended_auto_suspend_s=recommended, current_billed_s=current, recommended_billed_s=proposed,
        avoidable_credits=saving,
    )


def auto_suspend_of(history: WarehouseHistory, name: str) -> tuple[int | None, bool]:
    """(AUTO_SUSPEND seconds, known?): 0/None means never; unknown settings assume the 600-s default."""
    for w in history.warehouses:
        if w.name == name:
            return w.auto_suspend_s, True
    return SNOWFLAKE_DEFAULT_AUTO_SUSPEND_S, False


class IdleWarehouse(WarehouseRule["IdleWarehouse.Config"]):
    """A Snowflake warehouse bills credits while no query runs.

    ## Why it matters
    A warehouse bills every second it is running, busy or not. After its last query it
    keeps running for AUTO_SUSPEND seconds; with a long AUTO_SUSPEND (or none) the gaps
    between bursts of work are paid in full at the warehouse's size.

    ## Anti-pattern
    ``AUTO_SUSPEND = 3600`` (or 0/NULL: never) on a warehouse used for a few minutes an hour.

    ## Fix
    ``ALTER WAREHOUSE bi_wh SET AUTO_SUSPEND = 60;`` with the value computed from the
    observed gaps between queries: the p90 of the pauses within bursts of work (gaps up to
    ``burst_gap_s``), in whole minutes, between ``min_auto_suspend_s`` and
    ``max_auto_suspend_s``.

    ## Savings estimate
    Idle credits are metered compute minus the credits Snowflake attributes to queries
    (``credits_attributed_compute_queries``; estimated from busy time when absent). The
    avoidable part simulates the current and the recommended AUTO_SUSPEND over the observed
    busy periods (per-second billing, 60 s minimum per resume) and is capped at the idle
    credits.

    ## Known problems
    Each resume bills at least 60 seconds and starts with a cold local cache, so a value
    below the typical gap makes the next query slower and can cost more than it saves;
    that is why the gaps inside bursts set the value. Multi-cluster warehouses are simulated
    as one cluster. Warehouses whose settings are not visible are assumed to use the
    600-second default. Less than ``min_idle_credits`` of idle time is ignored.
    """

    id = "snowflake.idle-warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of snowflake.idle-warehouse."""

        idle_share: Thresholds = option(Thresholds(low=0.2, medium=0.4, high=0.6, critical=0.8),
                                        "idle credits / metered compute credits")
        burst_gap_s: float = option(600.0, "gaps up to this long are pauses within a burst of work "
                                           "(seconds); longer ones are breaks between bursts")
        min_auto_suspend_s: int = option(60, "lowest AUTO_SUSPEND to recommend (each resume bills 60 s)")
        max_auto_suspend_s: int = option(600, "highest AUTO_SUSPEND to recommend (Snowflake's default)")
        min_idle_credits: float = option(5.0, "damping: ignore warehouses idle for fewer credits")

    def check(self, history: WarehouseHistory, config: IdleWarehouse.Config) -> Iterator[Finding]:
        """One finding per warehouse with idle credits and a shorter AUTO_SUSPEND to propose."""
        table = history.queries
        lo, hi = execution_intervals(table)
        for name, rows in sorted(warehouse_rows(history).items()):
            kind = text_at(table, "warehouse_type", rows[-1])
            rate = credits_per_hour(current_size(history, name, rows), kind)
            if not rate:
                continue
            suspend, known = auto_suspend_of(history, name)
            m = _measure(lo[rows], hi[rows], metering_rows(history, name), rate, suspend, config.burst_gap_s,
                         (config.min_auto_suspend_s, config.max_auto_suspend_s))
            shorter = not suspend or m.recommended_auto_suspend_s < suspend
            severity = config.idle_share.severity(m.idle_share)
            if severity and shorter and m.idle_credits >= config.min_idle_credits:
                yield self._finding(name, suspend, known, m, severity)

    def _finding(self, name: str, suspend: int | None, known: bool, m: IdleMeasure, severity: str) -> Finding:
        current = "never" if not suspend else f"{suspend} s" + ("" if known else " (assumed default)")
        why = (f"p90 pause within bursts {m.p90_gap_s:.0f} s" if m.gaps_within_bursts
               else f"queries come in isolated runs, {m.median_gap_s:.0f} s apart (median)")
        return Finding(
            rule_id=self.id, severity=severity, subject={"vendor": "snowflake", "warehouse": name},
            title=f"Warehouse {name} was idle for {m.idle_share:.0%} of its metered credits "
                  f"(AUTO_SUSPEND {current})",
            evidence={
                "metered_credits": round(m.metered_credits, 4),
                "attributed_credits": round(m.attributed_credits, 4),
                "idle_credits": round(m.idle_credits, 4), "idle_share": round(m.idle_share, 4),
                "auto_suspend_s": suspend, "auto_suspend_known": known,
                "gaps_within_bursts": m.gaps_within_bursts,
                "p90_gap_within_bursts_s": round(m.p90_gap_s, 1), "median_gap_s": round(m.median_gap_s, 1),
                "recommended_auto_suspend_s": m.recommended_auto_suspend_s,
                "simulated_billed_s_current": round(m.current_billed_s),
                "simulated_billed_s_recommended": round(m.recommended_billed_s),
            },
            recommendation=(f"ALTER WAREHOUSE {name} SET AUTO_SUSPEND = {m.recommended_auto_suspend_s};  -- "
                            f"{why}; the warehouse then stops between bursts instead of after {current}"),
            tradeoffs="Each resume bills at least 60 seconds and starts with a cold local disk cache (the "
                      "first queries after a resume read from remote storage and run slower); a value "
                      "below the usual pause between queries costs more than it saves.",
            savings_bucket="idle",
            avoidable_usage={"credits": round(m.avoidable_credits, 6)},
        )
