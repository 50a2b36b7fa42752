"""warehouse.repeated-query: the same read query paid for again and again (dashboards on a timer)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from analyzer.model import QueryRecord, WarehouseHistory
from analyzer.report import Finding
from analyzer.sql_text import is_nondeterministic
from rules.engine import Rule, Thresholds, option, register
from rules.warehouse.common import (
    GiB,
    add_usage,
    fingerprint,
    is_paid,
    is_read,
    paid_evidence,
    pool_key,
    pool_subject,
    query_usage,
    snippet,
    window_days,
)

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True, slots=True)
class RepeatMeasure:
    """How often one query was paid for, and whether it runs on a timer."""

    paid_runs: int
    runs_per_day: float
    span_hours: float
    median_interval_s: float
    regular_share: float
    needed_runs: int
    avoidable_fraction: float


def measure(starts_ms: Sequence[int], days: float, refresh_hours: float, tolerance: float) -> RepeatMeasure:
    """Numbers for paid runs starting at ``starts_ms`` within a window of ``days``.

    ``regular_share`` is the share of intervals between runs within ``tolerance`` of the
    median interval (1.0 = a timer). A table refreshed every ``refresh_hours`` needs
    ``ceil(span / refresh_hours)`` runs; the other runs are avoidable.
    """
    starts = sorted(starts_ms)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    median = statistics.median(gaps) if gaps else 0.0
    regular = sum(abs(g - median) <= tolerance * median for g in gaps) / len(gaps) if gaps and median else 0.0
    span_hours = (starts[-1] - starts[0]) / MS_PER_HOUR if starts else 0.0
    needed = min(len(starts), max(1, math.ceil(span_hours / refresh_hours))) if starts else 0
    return RepeatMeasure(
        paid_runs=len(starts), runs_per_day=len(starts) / days if days else 0.0, span_hours=span_hours,
        median_interval_s=median / 1000, regular_share=regular, needed_runs=needed,
        avoidable_fraction=1 - needed / len(starts) if starts else 0.0,
    )


@register
class RepeatedQuery(Rule):
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
    Refreshing less often than the dashboard runs makes it show older data.
    Groups with fewer than ``min_runs`` paid runs or less than ``min_total_scanned_bytes``
    read in total are ignored.
    """

    id = "warehouse.repeated-query"
    applies_to = "warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.repeated-query."""

        runs_per_day: Thresholds = option(Thresholds(low=4, medium=24, high=96, critical=288),
                                          "paid runs of the same query per day of history")
        min_runs: int = option(10, "damping: ignore queries paid for fewer times in the window")
        min_total_scanned_bytes: int = option(10 * GiB, "damping: ignore groups that read less in total")
        assumed_refresh_hours: float = option(1.0, "refresh interval of the table replacing the runs (hours)")
        interval_tolerance: float = option(0.1, "intervals within this share of the median count as regular")
        max_distinct_text_share: float = option(0.5, "skip groups where more runs than this share have their "
                                                     "own literals (a parameterized lookup, not a repeat)")

    def check(self, history: WarehouseHistory, config: Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, query fingerprint) paid for often enough."""
        groups: dict[tuple[str, str], list[QueryRecord]] = defaultdict(list)
        for q in history.queries:
            if q.start_time_ms is not None and is_read(q) and is_paid(history, q):
                groups[(pool_key(q), fingerprint(q))].append(q)
        days = window_days(history)
        for (_, fp), runs in sorted(groups.items()):
            scanned = sum(q.bytes_scanned for q in runs)
            if len(runs) < config.min_runs or scanned < config.min_total_scanned_bytes:
                continue
            if len({q.query_text for q in runs}) / len(runs) > config.max_distinct_text_share:
                continue
            m = measure([q.start_time_ms or 0 for q in runs], days, config.assumed_refresh_hours,
                        config.interval_tolerance)
            severity = config.runs_per_day.severity(m.runs_per_day)
            if severity:
                yield self._finding(history, fp, runs, m, severity, config)

    def _finding(self, history: WarehouseHistory, fp: str, runs: list[QueryRecord], m: RepeatMeasure,
                 severity: str, config: Config) -> Finding:
        q0 = runs[0]
        paid = add_usage(query_usage(history, q) for q in runs)
        timer = m.regular_share >= 0.8
        every = f"every {m.median_interval_s / 60:g} min" if m.median_interval_s < 7200 else \
            f"every {m.median_interval_s / 3600:g} h"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "query_hash": fp},
            title=f"The same query was paid for {m.paid_runs} times ({m.runs_per_day:.0f}/day"
                  + (f", {every} on a timer)" if timer else ")"),
            evidence={
                "paid_runs": m.paid_runs, "runs_per_day": round(m.runs_per_day, 2),
                "median_interval_s": round(m.median_interval_s, 1),
                "regular_share": round(m.regular_share, 3),
                "timer_detected": timer, "needed_runs": m.needed_runs,
                "avoidable_fraction": round(m.avoidable_fraction, 4),
                "scanned_bytes_total": sum(q.bytes_scanned for q in runs),
                "example_sql": snippet(q0), "example_query_id": q0.query_id,
                **paid_evidence(paid),
            },
            recommendation=self._advice(q0, fp, config.assumed_refresh_hours),
            tradeoffs=f"The dashboard shows data up to {config.assumed_refresh_hours:g} h old, not live; "
                      "the precomputed table costs its refreshes and some storage.",
            avoidable_usage=add_usage([paid], m.avoidable_fraction),
        )

    @staticmethod
    def _advice(q: QueryRecord, fp: str, refresh_hours: float) -> str:
        minutes = max(1, round(refresh_hours * 60))
        name = f"rq_{fp[:8]}"
        if q.vendor == "snowflake":
            text = (f"Precompute it once per refresh and point the dashboard at the result: "
                    f"CREATE DYNAMIC TABLE "
                    f"<db>.<schema>.{name} TARGET_LAG = '{minutes} minutes' WAREHOUSE = {q.warehouse} AS "
                    f"<this query>; (or a materialized view when it reads one table)")
        else:
            text = (f"Precompute it once per refresh and point the dashboard at the result: "
                    f"CREATE MATERIALIZED "
                    f"VIEW `<project>.<dataset>.{name}` OPTIONS (enable_refresh = true, "
                    f"refresh_interval_minutes = {minutes}) AS <this query>; (or a scheduled query writing "
                    f"a table every {minutes} minutes)")
        if is_nondeterministic(q.query_text):
            text += ("; and replace CURRENT_TIMESTAMP()/CURRENT_DATE()/RANDOM() with fixed bounds so the "
                     "24-hour result cache can answer identical runs")
        return text + "."
