"""spark.too-many-partitions: stages split into thousands of tiny tasks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from rules.damping import SCALE, early_warning
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import (
    aqe_enabled,
    partitions_for,
    prop_enabled,
    slot_count,
    stage_data_bytes,
    text_bytes,
)
from rules.spark.common import MiB, core_hours, finished_stages, parse_size, shuffle_partitions, subject


@dataclass(frozen=True, slots=True)
class TinyTasksMeasure:
    """The numbers behind a too-many-partitions verdict for one stage attempt."""

    tasks: int
    median_task_ms: float
    data_bytes: int
    bytes_per_task: float
    recommended_partitions: int
    excess_ratio: float
    overhead_per_task_ms: float
    avoidable_core_ms: float


def measure(stage: Stage, slots: int, target_bytes: float) -> TinyTasksMeasure | None:
    """Task count against what the stage's bytes need, and the per-task overhead paid.

    The overhead of a task is its duration outside executor run time (scheduling,
    deserialization, result serialization), averaged over the stage's ended attempts:
    ``(sum of durations - sum of executor run time) / attempts``. Each task a better
    partitioning removes saves that much core time.
    """
    d = stage.tasks.duration_ms
    if d is None or stage.num_tasks <= 0:
        return None
    data = stage_data_bytes(stage)
    recommended = partitions_for(data, target_bytes, slots)
    attempts = len(stage.task_durations_ms)
    overhead = (max(0, sum(stage.task_durations_ms) - stage.metrics.executor_run_time_ms) / attempts
                if attempts else 0.0)
    removed = max(0, stage.num_tasks - recommended)
    return TinyTasksMeasure(
        tasks=stage.num_tasks, median_task_ms=d.p50, data_bytes=data, bytes_per_task=data / stage.num_tasks,
        recommended_partitions=recommended, excess_ratio=stage.num_tasks / recommended,
        overhead_per_task_ms=overhead, avoidable_core_ms=overhead * removed,
    )


class TooManyPartitions(SparkRule["TooManyPartitions.Config"]):
    """A stage ran thousands of tiny tasks: scheduling overhead outweighs the work.

    ## Why it matters
    Every task costs a round trip through the driver's scheduler, a deserialized closure,
    a result to send back, and for shuffles one file per map task and reduce partition.
    Below a few hundred milliseconds per task this overhead dominates, the driver becomes
    the bottleneck, and shuffle files multiply.

    ## Anti-pattern
    ``spark.sql.shuffle.partitions`` set for the largest job and applied to small ones,
    AQE off, ``repartition(10000)`` on small data, or inputs read as thousands of tiny files.

    ## Fix
    Let AQE coalesce shuffle partitions (``spark.sql.adaptive.enabled=true``,
    ``spark.sql.adaptive.coalescePartitions.enabled=true``,
    ``spark.sql.adaptive.advisoryPartitionSizeInBytes=128m``) or set
    ``spark.sql.shuffle.partitions`` to the stage's bytes / 128 MiB, rounded up to a
    multiple of the application's cores; ``coalesce(N)`` for RDD or input stages.

    ## Savings estimate
    Per-task overhead (task duration outside executor run time, averaged over the stage)
    times the tasks the recommended partition count removes, in core-hours.

    ## Known problems
    Defaults follow DataFlint's small-tasks alert (``SmallTasksAlert.ts``: more than 5000
    tasks with a median under 500 ms, suggesting ``repartition(n / 10)``); the severity grows
    with the task count. Driver-side scheduling time between tasks is not in the task
    durations, so the saving is a lower bound. One setting of
    ``spark.sql.shuffle.partitions`` serves every shuffle of the application; AQE
    coalescing adapts per stage and is the safer fix. Damping: a stage of tiny tasks with
    fewer tasks than the lowest ``tasks`` threshold (but at least ``min_tasks``, and some
    bytes read) is an ``info`` early warning (the largest one per application): the overhead
    is per task, so it says at what data size the count would fit; it claims no saving.
    """

    id = "spark.too-many-partitions"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.too-many-partitions."""

        tasks: Thresholds = option(Thresholds(low=5000, medium=10000, high=25000, critical=50000),
                                   "tasks in the stage (DataFlint alerts above 5000)")
        max_median_task_ms: float = option(500.0, "only stages whose median task is shorter are tiny "
                                                  "(ms; DataFlint: 500)")
        min_excess_ratio: float = option(4.0, "only stages whose tasks / recommended partitions reach this "
                                              "have too many partitions")
        target_partition_bytes: int = option(128 * MiB, "bytes per task the recommendation aims at")
        min_tasks: int = option(100, "stages with fewer tasks are not reported, not even as an early "
                                     "warning (their overhead is a second or two at most)")

    def check(self, app: Application, config: TooManyPartitions.Config) -> Iterator[Finding]:
        """One finding per stage of tiny tasks whose count far exceeds what its bytes need; an early
        warning when the count is below the lowest threshold."""
        slots = slot_count(app)
        for stage in finished_stages(app):
            m = measure(stage, slots, config.target_partition_bytes)
            if m is None or m.median_task_ms >= config.max_median_task_ms or m.tasks < config.min_tasks:
                continue
            if m.excess_ratio < config.min_excess_ratio:
                continue
            severity = config.tasks.severity(m.tasks)
            finding = self._finding(app, stage, m, severity or "low", config.target_partition_bytes)
            if severity is not None:
                yield finding
                continue
            if m.data_bytes <= 0:
                continue  # read nothing: the count comes from code (range, parallelize), not the data
            damped = [f"{m.tasks:,} tasks (the lowest threshold is {config.tasks.low:,.0f})"]
            yield early_warning(finding, None, damped, _at_scale(m, config.target_partition_bytes))

    def _finding(self, app: Application, stage: Stage, m: TinyTasksMeasure, severity: str,
                 target_bytes: int) -> Finding:
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=(f"Stage {stage.stage_id} ran {m.tasks:,} tasks with a median of "
                   f"{m.median_task_ms:,.0f} ms for {text_bytes(m.data_bytes)}"),
            evidence={
                "num_tasks": m.tasks, "median_task_ms": m.median_task_ms, "stage_data_bytes": m.data_bytes,
                "bytes_per_task": int(m.bytes_per_task), "recommended_partitions": m.recommended_partitions,
                "excess_ratio": round(m.excess_ratio, 1),
                "overhead_per_task_ms": round(m.overhead_per_task_ms, 1),
            },
            recommendation=_recommendation(app, stage, m, target_bytes),
            tradeoffs="Fewer, larger partitions need more memory per task (watch for spill) and leave cores "
                      "idle if they drop below the core count; a global spark.sql.shuffle.partitions also "
                      "changes every other shuffle of the application.",
            avoidable_core_hours=core_hours(m.avoidable_core_ms),
            confidence="high",
        )


