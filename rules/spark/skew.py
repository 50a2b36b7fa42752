"""spark.skew: stages whose slowest tasks, holding most of the data, set the stage's wall clock."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import GATED_SEVERITIES, Finding
from analyzer.core.model import Application, SqlExecution, Stage
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import (
    aqe_enabled,
    aqe_split_skew,
    cores_alive,
    partitions_for,
    prop_enabled,
    read_bytes,
    size_conf,
    slot_count,
    sql_execution_of,
    stage_data_bytes,
    text_bytes,
)
from rules.spark.common import MiB, core_hours, finished_stages, stage_seconds, subject

# Spark's AQE skew-join defaults (SQLConf): a partition is skewed when it is larger than
# factor x median AND than the byte threshold; it is split into advisory-size pieces.
SPARK_SKEW_FACTOR = 5.0
SPARK_SKEW_THRESHOLD_BYTES = 256 * MiB
SPARK_ADVISORY_BYTES = 64 * MiB
JOIN_NODES = ("SortMergeJoin", "ShuffledHashJoin")


@dataclass(frozen=True, slots=True)
class SkewMeasure:
    """The numbers behind a skew verdict for one stage attempt (times in ms, sizes in bytes)."""

    tasks: int
    duration_p50_ms: float
    duration_p75_ms: float
    duration_max_ms: float
    time_ratio: float
    read_kind: str
    read_p50_bytes: float
    read_p75_bytes: float
    read_max_bytes: float
    data_ratio: float
    stage_seconds: float
    straggler_seconds: float
    tail_ms: float
    idle_slots: int
    avoidable_core_ms: float
    expected_stage_seconds: float


def measure(stage: Stage, slots: int) -> SkewMeasure | None:
    """Task-time and bytes-read spread of one stage, and the slot time its straggler tail idled.

    The tail is the slowest task's time beyond the p75 task; while it runs, the other slots
    the stage could use (``min(slots, tasks) - 1``) have nothing left to do.
    """
    d = stage.tasks.duration_ms
    kind, read = read_bytes(stage)
    if d is None or stage.tasks.count == 0:
        return None
    tail = max(0.0, d.max - d.p75)
    idle = max(0, min(slots, stage.tasks.count) - 1)
    seconds = stage_seconds(stage)
    return SkewMeasure(
        tasks=stage.tasks.count, duration_p50_ms=d.p50, duration_p75_ms=d.p75, duration_max_ms=d.max,
        time_ratio=d.max / max(d.p50, 1.0), read_kind=kind,
        read_p50_bytes=read.p50 if read else 0.0, read_p75_bytes=read.p75 if read else 0.0,
        read_max_bytes=read.max if read else 0.0,
        data_ratio=read.max / max(read.p50, 1.0) if read else 0.0,
        stage_seconds=seconds, straggler_seconds=(d.max - d.p50) / 1000, tail_ms=tail, idle_slots=idle,
        avoidable_core_ms=tail * idle, expected_stage_seconds=max(d.p75 / 1000, seconds - tail / 1000),
    )


class StageSkew(SparkRule["StageSkew.Config"]):
    """A few straggler tasks, holding most of a stage's data, dominate its wall-clock time.

    ## Why it matters
    A stage ends when its last task ends. When one partition holds most of the rows (a hot
    join or grouping key, an unsplittable file), one task works while every other slot
    waits: the stage takes as long as that task, and the idle cores are still paid for.

    ## Anti-pattern
    Joining or aggregating on a key with a dominant value (nulls, ``0``, a default
    customer), with adaptive query execution off or its skew-join handling unable to split
    the partition; reading a few large gzip files next to many small ones.

    ## Fix
    For shuffle joins: ``spark.sql.adaptive.enabled=true`` and
    ``spark.sql.adaptive.skewJoin.enabled=true``, with the skew threshold computed from
    the stage's median partition so the hot partition qualifies for splitting. For
    aggregations, or when AQE cannot help: salt the hot key (append ``floor(rand() * N)``
    on the large side, replicate the small side N times) or aggregate in two phases. For
    input skew: splittable files of even size, or ``repartition`` right after the read.

    ## Savings estimate
    The straggler's time beyond the p75 task, times the other slots of the stage that sat
    idle meanwhile (``(max - p75) x (min(slots, tasks) - 1)``), as core-hours. The
    recommendation also gives the stage's expected time if the tail were the p75 task.

    ## Known problems
    Thresholds follow Dr. Elephant (tuning branch, ``StagesAnalyzer.scala``: max/median
    2/4/8/16 on task time and on bytes) and DataFlint (``MetricsReducer.ts``: a skew alert
    needs max > 5 s). Both the time and the bytes spread must be high, so stragglers caused
    by a slow node or GC are not reported here. Idle slots may have run other stages'
    tasks concurrently, so the saving is an upper bound. A stage of a query whose final
    plan shows an AQE skew split (``AQEShuffleRead ... skewed``) is not reported: the plan
    does not say which exchange was split, so the whole query's shuffle-reading stages
    are trusted to AQE. Damping: a skewed stage shorter than ``min_stage_seconds``, whose
    straggler runs less than ``min_straggler_seconds`` beyond the median, or with fewer than
    ``min_tasks`` tasks is an ``info`` early warning (the largest one per application) saying
    what its tail becomes at 100× the data; it claims no saving.
    """

    id = "spark.skew"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.skew."""

        time_ratio: Thresholds = option(Thresholds(low=2, medium=4, high=8, critical=16),
                                        "max / median task duration (Dr. Elephant StagesAnalyzer)")
        data_ratio: Thresholds = option(Thresholds(low=2, medium=4, high=8, critical=16),
                                        "max / median bytes read per task, input or shuffle (Dr. Elephant)")
        min_stage_seconds: float = option(10.0, "damping: shorter stages are early warnings "
                                                      "(wall clock, s)")
        min_straggler_seconds: float = option(5.0, "damping: stages whose max - median task time is "
                                                   "below this are early warnings (s; DataFlint: 5 s)")
        min_tasks: int = option(4, "damping: stages with fewer successful tasks are early warnings")

    def check(self, app: Application, config: StageSkew.Config) -> Iterator[Finding]:
        """One finding per stage whose time and bytes spreads are both high; an early warning when small."""
        for stage in finished_stages(app):
            slots = _tail_slots(app, stage)
            m = measure(stage, slots)
            if m is None:
                continue
            severity = _lower(config.time_ratio.severity(m.time_ratio),
                              config.data_ratio.severity(m.data_ratio))
            if severity is None:
                continue
            sql = sql_execution_of(app, stage)
            if m.read_kind == "shuffle read" and aqe_split_skew(sql):
                continue
            finding = self._finding(app, stage, sql, m, severity, slots)
            damped = _damping(m, config)
            yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    def _finding(self, app: Application, stage: Stage, sql: SqlExecution | None, m: SkewMeasure,
                 severity: str, slots: int) -> Finding:
        is_join = sql is not None and any(n.name in JOIN_NODES for n in sql.nodes)
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=(f"Stage {stage.stage_id}: slowest task {m.duration_max_ms / 1000:,.1f} s vs median "
                   f"{m.duration_p50_ms / 1000:,.1f} s, reading {m.data_ratio:,.1f}x the median "
                   f"{m.read_kind}"),
            evidence={
                "num_tasks": m.tasks, "task_duration_p50_ms": m.duration_p50_ms,
                "task_duration_p75_ms": m.duration_p75_ms, "task_duration_max_ms": m.duration_max_ms,
                "time_ratio": round(m.time_ratio, 2), "read_kind": m.read_kind,
                "read_p50_bytes": int(m.read_p50_bytes), "read_max_bytes": int(m.read_max_bytes),
                "data_ratio": round(m.data_ratio, 2), "stage_seconds": round(m.stage_seconds, 1),
                "expected_stage_seconds": round(m.expected_stage_seconds, 1), "idle_slots": m.idle_slots,
                "aqe_enabled": aqe_enabled(app), "shuffle_join": is_join,
            },
            recommendation=_recommendation(app, stage, m, is_join, slots),
            tradeoffs=("A lower skew threshold makes AQE split more partitions (more tasks, the small side "
                       "read once per split); salting multiplies the small side's rows by N and needs a "
                       "code change."),
            avoidable_core_hours=core_hours(m.avoidable_core_ms),
        )


