"""The frozen domain model every rule and report stands on.

Connectors normalize raw inputs into these classes once; nothing downstream sees raw
JSON. Units live in the field names (``_ms``, ``_ns``, ``_bytes``). Stage figures mean
exactly what Spark's History Server means by them: sums include the metrics of failed
task attempts, while the per-task distributions cover successful attempts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from analyzer.core.safe_text import redact_url


def span_ms(start_ms: int | None, end_ms: int | None) -> int | None:
    """``end - start`` in ms, or None when either end is unknown: the one duration rule of the model."""
    if start_ms is None or end_ms is None:
        return None
    return end_ms - start_ms


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Five-number summary at the History Server's quantiles 0, 0.25, 0.5, 0.75, 1."""

    min: float
    p25: float
    p50: float
    p75: float
    max: float


@dataclass(frozen=True, slots=True)
class TaskDistributions:
    """Per-task distributions of one stage attempt, over its successful tasks."""

    count: int
    duration_ms: Quantiles | None
    executor_run_time_ms: Quantiles | None
    jvm_gc_time_ms: Quantiles | None
    input_bytes: Quantiles | None
    shuffle_read_bytes: Quantiles | None
    shuffle_write_bytes: Quantiles | None
    memory_bytes_spilled: Quantiles | None
    disk_bytes_spilled: Quantiles | None


@dataclass(frozen=True, slots=True)
class StageMetrics:
    """Task metrics summed over every attempt of every task of a stage attempt."""

    executor_run_time_ms: int = 0
    executor_cpu_time_ns: int = 0
    executor_deserialize_time_ms: int = 0
    jvm_gc_time_ms: int = 0
    result_serialization_time_ms: int = 0
    peak_execution_memory_bytes: int = 0
    input_bytes: int = 0
    input_records: int = 0
    output_bytes: int = 0
    output_records: int = 0
    shuffle_read_bytes: int = 0
    shuffle_read_records: int = 0
    shuffle_remote_bytes_read: int = 0
    shuffle_fetch_wait_time_ms: int = 0
    shuffle_write_bytes: int = 0
    shuffle_write_records: int = 0
    shuffle_write_time_ns: int = 0
    memory_bytes_spilled: int = 0
    disk_bytes_spilled: int = 0


@dataclass(frozen=True, slots=True)
class Stage:
    """One attempt of one stage, with the History Server's status vocabulary.

    ``status`` is one of COMPLETE, FAILED, ACTIVE, PENDING, SKIPPED.
    ``task_durations_ms`` keeps every ended task attempt's duration (failed ones too: they held a
    core) so rules can simulate other cluster sizes without re-reading the log.
    """

    stage_id: int
    attempt_id: int
    name: str
    status: str
    num_tasks: int
    num_complete_tasks: int
    num_failed_tasks: int
    num_killed_tasks: int
    num_speculative_tasks: int
    submission_time_ms: int | None
    first_task_launched_time_ms: int | None
    completion_time_ms: int | None
    failure_reason: str | None
    parent_stage_ids: tuple[int, ...]
    job_ids: tuple[int, ...]
    metrics: StageMetrics
    tasks: TaskDistributions
    task_durations_ms: tuple[int, ...] = ()
    failure_causes: tuple[tuple[str, int], ...] = ()
    task_end_events: int = 0
    failed_task_time_ms: int = 0

    @property
    def duration_ms(self) -> int | None:
        """Wall-clock time from submission to completion, when both are known."""
        return span_ms(self.submission_time_ms, self.completion_time_ms)


@dataclass(frozen=True, slots=True)
class Job:
    """A Spark job: the stages one action ran, and the SQL execution it belongs to."""

    job_id: int
    status: str
    submission_time_ms: int | None
    completion_time_ms: int | None
    stage_ids: tuple[int, ...]
    sql_execution_id: int | None = None
    description: str | None = None
    job_group: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Executor:
    """An executor (or the driver, ``executor_id == "driver"``) and its lifetime."""

    executor_id: str
    host: str | None
    total_cores: int
    add_time_ms: int | None
    remove_time_ms: int | None = None
    remove_reason: str | None = None
    max_storage_memory_bytes: int | None = None
    resource_profile_id: int | None = None

    @property
    def is_driver(self) -> bool:
        """True for the driver's block manager entry."""
        return self.executor_id in ("driver", "<driver>")


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One physical-plan operator of a SQL execution, with its final metric values."""

    node_id: int
    name: str
    description: str
    metadata: Mapping[str, str]
    metrics: Mapping[str, int]
    child_ids: tuple[int, ...] = ()
    stage_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SqlExecution:
    """A SQL/DataFrame query: its final (post-AQE) plan and the jobs that ran it."""

    execution_id: int
    description: str
    start_time_ms: int | None
    end_time_ms: int | None
    physical_plan: str
    nodes: tuple[PlanNode, ...]
    job_ids: tuple[int, ...]
    error_message: str | None = None
    modified_configs: Mapping[str, str] = field(default_factory=dict)

    @property
    def duration_ms(self) -> int | None:
        """Wall-clock time of the query, when it finished."""
        return span_ms(self.start_time_ms, self.end_time_ms)


@dataclass(frozen=True, slots=True)
class LogIntegrity:
    """What the reader could and could not trust in a log: the basis of confidence."""

    events_read: int = 0
    unparsed_lines: int = 0
    truncated_tail: bool = False
    task_end_events: int = 0
    tasks_expected: int = 0
    first_error: str | None = None
    files_read: int = 1


@dataclass(frozen=True, slots=True)
class Application:
    """One attempt of one Spark application, fully normalized."""

    app_id: str
    attempt_id: str | None
    name: str
    user: str | None
    spark_version: str | None
    master: str | None
    start_time_ms: int | None
    end_time_ms: int | None
    complete: bool
    source: str
    properties: Mapping[str, str] = field(default_factory=dict)
    executors: tuple[Executor, ...] = ()
    jobs: tuple[Job, ...] = ()
    stages: tuple[Stage, ...] = ()
    sql_executions: tuple[SqlExecution, ...] = ()
    integrity: LogIntegrity = LogIntegrity()

    def __post_init__(self) -> None:
        """The log's name as every report and the run history store it: no URL credentials."""
        if "://" in self.source:
            object.__setattr__(self, "source", redact_url(self.source))

    @property
    def duration_ms(self) -> int | None:
        """Application wall-clock time; None while the application has no end."""
        return span_ms(self.start_time_ms, self.end_time_ms)


@dataclass(frozen=True, slots=True)
class InputError:
    """An input that could not be read: named, explained in one line, and skipped."""

    source: str
    message: str

    def __post_init__(self) -> None:
        """Redact URL credentials and query tokens once, here, so no report, stderr line or history
        row can show them, whichever connector or API path built the record."""
        if "://" in self.source:
            object.__setattr__(self, "source", redact_url(self.source))
        if "://" in self.message:
            object.__setattr__(self, "message", redact_url(self.message))
