"""spark.oversized-partitions: tasks that each read or write several GiB, or run for many minutes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from rules.damping import SCALE, early_warning
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import (
    cores_alive,
    partitions_for,
    read_bytes,
    shuffle_partitions_advice,
    size_conf,
    slot_count,
    text_bytes,
)
from rules.spark.common import MiB, core_hours, finished_stages, is_small_run, parse_size, subject

SECONDS = 1000
MINUTES = 60 * SECONDS


@dataclass(frozen=True, slots=True)
class OversizeMeasure:
    """The numbers behind an oversized-partitions verdict for one stage attempt."""

    tasks: int
    slots: int
    max_task_bytes: float
    max_task_kind: str
    median_task_ms: float
    p75_task_ms: float
    data_bytes: int
    recommended_partitions: int
    idle_slots: int
    avoidable_core_ms: float


def _largest_task(stage: Stage) -> tuple[str, float]:
    """The largest per-task volume among input, shuffle read, shuffle write and output.

    Output has no per-task distribution in the model, so its per-task mean stands in.
    """
    t = stage.tasks
    candidates = [("input", t.input_bytes.max if t.input_bytes else 0.0),
                  ("shuffle read", t.shuffle_read_bytes.max if t.shuffle_read_bytes else 0.0),
                  ("shuffle write", t.shuffle_write_bytes.max if t.shuffle_write_bytes else 0.0),
                  ("output (mean)", stage.metrics.output_bytes / max(1, stage.num_tasks))]
    return max(candidates, key=lambda kv: kv[1])


def measure(stage: Stage, slots: int, target_bytes: float, target_task_ms: float,
            alive_slots: int | None = None) -> OversizeMeasure | None:
    """Bytes and time per task, the partition count that fits the target, and idle slots.

    The recommended count is the larger of ``stage bytes / target_bytes`` and
    ``tasks x median / target_task_ms``, rounded up to a multiple of the application's
    ``slots``. When the stage had fewer tasks than ``alive_slots`` (the cores alive while it
    ran; default ``slots``), those that never got a task idled for (about) the p75 task
    time: that is the avoidable part here (the tail beyond p75 is skew's).
    """
    d = stage.tasks.duration_ms
    if d is None or stage.num_tasks <= 0:
        return None
    kind, largest = _largest_task(stage)
    m = stage.metrics
    data = max(m.input_bytes, m.shuffle_read_bytes, m.shuffle_write_bytes, m.output_bytes)
    by_time = math.ceil(stage.num_tasks * d.p50 / max(1.0, target_task_ms))
    recommended = max(partitions_for(data, target_bytes, slots), partitions_for(by_time, 1, slots))
    idle = max(0, (slots if alive_slots is None else alive_slots) - stage.num_tasks)
    return OversizeMeasure(
        tasks=stage.num_tasks, slots=slots, max_task_bytes=largest, max_task_kind=kind, median_task_ms=d.p50,
        p75_task_ms=d.p75, data_bytes=data, recommended_partitions=recommended, idle_slots=idle,
        avoidable_core_ms=idle * d.p75 if recommended > stage.num_tasks else 0.0,
    )


class OversizedPartitions(SparkRule["OversizedPartitions.Config"]):
    """Tasks each read or write several GiB, or run for many minutes: the stage has too few partitions.

    ## Why it matters
    A task's partition must fit in its share of executor memory. Multi-GiB partitions
    spill, collect garbage and die of ``OutOfMemoryError``; a retried multi-minute task
    repeats all of its work, and with fewer tasks than cores the rest of the cluster idles.

    ## Anti-pattern
    ``spark.sql.shuffle.partitions`` left at 200 (or set to 1-10) for hundreds of GiB,
    ``spark.sql.files.maxPartitionBytes`` raised to GiBs, ``coalesce(1)`` before a big
    write, large unsplittable input files.

    ## Fix
    Aim at 128-256 MiB per task: ``spark.sql.shuffle.partitions=N`` for shuffle stages
    (AQE coalesces back any that turn out small), ``spark.sql.files.maxPartitionBytes=128m``
    for file scans, ``repartition(N)`` instead of ``coalesce`` before writes. N is computed
    from the stage's bytes (and its task time) and rounded up to a multiple of the cores.

    ## Savings estimate
    When the stage had fewer tasks than the cores alive while it ran, the unused ones idled for the
    p75 task time: ``(slots - tasks) x p75``, in core-hours. Spill, GC and retries that big
    partitions cause are counted by spark.spill, spark.gc-pressure and spark.task-failures.

    ## Known problems
    Defaults: DataFlint's ``maxPartitionToBig`` alert (``MaxPartitionToBigAlert.ts``: a task
    over 5 GiB of input, output, shuffle read or write; here the medium level) and Dr.
    Elephant's long-task levels (tuning branch, ``ConfigurationHeuristicsConstants.scala``:
    median task 2.5/5/10/15 min). Output bytes have no per-task distribution, so their
    per-task mean is used. Long tasks can come from slow code rather than big partitions;
    the recommendation then only helps if the work splits with the data. Damping: the
    thresholds themselves. Below them, in a small run (less than one core-hour of task time),
    a shuffle stage whose fixed partition count would put ``task_bytes`` over its lowest
    threshold at 100× the data is an ``info`` early warning
    (the largest one per application); file scans are not projected (their splits follow the
    data), nor is task time (in small runs mostly start-up). It claims no saving.
    """

    id = "spark.oversized-partitions"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.oversized-partitions."""

        task_bytes: Thresholds = option(
            Thresholds(low=1024 * MiB, medium=5 * 1024 * MiB, high=10 * 1024 * MiB, critical=20 * 1024 * MiB),
            "largest per-task input, shuffle read/write or output, bytes (DataFlint alerts above 5 GiB)")
        median_task_seconds: Thresholds = option(
            Thresholds(low=150, medium=300, high=600, critical=900),
            "median task duration, s (Dr. Elephant long tasks: 2.5/5/10/15 min)")
        target_partition_bytes: int = option(128 * MiB,
                                             "bytes per task the recommendation aims at (128-256 MiB)")
        target_task_seconds: float = option(120.0, "task duration the recommendation aims at when time, "
                                                   "not bytes, is the problem (s)")

    def check(self, app: Application, config: OversizedPartitions.Config) -> Iterator[Finding]:
        """One finding per stage with oversized or overlong tasks that more partitions would split; an
        early warning for a shuffle stage whose partitions would be oversized at ``SCALE`` times the data."""
        slots, small = slot_count(app), is_small_run(app)
        for stage in finished_stages(app):
            alive = round(cores_alive(app, stage.submission_time_ms, stage.completion_time_ms))
            m = measure(stage, slots, config.target_partition_bytes, config.target_task_seconds * SECONDS,
                        alive)
            if m is None:
                continue
            severity = _higher(config.task_bytes.severity(m.max_task_bytes),
                               config.median_task_seconds.severity(m.median_task_ms / SECONDS))
            if severity is not None:
                if m.recommended_partitions > m.tasks:
                    yield self._finding(app, stage, m, severity, config.target_partition_bytes)
                continue
            scaled = _at_scale(stage, m, slots, config) if small else None
            if scaled is not None:
                damped = [f"the largest task held {text_bytes(m.max_task_bytes)} of {m.max_task_kind} (the "
                          f"lowest threshold is {text_bytes(config.task_bytes.low)})"]
                finding = self._finding(app, stage, m, "low", config.target_partition_bytes)
                yield early_warning(finding, None, damped, scaled)

    def _finding(self, app: Application, stage: Stage, m: OversizeMeasure, severity: str,
                 target_bytes: int) -> Finding:
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=(f"Stage {stage.stage_id}: {m.tasks:,} tasks, the largest with "
                   f"{text_bytes(m.max_task_bytes)} of {m.max_task_kind}, median task "
                   f"{m.median_task_ms / SECONDS:,.0f} s"),
            evidence={
                "num_tasks": m.tasks, "max_task_bytes": int(m.max_task_bytes),
                "max_task_kind": m.max_task_kind,
                "median_task_ms": m.median_task_ms, "stage_data_bytes": m.data_bytes,
                "recommended_partitions": m.recommended_partitions, "idle_slots": m.idle_slots,
            },
            recommendation=_recommendation(app, stage, m, target_bytes),
            tradeoffs="More partitions mean more tasks and shuffle files (scheduling overhead) and, for "
                      "writes, more output files.",
            avoidable_core_hours=core_hours(m.avoidable_core_ms),
            confidence="high",
        )


