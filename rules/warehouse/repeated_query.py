"""warehouse.repeated-query: the same read query paid for again and again (dashboards on a timer)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyzer.core.findings import Finding
from analyzer.core.query_table import combination_codes
from analyzer.core.sql_text import is_nondeterministic
from analyzer.core.units import MS_PER_DAY, MS_PER_HOUR, GiB
from analyzer.core.warehouse_model import QueryRecord, WarehouseHistory
from rules.damping import early_warning
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import (
    add_usage,
    fingerprints,
    paid_evidence,
    paid_rows,
    pool_keys,
    pool_subject,
    reads,
    records,
    rows_usage,
    snippet,
)


@dataclass(frozen=True, slots=True)
class RepeatMeasure:
    """How often one query was paid for, and whether it runs on a timer."""

    paid_runs: int
    active_days: int
    runs_per_day: float
    span_hours: float
    median_interval_s: float
    regular_share: float
    needed_runs: int
    avoidable_fraction: float

    def needed_with(self, refresh_hours: float) -> int:
        """Runs a table refreshed every ``refresh_hours`` needs over the span of the runs."""
        if not self.paid_runs:
            return 0
        return min(self.paid_runs, max(1, math.ceil(self.span_hours / refresh_hours)))


def measure(starts_ms: Sequence[float] | np.ndarray, refresh_hours: float, tolerance: float) -> RepeatMeasure:
    """Numbers for paid runs starting at ``starts_ms``.

    The rate is per active day: runs / the UTC days on which the query ran at all, so 60
    runs on one day of a week-long window are 60 a day (not 9), and a weekday-only
    dashboard is not diluted by its weekends. ``regular_share`` is the share of intervals
    between runs within ``tolerance`` of the median interval (1.0 = a timer). A table
    refreshed every ``refresh_hours`` needs ``ceil(span / refresh_hours)`` runs; the other
    runs are avoidable.
    """
    starts = np.sort(np.asarray(starts_ms, dtype=np.float64))
    runs = int(starts.size)
    gaps = np.diff(starts)
    median = float(np.median(gaps)) if gaps.size else 0.0
    regular = (int(np.count_nonzero(np.abs(gaps - median) <= tolerance * median)) / gaps.size
               if gaps.size and median else 0.0)
    span_hours = float(starts[-1] - starts[0]) / MS_PER_HOUR if runs else 0.0
    needed = min(runs, max(1, math.ceil(span_hours / refresh_hours))) if runs else 0
    active = int(np.unique(np.floor(starts / MS_PER_DAY)).size)
    return RepeatMeasure(
        paid_runs=runs, active_days=active, runs_per_day=runs / active if active else 0.0,
        span_hours=span_hours, median_interval_s=median / 1000, regular_share=regular, needed_runs=needed,
        avoidable_fraction=1 - needed / runs if runs else 0.0,
    )


#: The columns ``pool_keys`` (warehouse; reservation or project) and ``fingerprints`` (vendor
#: hash, else normalized text) are computed from: rows equal in these have the same keys.
POOL_AND_FINGERPRINT_COLUMNS = ("warehouse", "project", "query_hash", "query_text")


class RepeatedQuery(WarehouseRule["RepeatedQuery.Config"]):
    """The same read query ran many times and was paid for every time.

    ## Why it matters
    A dashboard that refreshes every 15 minutes runs its queries 672 times a week. When the
    result cache cannot answer (data changed, text differs, a non-deterministic function),
    every run is paid in full: warehouse time in Snowflake, bytes or slots in BigQuery.

    ## Anti-pattern
    BI tiles querying raw fact tables on a timer; the same report query issued by many
    users with different literals; ``CURRENT_TIMESTAMP()`` in a query that defeats the cache.

    ## Fix
    Compute the result once per refresh and let the dashboard read it: a Snowflake dynamic
    table (``CREATE DYNAMIC TABLE … TARGET_LAG = '1 hour' WAREHOUSE = … AS …``) or
    materialized view, a BigQuery materialized view
    (``OPTIONS (enable_refresh = true, refresh_interval_minutes = 60)``) or scheduled query.
    Keep the text byte-identical and deterministic so the 24-hour result cache can answer.

    ## Savings estimate
    A table refreshed every ``assumed_refresh_hours`` needs one run per refresh over the
    span of the runs; the other paid runs (and their credits, TiB or slot-hours) are
    avoidable. Reading the small precomputed result is treated as free.

    ## Known problems
    Queries are grouped by the vendor's parameterized hash, else by text with literals
    masked, so the same query with different literals counts as one even if each literal
    needs its own result; groups in which most runs carry their own literals
    (``max_distinct_text_share``) are taken for parameterized lookups and skipped.
    Refreshing less often than the dashboard runs makes it show older data. The rate is per
    active day (UTC days on which the query ran), not per day of the window: a burst on one
    day is not diluted, and a partial first or last day counts as a whole one. The saving
    rests on ``assumed_refresh_hours`` (confidence medium); a query whose runs are all needed
    under it saves nothing and is at most an ``info`` finding (only when a daily refresh
    would avoid some runs). Groups with fewer than ``min_runs`` paid runs or less than
    ``min_total_scanned_bytes`` read in total are ignored.
    """

    id = "warehouse.repeated-query"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.repeated-query."""

        runs_per_day: Thresholds = option(Thresholds(low=4, medium=24, high=96, critical=288),
                                          "paid runs of the same query per day on which it ran")
        min_runs: int = option(10, "damping: ignore queries paid for fewer times in the window")
        min_total_scanned_bytes: int = option(10 * GiB, "damping: ignore groups that read less in total")
        assumed_refresh_hours: float = option(1.0, "refresh interval of the table replacing the runs (hours)")
        interval_tolerance: float = option(0.1, "intervals within this share of the median count as regular")
        max_distinct_text_share: float = option(0.5, "skip groups where more runs than this share have their "
                                                     "own literals (a parameterized lookup, not a repeat)")

    def check(self, history: WarehouseHistory, config: RepeatedQuery.Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, query fingerprint) paid for often enough."""
        table = history.queries
        starts = table.numbers("start_time_ms")
        rows = np.flatnonzero(~np.isnan(starts) & reads(history) & paid_rows(history))
        if rows.size == 0:
            return
        # Group the few distinct (columns → pool key, fingerprint) combinations, not the rows.
        combo, _, first = combination_codes([table.frame[c] for c in POOL_AND_FINGERPRINT_COLUMNS], rows)
        pool_code, pools = pd.factorize(pool_keys(history)[first])
        fp_code, fps = pd.factorize(fingerprints(history)[first])
        combo_group, group_keys = pd.factorize(pool_code.astype(np.int64) * len(fps) + fp_code)
        group = combo_group[combo]
        runs = np.bincount(group, minlength=len(group_keys))
        order = np.argsort(group.astype(np.uint16) if len(group_keys) <= 65_536 else group, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(runs)))
        scanned = np.add.reduceat(table.numbers("bytes_scanned")[rows[order]], bounds[:-1])
        text = table.frame["query_text"].cat.codes.to_numpy()[first]
        distinct = pd.DataFrame({"group": combo_group, "text": text}).drop_duplicates()["group"].to_numpy()
        texts = np.bincount(distinct, minlength=len(group_keys))  # distinct query texts per group
        big = np.flatnonzero((runs >= config.min_runs) & (scanned >= config.min_total_scanned_bytes)
                             & (texts / runs <= config.max_distinct_text_share))
        keyed = sorted((str(pools[group_keys[g] // len(fps)]), str(fps[group_keys[g] % len(fps)]), int(g))
                       for g in big)
        for _, fp, g in keyed:
            group_rows = rows[order[bounds[g]:bounds[g + 1]]]  # in row order: the sort is stable
            m = measure(starts[group_rows], config.assumed_refresh_hours, config.interval_tolerance)
            severity = config.runs_per_day.severity(m.runs_per_day)
            if not severity:
                continue
            finding = self._finding(history, fp, group_rows, m, severity, config)
            if m.avoidable_fraction > 0:
                yield finding
                continue
            # Every run was needed under the assumed refresh: nothing to save, so at most info, and only
            # when a daily refresh would avoid some runs.
            daily = m.needed_with(24.0)
            if daily < m.paid_runs:
                yield early_warning(
                    finding, severity,
                    [f"all {m.paid_runs} runs are needed under a {config.assumed_refresh_hours:g} h refresh"],
                    f"With a daily refresh {m.paid_runs - daily} of the {m.paid_runs} runs would be "
                    f"avoidable.",
                    lead="Nothing to save at the assumed refresh")

    def _finding(self, history: WarehouseHistory, fp: str, runs: np.ndarray, m: RepeatMeasure,
                 severity: str, config: Config) -> Finding:
        q0 = records(history, runs[:1])[0]
        paid = rows_usage(history, runs)
        timer = m.regular_share >= 0.8
        every = f"every {m.median_interval_s / 60:g} min" if m.median_interval_s < 7200 else \
            f"every {m.median_interval_s / 3600:g} h"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "query_hash": fp},
            title=f"The same query was paid for {m.paid_runs} times ({m.runs_per_day:.0f} a day on "
                  f"{m.active_days} day{'s' if m.active_days != 1 else ''} with runs"
                  + (f", {every} on a timer)" if timer else ")"),
            evidence={
                "paid_runs": m.paid_runs, "active_days": m.active_days,
                "runs_per_day": round(m.runs_per_day, 2),
                "median_interval_s": round(m.median_interval_s, 1),
                "regular_share": round(m.regular_share, 3),
                "timer_detected": timer, "needed_runs": m.needed_runs,
                "avoidable_fraction": round(m.avoidable_fraction, 4),
                "scanned_bytes_total": int(history.queries.numbers("bytes_scanned")[runs].sum()),
                "example_sql": snippet(q0), "example_query_id": q0.query_id,
                **paid_evidence(paid),
            },
            recommendation=self._advice(q0, fp, config.assumed_refresh_hours),
            tradeoffs=f"The dashboard shows data up to {config.assumed_refresh_hours:g} h old, not live; "
                      "the precomputed table costs its refreshes and some storage.",
            avoidable_usage=add_usage([paid], m.avoidable_fraction),
            confidence="medium",  # the saving rests on assumed_refresh_hours
        )

    @staticmethod
    def _advice(q: QueryRecord, fp: str, refresh_hours: float) -> str:
        minutes = max(1, round(refresh_hours * 60))
        name = f"rq_{fp[:8]}"
        precompute = _PRECOMPUTE[q.vendor](name, minutes, q.warehouse)
        text = f"Precompute it once per refresh and point the dashboard at the result: {precompute}"
        if is_nondeterministic(q.query_text):
            text += ("; and replace CURRENT_TIMESTAMP()/CURRENT_DATE()/RANDOM() with fixed bounds so the "
                     "24-hour result cache can answer identical runs")
        return text + "."


def _snowflake_precompute(name: str, minutes: int, warehouse: str | None) -> str:
    return (f"CREATE DYNAMIC TABLE <db>.<schema>.{name} TARGET_LAG = '{minutes} minutes' "
            f"WAREHOUSE = {warehouse} AS <this query>; (or a materialized view when it reads one table)")


def _bigquery_precompute(name: str, minutes: int, _warehouse: str | None) -> str:
    return (f"CREATE MATERIALIZED VIEW `<project>.<dataset>.{name}` OPTIONS (enable_refresh = true, "
            f"refresh_interval_minutes = {minutes}) AS <this query>; (or a scheduled query writing "
            f"a table every {minutes} minutes)")


# The vendor's own DDL to compute a result once per refresh, by vendor name.
_PRECOMPUTE = {"snowflake": _snowflake_precompute, "bigquery": _bigquery_precompute}
