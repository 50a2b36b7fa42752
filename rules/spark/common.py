"""Small measurements several Spark rules share; pure functions of the model."""

from __future__ import annotations

import math

from analyzer.core.model import Application, SqlExecution, Stage
from analyzer.core.timeline import executor_cores  # noqa: F401  (re-exported for the rules)
from analyzer.core.units import MS_PER_HOUR, GiB, MiB, parse_size  # noqa: F401  (re-exported for the rules)

#: Runs with less task time than this are dev or sample runs: rules whose damping is their own size
#: thresholds project them to ``rules.damping.SCALE`` times the data for an early warning. A bigger
#: run is taken at its own scale.
SMALL_RUN_CORE_HOURS = 1.0


def subject(app: Application, stage: Stage | None = None,
            sql: SqlExecution | None = None) -> dict[str, object]:
    """The JSON ``subject`` of a finding: the application, and the stage or query."""
    out: dict[str, object] = {"app_id": app.app_id, "attempt_id": app.attempt_id, "app_name": app.name}
    if stage is not None:
        out.update(stage_id=stage.stage_id, stage_attempt_id=stage.attempt_id, stage_name=stage.name)
    if sql is not None:
        out.update(sql_execution_id=sql.execution_id, sql_description=sql.description[:200])
    return out


def core_hours(ms: float) -> float:
    """Task or core time in milliseconds as core-hours."""
    return ms / MS_PER_HOUR


def executor_memory_bytes(app: Application) -> int:
    """``spark.executor.memory`` (default 1g, as in Spark)."""
    return parse_size(app.properties.get("spark.executor.memory"), "m") or GiB


def shuffle_partitions(app: Application) -> int:
    """``spark.sql.shuffle.partitions`` (default 200)."""
    value = app.properties.get("spark.sql.shuffle.partitions", "200")
    return int(value) if value.isdigit() else 200


def round_up(value: float, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple`` (at least one multiple)."""
    multiple = max(1, multiple)
    return max(multiple, int(math.ceil(value / multiple)) * multiple)


def stage_seconds(stage: Stage) -> float:
    """Wall-clock seconds of a stage (0 when unknown)."""
    return (stage.duration_ms or 0) / 1000


def finished_stages(app: Application) -> list[Stage]:
    """Stage attempts that ran (complete or failed), in id order."""
    return [s for s in app.stages if s.status in ("COMPLETE", "FAILED")]


def is_small_run(app: Application) -> bool:
    """Less than ``SMALL_RUN_CORE_HOURS`` of task time: a run to project, not to take at its scale."""
    run_ms = sum(s.metrics.executor_run_time_ms for s in app.stages)
    return core_hours(run_ms) < SMALL_RUN_CORE_HOURS
