"""Stage arithmetic the stage rules share: task slots, bytes per task, failed-attempt time, AQE.

Pure functions of the domain model, kept apart from ``common`` (shared by every rule
author) so the stage rules can grow helpers without touching other people's code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from analyzer.core.model import Application, Quantiles, SqlExecution, Stage
from rules.spark.common import GiB, MiB, executor_cores, executor_memory_bytes, parse_size, shuffle_partitions

# Spark's default executor memory overhead: max(384 MiB, 10 % of the heap).
MIN_OVERHEAD_BYTES = 384 * MiB
OVERHEAD_FACTOR = 0.10
AQE_SKEW_READERS = ("AQEShuffleRead", "CustomShuffleReader")


def is_local(app: Application) -> bool:
    """True when tasks ran inside the driver JVM (``local[...]`` master)."""
    return (app.master or "").startswith("local[")


def slot_count(app: Application) -> int:
    """Task slots the application held at its peak: the cores that could have run tasks.

    Executors are swept over their add/remove times, so dynamic allocation counts what
    was alive at once, not everything ever added. In local mode the driver runs the
    tasks, and its block-manager entry carries the ``local[N]`` core count.
    """
    events: list[tuple[int, int]] = []
    for e in app.executors:
        if e.is_driver or e.total_cores <= 0:
            continue
        events.append((e.add_time_ms or 0, e.total_cores))
        if e.remove_time_ms is not None:
            events.append((e.remove_time_ms, -e.total_cores))
    if events:
        peak = alive = 0
        for _, delta in sorted(events, key=lambda ev: (ev[0], ev[1])):  # removals first on ties
            alive += delta
            peak = max(peak, alive)
        return max(1, peak)
    driver = next((e.total_cores for e in app.executors if e.is_driver and e.total_cores > 0), 0)
    return driver or executor_cores(app)


def cores_alive(app: Application, start_ms: int | None, end_ms: int | None) -> float:
    """Executor cores alive between two times, averaged over the window.

    Under dynamic allocation idle executors are released, so the cores a stage could
    have used (and that were paid for) are the ones alive while it ran, not the peak.
    Without executor times (local mode, old logs) this is ``slot_count``.
    """
    execs = [e for e in app.executors if not e.is_driver and e.total_cores > 0 and e.add_time_ms is not None]
    if not execs or start_ms is None or end_ms is None or end_ms <= start_ms:
        return float(slot_count(app))
    core_ms = 0
    for e in execs:
        removed = e.remove_time_ms if e.remove_time_ms is not None else end_ms
        overlap = min(end_ms, removed) - max(start_ms, e.add_time_ms or 0)
        core_ms += e.total_cores * max(0, overlap)
    return core_ms / (end_ms - start_ms)


def cores_per_executor(app: Application) -> int:
    """Cores of one executor; in local mode the whole ``local[N]`` driver."""
    return slot_count(app) if is_local(app) else executor_cores(app)


def heap_setting(app: Application) -> tuple[str, int]:
    """The property that sizes the JVM running tasks, and its value in bytes.

    In local mode that is ``spark.driver.memory`` (default 1g): the executor lives in the
    driver, and ``spark.executor.memory`` does nothing.
    """
    if is_local(app):
        return "spark.driver.memory", parse_size(app.properties.get("spark.driver.memory"), "m") or GiB
    return "spark.executor.memory", executor_memory_bytes(app)


def overhead_bytes(app: Application) -> int:
    """``spark.executor.memoryOverhead``, or Spark's default max(384 MiB, 10 % of the heap)."""
    explicit = parse_size(app.properties.get("spark.executor.memoryOverhead"), "m")
    if explicit:
        return explicit
    return max(MIN_OVERHEAD_BYTES, int(executor_memory_bytes(app) * OVERHEAD_FACTOR))