def _damping(m: SkewMeasure, config: StageSkew.Config) -> list[str]:
    """The floors below which a stage's skew is too small to grade (an early warning instead)."""
    return damped_by(
        (m.tasks < config.min_tasks, f"{m.tasks} tasks (min_tasks {config.min_tasks})"),
        (m.stage_seconds < config.min_stage_seconds,
         f"the stage ran {m.stage_seconds:,.2f} s (min_stage_seconds {config.min_stage_seconds:g})"),
        (m.straggler_seconds < config.min_straggler_seconds,
         f"the slowest task ran {m.straggler_seconds:,.2f} s longer than the median "
         f"(min_straggler_seconds {config.min_straggler_seconds:g})"),
    )


def _at_scale(m: SkewMeasure) -> str:
    """The straggler tail at ``SCALE`` times the data: it grows with the hot partition."""
    tail_s = m.tail_ms / 1000
    return (f"It costs {tail_s:,.1f} s of {m.idle_slots} idle slot(s) here; at {SCALE}× the data the slowest "
            f"task would run about {scaled_duration(tail_s * SCALE)} beyond the p75 task while "
            f"{m.idle_slots} slot(s) wait: about {core_hours(m.avoidable_core_ms * SCALE):,.2f} core-hours "
            f"per run.")


