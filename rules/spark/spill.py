"""spark.spill: tasks that ran out of execution memory and spilled to disk."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.model import Application, Stage
from analyzer.report import Finding
from rules.engine import Rule, Thresholds, option, register
from rules.spark.common import (
    MiB, core_hours, executor_cores, executor_memory_bytes, finished_stages, round_up, shuffle_partitions,
    subject,
)

# Unified memory Spark gives execution+storage: (heap - 300 MiB reserved) * spark.memory.fraction.
RESERVED_BYTES = 300 * MiB
DEFAULT_MEMORY_FRACTION = 0.6
# Throughput assumed for writing and re-reading spill files, per core.
SPILL_IO_BYTES_PER_SECOND = 100 * MiB


@dataclass(frozen=True, slots=True)
class SpillMeasure:
    """The numbers behind a spill verdict for one stage attempt."""

    memory_spilled_bytes: int
    disk_spilled_bytes: int
    data_bytes: int
    ratio: float
    spill_per_task_bytes: float
    execution_memory_per_task_bytes: float
    avoidable_seconds: float


def measure(stage: Stage, memory_per_task_bytes: float) -> SpillMeasure:
    """Spill relative to the data the stage read, and the disk time it cost."""
    m = stage.metrics
    data = m.input_bytes + m.shuffle_read_bytes
    tasks = max(1, stage.num_complete_tasks + stage.num_failed_tasks)
    ratio = m.memory_bytes_spilled / data if data else float(m.memory_bytes_spilled > 0)
    return SpillMeasure(
        memory_spilled_bytes=m.memory_bytes_spilled, disk_spilled_bytes=m.disk_bytes_spilled, data_bytes=data,
        ratio=ratio, spill_per_task_bytes=m.memory_bytes_spilled / tasks,
        execution_memory_per_task_bytes=memory_per_task_bytes,
        avoidable_seconds=2 * m.disk_bytes_spilled / SPILL_IO_BYTES_PER_SECOND,
    )


def execution_memory_per_task(app: Application) -> float:
    """Execution+storage memory one concurrent task can use on a typical executor."""
    fraction = float(app.properties.get("spark.memory.fraction", DEFAULT_MEMORY_FRACTION))
    usable = max(0, executor_memory_bytes(app) - RESERVED_BYTES) * fraction
    return usable / executor_cores(app)


@register
class StageSpill(Rule):
    """Tasks ran out of execution memory and spilled sorted or aggregated data to disk.

    ## Why it matters
    A spilling task serializes part of its working set to local disk and reads it back,
    often several times. The stage runs slower, local disks fill up, and executors that
    spill heavily are the ones that die of disk-full or OOM errors.

    ## Anti-pattern
    Large sorts, joins or aggregations with few shuffle partitions
    (``spark.sql.shuffle.partitions=200`` on hundreds of GiB), or executors with many
    cores and little memory, so each concurrent task gets a small share.

    ## Fix
    Give each task less data (more shuffle partitions; AQE with a smaller
    ``spark.sql.adaptive.advisoryPartitionSizeInBytes``) or more memory
    (``spark.executor.memory``, fewer ``spark.executor.cores``). The recommendation
    computes both from the stage's spill per task and the memory a task can use.

    ## Savings estimate
    Disk spilled is written once and read once; at an assumed 100 MiB/s per core that
    is ``2 x disk spilled / 100 MiB/s`` of core time, reported as avoidable core-hours.

    ## Known problems
    Spark reports spill in-memory (deserialized) and on-disk (compressed) sizes, not
    the time spent spilling, so the saving is an estimate. Stages below
    ``min_spill_bytes`` of disk spill are ignored.
    """

    id = "spark.spill"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.spill."""

        ratio: Thresholds = option(Thresholds(low=0.1, medium=0.5, high=1.0, critical=3.0),
                                   "memory spilled / (stage input + shuffle read)")
        min_spill_bytes: int = option(100 * MiB, "damping: ignore stages that spilled less to disk (bytes)")

    def check(self, app: Application, config: Config) -> Iterator[Finding]:
        per_task = execution_memory_per_task(app)
        for stage in finished_stages(app):
            if stage.metrics.disk_bytes_spilled < config.min_spill_bytes:
                continue
            m = measure(stage, per_task)
            severity = config.ratio.severity(m.ratio)
            if severity is None:
                continue
            yield self._finding(app, stage, m, severity)

    def _finding(self, app: Application, stage: Stage, m: SpillMeasure, severity: str) -> Finding:
        growth = 1 + m.spill_per_task_bytes / max(1.0, m.execution_memory_per_task_bytes)
        partitions = round_up(max(stage.num_tasks, shuffle_partitions(app)) * growth, executor_cores(app))
        memory_gib = math.ceil(executor_memory_bytes_gib(app) * growth)
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=f"Stage {stage.stage_id} spilled {m.disk_spilled_bytes / MiB:,.0f} MiB to disk",
            evidence={
                "memory_spilled_bytes": m.memory_spilled_bytes, "disk_spilled_bytes": m.disk_spilled_bytes,
                "stage_data_bytes": m.data_bytes, "spill_ratio": round(m.ratio, 3),
                "spill_per_task_bytes": int(m.spill_per_task_bytes),
                "execution_memory_per_task_bytes": int(m.execution_memory_per_task_bytes),
                "num_tasks": stage.num_tasks,
            },
            recommendation=(
                f"--conf spark.sql.shuffle.partitions={partitions}  "
                f"(or --conf spark.executor.memory={memory_gib}g): each task then needs about "
                f"{1 / growth:.0%} of the memory it had to spill from."
            ),
            tradeoffs="More partitions mean more, smaller tasks and shuffle files (scheduling overhead); "
                      "more memory per executor raises the cost of every executor-hour.",
            avoidable_core_hours=core_hours(m.avoidable_seconds * 1000),
        )


def executor_memory_bytes_gib(app: Application) -> float:
    """``spark.executor.memory`` in GiB."""
    return executor_memory_bytes(app) / 1024**3