def _at_scale(stage: Stage, m: OversizeMeasure, slots: int, config: OversizedPartitions.Config) -> str | None:
    """What a shuffle stage's partitions hold at ``SCALE`` times the data, when that reaches a threshold.

    Only shuffle reads are projected: their partition count is a setting
    (``spark.sql.shuffle.partitions``, ``repartition(n)``) that stays put as the data grows,
    while file splits follow the data. Task time is not projected: in small runs it is mostly
    fixed costs (JVM and Python start-up).
    """
    if m.max_task_kind != "shuffle read":
        return None
    largest = m.max_task_bytes * SCALE
    if config.task_bytes.severity(largest) is None:
        return None
    data = stage.metrics.shuffle_read_bytes * SCALE
    needed = partitions_for(data, config.target_partition_bytes, slots)
    if needed <= m.tasks:
        return None
    return (f"At {SCALE}× the data over the same {m.tasks:,} partition(s) the largest task would read "
            f"{text_bytes(largest)} of shuffle data (spill, GC and out-of-memory territory); "
            f"{text_bytes(data)} needs about {needed:,} partitions of "
            f"{text_bytes(config.target_partition_bytes)}.")


def _higher(a: str | None, b: str | None) -> str | None:
    """The worse of two severities: either big partitions or long tasks is enough."""
    order = (None, "low", "medium", "high", "critical")
    return max(a, b, key=order.index)