def _at_scale(m: TinyTasksMeasure, target_bytes: int) -> str:
    """The overhead is per task, not per byte: what the same count means at ``SCALE`` times the data."""
    fits = target_bytes / m.bytes_per_task if m.bytes_per_task else float("inf")
    fits_text = (f"about {fits:,.0f}× the data" if fits <= 10 * SCALE
                 else f"only beyond {10 * SCALE:,}× the data")
    return (f"Each task cost about {m.overhead_per_task_ms:,.0f} ms beyond its work, "
            f"{m.avoidable_core_ms / 1000:,.1f} s of task time here. The count does not shrink with the "
            f"data: at {SCALE}× the data the same {m.tasks:,} tasks would average "
            f"{text_bytes(m.bytes_per_task * SCALE)} (the target is {text_bytes(target_bytes)}); it fits "
            f"{fits_text}, and every run until then pays the overhead of every extra task.")


def _recommendation(app: Application, stage: Stage, m: TinyTasksMeasure, target_bytes: int) -> str:
    """The knob that controls this stage's task count, with the computed partition count."""
    n = m.recommended_partitions
    why = (f"{text_bytes(m.data_bytes)} at {target_bytes / MiB:,.0f} MiB per task, rounded up to a "
           f"multiple of the {slot_count(app)} cores")
    target = f"{target_bytes // MiB}m"
    if stage.metrics.shuffle_read_bytes > 0 or stage.num_tasks == shuffle_partitions(app):
        coalescing = aqe_enabled(app) and prop_enabled(
            app, "spark.sql.adaptive.coalescePartitions.enabled", True)
        if coalescing:
            return (f"AQE coalescing is on yet this shuffle kept {m.tasks:,} partitions (an RDD shuffle "
                    f"or an explicit repartition): use .coalesce({n}) or repartition({n}) instead ({why}).")
        return (f"--conf spark.sql.adaptive.enabled=true "
                f"--conf spark.sql.adaptive.coalescePartitions.enabled=true "
                f"--conf spark.sql.adaptive.advisoryPartitionSizeInBytes={target}, or "
                f"--conf spark.sql.shuffle.partitions={n} ({why}).")
    if stage.metrics.input_bytes > 0:
        split = parse_size(app.properties.get("spark.sql.files.maxPartitionBytes")) or 128 * MiB
        if split < target_bytes:
            return (f"--conf spark.sql.files.maxPartitionBytes={target} (now {split / MiB:,.0f} MiB), or "
                    f".coalesce({n}) after the read ({why}).")
        return (f"Compact the {m.tasks:,} small input splits into files of about {target}, or .coalesce({n}) "
                f"after the read ({why}).")
    return f"Create the data with {n} partitions or .coalesce({n}) it ({why})."
