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
from rules.damping import early_warning
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import current_size, metering_rows, percentile, text_at, warehouse_rows

SNOWFLAKE_DEFAULT_AUTO_SUSPEND_S = 600
#: AUTO_SUSPEND values tried when the warehouse's setting is not in the export (0: never suspends).
CANDIDATE_AUTO_SUSPEND_S = (60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 7200, 14_400, 0)
_SOURCE_NOTE = {"setting": "", "assumed": ", assumed default",
                "inferred": ", inferred from the metered credits"}


@dataclass(frozen=True, slots=True)
class IdleMeasure:
    """Idle credits of one warehouse and the auto-suspend its gaps between queries call for.

    ``metered`` is False when the warehouse had no metering rows: ``metered_credits`` and the
    idle figures are then the simulation of the current AUTO_SUSPEND, not a measurement.
    """

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
    metered: bool = True
    attributed_reported: bool = True

    def simulated_credits(self, billed_s: float, rate: float) -> float:
        """Credits of a simulated number of billed seconds at ``rate`` credits per hour."""
        return billed_s / 3600 * rate


def measure(table: QueryTable, metering: Sequence[MeteringHour], rate: float, auto_suspend_s: int | None,
            burst_gap_s: float, bounds: tuple[int, int], rows: np.ndarray | None = None) -> IdleMeasure:
    """Idle = metered compute − credits attributed to queries (simulated when not metered).

    Gaps between busy periods up to ``burst_gap_s`` are pauses within a burst of work; the
    recommended AUTO_SUSPEND is their p90, rounded up to whole minutes and kept within
    ``bounds``, so the warehouse stays warm (cache, no resume latency) inside bursts and
    stops between them. The recommendation is simulated with per-second billing and the
    60-second minimum per resume; what it would save is the metered compute above that
    simulation, capped at the idle credits (without metering: the simulated current setting
    above it). ``rows`` are the warehouse's row positions in ``table`` (default: all rows).
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
    reported = [m.credits_attributed_queries for m in metering]
    if metering:
        metered = sum(m.credits_compute for m in metering)
        attributed = sum(r or 0.0 for r in reported) if None not in reported else min(metered, busy_credits)
        above = metered - proposed / 3600 * rate  # what the metering shows beyond the recommendation
    else:
        metered, attributed = current / 3600 * rate, busy_credits
        above = (current - proposed) / 3600 * rate
    idle = max(0.0, metered - attributed)
    return IdleMeasure(
        metered_credits=metered, attributed_credits=attributed, idle_credits=idle,
        idle_share=idle / metered if metered else 0.0, gaps_within_bursts=int(inside.size), p90_gap_s=p90,
        median_gap_s=percentile(gaps, 0.5),
        recommended_auto_suspend_s=recommended, current_billed_s=current, recommended_billed_s=proposed,
        avoidable_credits=min(idle, max(0.0, above)), metered=bool(metering),
        attributed_reported=bool(metering) and None not in reported,
    )


def infer_auto_suspend(lo: np.ndarray, hi: np.ndarray, rate: float, metered: float) -> int | None:
    """The AUTO_SUSPEND (seconds; 0 = never) whose simulation over the queries best reproduces ``metered``.

    None when the metered credits are below the simulation of even the shortest candidate
    (60 s): the warehouse bills less than any setting the rule could recommend would.
    """
    starts, ends = merged(lo, hi)
    simulated = {s: billed_seconds_of(starts, ends, s) / 3600 * rate for s in CANDIDATE_AUTO_SUSPEND_S}
    if metered < simulated[CANDIDATE_AUTO_SUSPEND_S[0]]:
        return None
    return min(CANDIDATE_AUTO_SUSPEND_S, key=lambda s: abs(simulated[s] - metered))


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
    recommended AUTO_SUSPEND is simulated over the observed busy periods (per-second billing,
    60 s minimum per resume); the metered compute above that simulation, capped at the idle
    credits, is avoidable. The saving therefore agrees with the metered credits: a warehouse
    already billing less than the recommendation would gets no finding.

    ## Known problems
    Each resume bills at least 60 seconds and starts with a cold local cache, so a value
    below the typical gap makes the next query slower and can cost more than it saves;
    that is why the gaps inside bursts set the value. Multi-cluster warehouses are simulated
    as one cluster. When the export has no warehouse settings the current AUTO_SUSPEND is not
    assumed: it is inferred as the value whose simulation best reproduces the metered credits
    (confidence medium), and a warehouse metered below even a 60-second simulation gets no
    finding. Without metering rows idle time is not measured (the cost table says so): the
    simulation is at most an ``info`` early warning claiming no saving, with confidence low
    when the AUTO_SUSPEND is assumed (600 s, Snowflake's default). Confidence is high when
    metering, attributed credits and the setting are all in the export. Less than
    ``min_idle_credits`` of idle time is ignored.
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
        """One finding per warehouse with idle credits and a shorter AUTO_SUSPEND that bills less."""
        table = history.queries
        lo, hi = execution_intervals(table)
        for name, rows in sorted(warehouse_rows(history).items()):
            kind = text_at(table, "warehouse_type", rows[-1])
            rate = credits_per_hour(current_size(history, name, rows), kind)
            if not rate:
                continue
            suspend, known = auto_suspend_of(history, name)
            source = "setting" if known else "assumed"
            metering = metering_rows(history, name)
            if metering and not known:
                metered = sum(m.credits_compute for m in metering)
                inferred = infer_auto_suspend(lo[rows], hi[rows], rate, metered)
                if inferred is None:
                    continue  # metered below any setting's simulation: nothing a shorter one would save
                suspend, source = inferred, "inferred"
            m = _measure(lo[rows], hi[rows], metering, rate, suspend, config.burst_gap_s,
                         (config.min_auto_suspend_s, config.max_auto_suspend_s))
            shorter = not suspend or m.recommended_auto_suspend_s < suspend
            severity = config.idle_share.severity(m.idle_share)
            if not (severity and shorter and m.idle_credits >= config.min_idle_credits):
                continue
            if m.metered and m.avoidable_credits <= 0:
                continue  # the metering is already at or below what the recommendation would bill
            finding = self._finding(name, suspend, source, m, severity, rate)
            yield finding if m.metered else _unmetered(finding, m, rate)

    def _finding(self, name: str, suspend: int | None, source: str, m: IdleMeasure, severity: str,
                 rate: float) -> Finding:
        current = "never" if not suspend else f"{suspend} s"
        why = (f"p90 pause within bursts {m.p90_gap_s:.0f} s" if m.gaps_within_bursts
               else f"queries come in isolated runs, {m.median_gap_s:.0f} s apart (median)")
        measured = "idle for" if m.metered else "would idle (simulated) for"
        return Finding(
            rule_id=self.id, severity=severity, subject={"vendor": "snowflake", "warehouse": name},
            title=f"Warehouse {name} {measured} {m.idle_share:.0%} of its {'' if m.metered else 'simulated '}"
                  f"credits (AUTO_SUSPEND {current}{_SOURCE_NOTE[source]})",
            evidence={
                "metered_credits": round(m.metered_credits, 4), "metered": m.metered,
                "attributed_credits": round(m.attributed_credits, 4),
                "attributed_credits_reported": m.attributed_reported,
                "idle_credits": round(m.idle_credits, 4), "idle_share": round(m.idle_share, 4),
                "auto_suspend_s": suspend, "auto_suspend_known": source == "setting",
                "auto_suspend_source": source,
                "gaps_within_bursts": m.gaps_within_bursts,
                "p90_gap_within_bursts_s": round(m.p90_gap_s, 1), "median_gap_s": round(m.median_gap_s, 1),
                "recommended_auto_suspend_s": m.recommended_auto_suspend_s,
                "simulated_billed_s_current": round(m.current_billed_s),
                "simulated_billed_s_recommended": round(m.recommended_billed_s),
                "simulated_credits_current": round(m.simulated_credits(m.current_billed_s, rate), 4),
                "simulated_credits_recommended": round(m.simulated_credits(m.recommended_billed_s, rate), 4),
            },
            recommendation=(f"ALTER WAREHOUSE {name} SET AUTO_SUSPEND = {m.recommended_auto_suspend_s};  -- "
                            f"{why}; the warehouse then stops between bursts instead of after {current}"),
            tradeoffs="Each resume bills at least 60 seconds and starts with a cold local disk cache (the "
                      "first queries after a resume read from remote storage and run slower); a value "
                      "below the usual pause between queries costs more than it saves.",
            savings_bucket="idle",
            avoidable_usage={"credits": round(m.avoidable_credits, 6)},
            confidence=_confidence(m, source),
        )


def _confidence(m: IdleMeasure, source: str) -> str:
    """High when metering, attributed credits and the setting are in the export; low on an assumption."""
    if source == "assumed":
        return "low"
    return "high" if m.metered and m.attributed_reported and source == "setting" else "medium"


def _unmetered(finding: Finding, m: IdleMeasure, rate: float) -> Finding:
    """Without metering rows idle time is not measured: an early warning claiming no saving."""
    simulated = m.simulated_credits(m.current_billed_s - m.recommended_billed_s, rate)
    return early_warning(
        finding, finding.severity,
        ["no WAREHOUSE_METERING_HISTORY rows for this warehouse: its idle time is simulated, not measured"],
        f"The simulation suggests about {simulated:,.2f} credits could be saved over this window; export the "
        f"warehouse's metering (and its AUTO_SUSPEND setting) to measure it.", lead="Not measured")