def size_conf(n_bytes: float) -> str:
    """A byte count as a Spark size string, rounded up (``256k``, ``1536m``, ``4g``).

    Whole MiB from 1 MiB up, so memory settings read naturally; KiB below, so thresholds
    computed from small partitions stay below the partitions they must catch.
    """
    if n_bytes < MiB:
        return f"{max(1, math.ceil(n_bytes / 1024))}k"
    mib = math.ceil(n_bytes / MiB)
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"


@dataclass(frozen=True, slots=True)
class MemoryStep:
    """One step of Dr. Elephant's memory/cores adjustment: a property and its new value."""

    setting: str
    current: str
    proposed: str


def memory_step(app: Application) -> MemoryStep:
    """The first applicable step of Dr. Elephant's OOM/GC recipe for this application.

    Dr. Elephant tuning branch, ``ConfigurationParametersHeuristic.scala:420-440``: cores
    above 4 are halved; else a heap under 4 GiB doubles, under 8 GiB grows 1.5x; else
    cores above 2 drop to 2; else the heap grows 1.25x. In local mode the cores are the
    master's, so only the heap steps apply.
    """
    setting, heap = heap_setting(app)
    cores = cores_per_executor(app)
    if not is_local(app) and cores > 4:
        return MemoryStep("spark.executor.cores", str(cores), str(math.ceil(cores / 2)))
    if heap < 4 * GiB:
        return MemoryStep(setting, size_conf(heap), size_conf(heap * 2))
    if heap < 8 * GiB:
        return MemoryStep(setting, size_conf(heap), size_conf(heap * 1.5))
    if not is_local(app) and cores > 2:
        return MemoryStep("spark.executor.cores", str(cores), "2")
    return MemoryStep(setting, size_conf(heap), size_conf(heap * 1.25))


def read_bytes(stage: Stage) -> tuple[str, Quantiles | None]:
    """Which per-task read the stage's tasks did most of (input or shuffle), and its quantiles."""
    inp, shuffle = stage.tasks.input_bytes, stage.tasks.shuffle_read_bytes
    if shuffle is not None and (inp is None or shuffle.max >= inp.max) and shuffle.max > 0:
        return "shuffle read", shuffle
    if inp is not None and inp.max > 0:
        return "input", inp
    return "none", None


def stage_data_bytes(stage: Stage) -> int:
    """Bytes the stage read (input or shuffle, whichever is larger)."""
    return max(stage.metrics.input_bytes, stage.metrics.shuffle_read_bytes)


def partitions_for(n_bytes: float, target_bytes: float, slots: int) -> int:
    """Partitions of ``target_bytes`` for ``n_bytes``, rounded up to a multiple of the slots."""
    needed = math.ceil(n_bytes / max(1.0, target_bytes))
    multiple = max(1, slots)
    return max(multiple, math.ceil(needed / multiple) * multiple)


@dataclass(frozen=True, slots=True)
class FailedTime:
    """Core time held by failed task attempts: an estimate and its bounds, in ms."""

    estimate_ms: float
    low_ms: float
    high_ms: float


def failed_attempt_time(stage: Stage) -> FailedTime:
    """Core time the stage's failed task attempts held.

    ``Stage.failed_task_time_ms`` sums the attempts that did not succeed, killed ones
    (speculation losers) included. Without killed attempts it is exact; with them the
    killed attempts' share is taken out by count, bounded by removing the ``k`` longest or
    ``k`` shortest ended durations. A stage without that sum (older or hand-built models)
    falls back to ``n`` failed attempts x the mean ended duration, bounded by the ``n``
    shortest and longest durations.
    """
    n, killed = stage.num_failed_tasks, stage.num_killed_tasks
    ordered = sorted(stage.task_durations_ms)
    if n <= 0:
        return FailedTime(0.0, 0.0, 0.0)
    total = float(stage.failed_task_time_ms)
    if total > 0:
        if killed <= 0:
            return FailedTime(total, total, total)
        low = max(0.0, total - sum(ordered[-killed:]))
        high = max(low, total - sum(ordered[:killed]))
        return FailedTime(min(high, max(low, total * n / (n + killed))), low, high)
    n = min(n, len(ordered))
    if n == 0:
        return FailedTime(0.0, 0.0, 0.0)
    mean = sum(ordered) / len(ordered)
    return FailedTime(estimate_ms=n * mean, low_ms=float(sum(ordered[:n])), high_ms=float(sum(ordered[-n:])))


