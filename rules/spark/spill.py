"""spark.spill: tasks that ran out of execution memory and spilled to disk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from rules.damping import SCALE, damped_by, early_warning
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import (
    cores_per_executor,
    heap_setting,
    read_bytes,
    shuffle_partitions_advice,
    size_conf,
    text_bytes,
)
from rules.spark.common import MiB, core_hours, finished_stages, round_up, subject

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
    """Execution+storage memory one concurrent task can use on a typical executor.

    In local mode the tasks share the driver's heap (``spark.driver.memory``) among the
    ``local[N]`` cores.
    """
    fraction = float(app.properties.get("spark.memory.fraction", DEFAULT_MEMORY_FRACTION))
    _, heap = heap_setting(app)
    usable = max(0, heap - RESERVED_BYTES) * fraction
    return usable / cores_per_executor(app)


class StageSpill(SparkRule["StageSpill.Config"]):
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
    ``spark.sql.adaptive.advisoryPartitionSizeInBytes`` when AQE coalesced the stage;
    ``repartition(n)`` when the code fixed its partition count) or more memory
    (``spark.executor.memory``, in local mode ``spark.driver.memory``; a
    ``spark.memory.fraction`` below Spark's 0.6 restored first). The recommendation
    computes both from the stage's spill per task and the memory a task can use: partitions
    grow by ``1 + spill per task / execution memory per task``, and the heap to
    ``300 MiB + (execution memory + spill) per task x cores / spark.memory.fraction``.

    ## Savings estimate
    Disk spilled is written once and read once; at an assumed 100 MiB/s per core that
    is ``2 x disk spilled / 100 MiB/s`` of core time, reported as avoidable core-hours.

    ## Known problems
    Spark reports spill in-memory (deserialized) and on-disk (compressed) sizes, not
    the time spent spilling, so the saving is an estimate (confidence medium). Damping: a
    stage that spilled less than ``min_spill_bytes`` to disk is an ``info`` early warning (the
    largest one per application) saying what the spill becomes at 100× the data over the
    same partitions; it claims no saving.
    """

    id = "spark.spill"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.spill."""

        ratio: Thresholds = option(Thresholds(low=0.1, medium=0.5, high=1.0, critical=3.0),
                                   "memory spilled / (stage input + shuffle read)")
        min_spill_bytes: int = option(100 * MiB, "damping: stages spilling less to disk are early "
                                                            "warnings (bytes)")

    def check(self, app: Application, config: StageSpill.Config) -> Iterator[Finding]:
        """One finding per stage that spilled to disk; an early warning below ``min_spill_bytes``."""
        per_task = execution_memory_per_task(app)
        for stage in finished_stages(app):
            if stage.metrics.disk_bytes_spilled <= 0:
                continue
            m = measure(stage, per_task)
            severity = config.ratio.severity(m.ratio)
            if severity is None:
                continue
            finding = self._finding(app, stage, m, severity)
            damped = damped_by((m.disk_spilled_bytes < config.min_spill_bytes,
                                f"{text_bytes(m.disk_spilled_bytes)} spilled to disk (min_spill_bytes "
                                f"{text_bytes(config.min_spill_bytes)})"))
            yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    def _finding(self, app: Application, stage: Stage, m: SpillMeasure, severity: str) -> Finding:
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=f"Stage {stage.stage_id} spilled {text_bytes(m.disk_spilled_bytes)} to disk",
            evidence={
                "memory_spilled_bytes": m.memory_spilled_bytes, "disk_spilled_bytes": m.disk_spilled_bytes,
                "stage_data_bytes": m.data_bytes, "spill_ratio": round(m.ratio, 3),
                "spill_per_task_bytes": int(m.spill_per_task_bytes),
                "execution_memory_per_task_bytes": int(m.execution_memory_per_task_bytes),
                "num_tasks": stage.num_tasks,
            },
            recommendation=_recommendation(app, stage, m),
            tradeoffs="More partitions mean more, smaller tasks and shuffle files (scheduling overhead); "
                      "more memory per executor raises the cost of every executor-hour.",
            avoidable_core_hours=core_hours(m.avoidable_seconds * 1000),
            confidence="medium",  # the spill is measured; its time is modelled (100 MiB/s per core)
        )


def _at_scale(m: SpillMeasure) -> str:
    """The spill at ``SCALE`` times the data over the same partitions: each task holds that much more."""
    return (f"At {SCALE}× the data over the same partitions each task would spill about "
            f"{text_bytes(m.spill_per_task_bytes * SCALE)} (in memory) against "
            f"{text_bytes(m.execution_memory_per_task_bytes)} of execution memory: about "
            f"{text_bytes(m.disk_spilled_bytes * SCALE)} to disk and "
            f"{core_hours(m.avoidable_seconds * SCALE * 1000):,.2f} core-hours of disk I/O per run.")


def _recommendation(app: Application, stage: Stage, m: SpillMeasure) -> str:
    """Split the data finer or grow the memory, by what the spill per task implies.

    ``growth = 1 + spill per task / execution memory per task``: that many times more
    partitions lets each task's working set fit. The heap that fits it is
    ``300 MiB reserved + (execution memory + spill) per task x cores / spark.memory.fraction``;
    a ``spark.memory.fraction`` below Spark's 0.6 is restored first.
    """
    growth = 1 + m.spill_per_task_bytes / max(1.0, m.execution_memory_per_task_bytes)
    cores = cores_per_executor(app)
    partitions = round_up(stage.num_tasks * growth, cores)
    facts = (f"each task had about {text_bytes(m.execution_memory_per_task_bytes)} of execution memory and "
             f"spilled {text_bytes(m.spill_per_task_bytes)} (in memory)")
    memory = _memory_confs(app, m, cores)
    kind, _ = read_bytes(stage)
    if kind == "shuffle read":
        split = shuffle_partitions_advice(app, stage, partitions, m.data_bytes)
    elif kind == "input":
        split = (f"--conf spark.sql.files.maxPartitionBytes="
                 f"{size_conf(max(MiB, m.data_bytes / max(1, stage.num_tasks) / growth))}")
    else:
        return (f"The spill happened while writing this stage's output or shuffle: {facts}. {memory}, or "
                f"give the stage {partitions} partitions (repartition before it) so each task sorts less.")
    return f"{split}, or {memory}: {facts}."


def _memory_confs(app: Application, m: SpillMeasure, cores: int) -> str:
    """The memory settings under which each task's working set fits in execution memory."""
    setting, heap = heap_setting(app)
    fraction = float(app.properties.get("spark.memory.fraction", DEFAULT_MEMORY_FRACTION))
    confs = []
    if fraction < DEFAULT_MEMORY_FRACTION:
        confs.append(f"--conf spark.memory.fraction={DEFAULT_MEMORY_FRACTION} (from {fraction:g})")
        fraction = DEFAULT_MEMORY_FRACTION
    working_set = (m.execution_memory_per_task_bytes + m.spill_per_task_bytes) * cores
    needed = RESERVED_BYTES + working_set / fraction
    if needed > heap:
        confs.append(f"--conf {setting}={size_conf(needed)} (from {size_conf(heap)})")
    return " ".join(confs) or f"more {setting}"