def _tail_slots(app: Application, stage: Stage) -> int:
    """Cores alive while the straggler tail ran (the last ``max - p75`` ms of the stage)."""
    d = stage.tasks.duration_ms
    end = stage.completion_time_ms
    if d is None or end is None:
        return slot_count(app)
    return max(1, round(cores_alive(app, end - int(d.max - d.p75), end)))


def _lower(a: str | None, b: str | None) -> str | None:
    """The milder of two severities (None when either is None): both spreads must agree."""
    if a is None or b is None:
        return None
    return min(a, b, key=GATED_SEVERITIES.index)


def _recommendation(app: Application, stage: Stage, m: SkewMeasure, is_join: bool, slots: int) -> str:
    """The fix for this kind of skew, with values computed from the stage."""
    outcome = (f"With the tail at the p75 task ({m.duration_p75_ms / 1000:,.1f} s) the stage would take "
               f"about {m.expected_stage_seconds:,.0f} s instead of {m.stage_seconds:,.0f} s.")
    salt = max(2, min(slots, math.ceil(m.read_max_bytes / max(m.read_p75_bytes, 1.0))))
    if m.read_kind == "input":
        partitions = partitions_for(stage_data_bytes(stage), 128 * MiB, slots)
        return (f"One task read {text_bytes(m.read_max_bytes)} of input vs a median of "
                f"{text_bytes(m.read_p50_bytes)}: the input files are uneven or not splittable "
                f"(gzip). Rewrite them as splittable files of even size (the read itself cannot be split "
                f"otherwise); .repartition({partitions}) right after the read evens out the later stages. "
                f"{outcome}")
    if not is_join:
        return (f"The hot partition is an aggregation or window key, which AQE's skew join cannot split: "
                f"salt the key with {salt} buckets (group by key and floor(rand() * {salt}) first, then by "
                f"key), or filter/handle the dominant value separately. {outcome}")
    return f"{_aqe_confs(app, m)} Or salt the hot join key with {salt} buckets. {outcome}"


def _aqe_confs(app: Application, m: SkewMeasure) -> str:
    """The AQE skew-join settings that would make Spark split this stage's hot partition."""
    factor = min(SPARK_SKEW_FACTOR, max(2.0, math.floor(m.data_ratio / 2)))
    confs = ["spark.sql.adaptive.enabled=true", "spark.sql.adaptive.skewJoin.enabled=true"]
    if factor < SPARK_SKEW_FACTOR:
        confs.append(f"spark.sql.adaptive.skewJoin.skewedPartitionFactor={factor:g}")
    threshold = m.read_p50_bytes * factor
    if threshold < SPARK_SKEW_THRESHOLD_BYTES:
        confs.append(f"spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes={size_conf(threshold)}")
    if m.read_p75_bytes < SPARK_ADVISORY_BYTES:
        advisory = size_conf(max(m.read_p75_bytes, 1024))
        confs.append(f"spark.sql.adaptive.advisoryPartitionSizeInBytes={advisory}")
    already = aqe_enabled(app) and prop_enabled(app, "spark.sql.adaptive.skewJoin.enabled", True)
    facts = (f"the hottest partition read {text_bytes(m.read_max_bytes)} vs a median of "
             f"{text_bytes(m.read_p50_bytes)}")
    lead = f"AQE's skew join is on but did not split this partition: {facts}" if already else facts
    lead = lead[0].upper() + lead[1:]
    return f"{lead}: " + " ".join(f"--conf {c}" for c in confs) + "."