def _recommendation(app: Application, stage: Stage, m: OversizeMeasure, target_bytes: int) -> str:
    """The knob that sets this stage's partition count, with the computed value."""
    n = m.recommended_partitions
    why = (f"{text_bytes(m.data_bytes)} at {text_bytes(target_bytes)} per task and a median task of "
           f"{m.median_task_ms / SECONDS:,.0f} s, rounded up to a multiple of {m.slots} cores; "
           f"now {m.tasks:,} tasks")
    kind, read = read_bytes(stage)
    if kind == "input" and read is not None:
        return _input_advice(app, stage, n, read.max, why)
    if kind == "shuffle read":
        return f"{shuffle_partitions_advice(app, stage, n, stage.metrics.shuffle_read_bytes)} ({why})."
    return f".repartition({n}) instead of coalesce or few slices before this stage ({why})."


def _input_advice(app: Application, stage: Stage, n: int, max_split: float, why: str) -> str:
    """Smaller file splits when the splits honour the limit; otherwise the files cannot be split."""
    limit = parse_size(app.properties.get("spark.sql.files.maxPartitionBytes")) or 128 * MiB
    if max_split > limit * 1.1:
        return (f"One task read {text_bytes(max_split)}, more than spark.sql.files.maxPartitionBytes "
                f"({text_bytes(limit)}) allows: the files are not splittable (gzip, one large file); rewrite "
                f"them splittable, and .repartition({n}) after the read for the later stages ({why}).")
    split = stage.metrics.input_bytes / n
    return f"--conf spark.sql.files.maxPartitionBytes={size_conf(split)} (from {size_conf(limit)}) ({why})."