def sql_execution_of(app: Application, stage: Stage) -> SqlExecution | None:
    """The SQL execution a stage ran for, through the jobs that list the stage."""
    execution_ids = {j.sql_execution_id for j in app.jobs if j.sql_execution_id is not None
                     and (stage.stage_id in j.stage_ids or j.job_id in stage.job_ids)}
    for sql in app.sql_executions:
        if sql.execution_id in execution_ids:
            return sql
    return None


def aqe_split_skew(sql: SqlExecution | None) -> bool:
    """True when AQE's skew-join handling split partitions in this query's final plan.

    Spark marks such a reader ``AQEShuffleRead ... skewed`` (``CustomShuffleReader`` before
    3.2) and counts "number of skewed partitions".
    """
    if sql is None:
        return False
    for node in sql.nodes:
        if node.name in AQE_SKEW_READERS and (
                "skewed" in node.description or node.metrics.get("number of skewed partitions", 0) > 0):
            return True
    return False


def prop_enabled(app: Application, key: str, default: bool) -> bool:
    """A boolean Spark property, with Spark's default when unset."""
    value = app.properties.get(key)
    return default if value is None else value.strip().lower() == "true"


def aqe_enabled(app: Application) -> bool:
    """``spark.sql.adaptive.enabled``; on by default since Spark 3.2 (SPARK-33679)."""
    return prop_enabled(app, "spark.sql.adaptive.enabled", default=_version_at_least(app, (3, 2)))


def _version_at_least(app: Application, wanted: tuple[int, int]) -> bool:
    """True when the application's Spark version is at least ``wanted`` (unknown: assume new)."""
    parts = [int(p) for p in re.findall(r"\d+", app.spark_version or "")[:2]]
    return len(parts) < 2 or (parts[0], parts[1]) >= wanted


def text_bytes(n: float) -> str:
    """Bytes for finding titles and recommendations (``1.5 MiB``); evidence keeps raw numbers.

    Rules may not import ``reports`` (layering), so this mirrors ``reports.fmt.fmt_bytes``.
    """
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"  # pragma: no cover


def shuffle_partitions_advice(app: Application, stage: Stage, partitions: int, data_bytes: float) -> str:
    """How to give a shuffle-reading stage ``partitions`` partitions, given what set its count.

    A stage with exactly ``spark.sql.shuffle.partitions`` tasks follows that setting; one
    with fewer under AQE was coalesced (AQE packs partitions up to the advisory size, so
    the advisory size is the knob); any other count comes from the code
    (``repartition(n)``, ``coalesce(n)``, an RDD shuffle), where only the code can change it.
    """
    current = shuffle_partitions(app)
    if stage.num_tasks == current:
        return f"--conf spark.sql.shuffle.partitions={partitions} (from {current})"
    advisory = parse_size(app.properties.get("spark.sql.adaptive.advisoryPartitionSizeInBytes")) or 64 * MiB
    small = data_bytes / stage.num_tasks <= 2 * advisory
    coalesced = aqe_enabled(app) and stage.num_tasks < current and small
    if coalesced:
        more = f" --conf spark.sql.shuffle.partitions={partitions}" if partitions > current else ""
        size = size_conf(data_bytes / partitions)
        return (f"--conf spark.sql.adaptive.advisoryPartitionSizeInBytes={size} (from {size_conf(advisory)}; "
                f"AQE coalesced this shuffle to {stage.num_tasks} partitions){more}")
    return (f".repartition({partitions}) where the code sets this stage's {stage.num_tasks} partitions "
            f"(spark.sql.shuffle.partitions={current} does not apply to it)")
