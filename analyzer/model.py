"""The frozen domain model every rule and report stands on.

Connectors normalize raw inputs into these classes once; nothing downstream sees raw
JSON. Units live in the field names (``_ms``, ``_ns``, ``_bytes``). Stage figures mean
exactly what Spark's History Server means by them: sums include the metrics of failed
task attempts, while the per-task distributions cover successful attempts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.query_table import QueryTable


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
        if self.submission_time_ms is None or self.completion_time_ms is None:
            return None
        return self.completion_time_ms - self.submission_time_ms


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
        if self.start_time_ms is None or self.end_time_ms is None:
            return None
        return self.end_time_ms - self.start_time_ms


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

    @property
    def duration_ms(self) -> int | None:
        """Application wall-clock time; None while the application has no end."""
        if self.start_time_ms is None or self.end_time_ms is None:
            return None
        return self.end_time_ms - self.start_time_ms


@dataclass(frozen=True, slots=True)
class InputError:
    """An input that could not be read: named, explained in one line, and skipped."""

    source: str
    message: str


# --- Warehouse query history (BigQuery, Snowflake) -------------------------------------


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One warehouse query or job, normalized across BigQuery and Snowflake.

    ``query_text`` is kept raw; reports mask its literals unless asked not to.
    ``warehouse`` is the Snowflake warehouse, or the BigQuery reservation (None for
    on-demand jobs). Byte and time fields are None when the vendor does not report them.
    """

    vendor: str
    query_id: str
    start_time_ms: int | None
    end_time_ms: int | None
    status: str
    query_text: str = ""
    query_hash: str | None = None
    statement_type: str | None = None
    user: str | None = None
    project: str | None = None
    warehouse: str | None = None
    warehouse_size: str | None = None
    warehouse_type: str | None = None
    cluster_number: int | None = None
    bytes_scanned: int = 0
    bytes_billed: int | None = None
    partitions_scanned: int | None = None
    partitions_total: int | None = None
    rows_produced: int | None = None
    total_elapsed_ms: int | None = None
    execution_ms: int | None = None
    compilation_ms: int | None = None
    queued_overload_ms: int | None = None
    queued_provisioning_ms: int | None = None
    spilled_local_bytes: int = 0
    spilled_remote_bytes: int = 0
    slot_ms: int | None = None
    cache_hit: bool = False
    referenced_tables: tuple[str, ...] = ()
    credits_cloud_services: float | None = None
    parent_id: str | None = None
    job_type: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeteringHour:
    """One warehouse-hour of Snowflake metering (WAREHOUSE_METERING_HISTORY)."""

    warehouse: str
    start_time_ms: int
    end_time_ms: int
    credits_used: float
    credits_compute: float
    credits_cloud_services: float
    credits_attributed_queries: float | None = None


@dataclass(frozen=True, slots=True)
class TableStorage:
    """Size and layout of one table (BigQuery TABLE_STORAGE, Snowflake TABLES)."""

    table: str
    total_logical_bytes: int
    total_rows: int | None = None
    partitioned: bool | None = None
    clustered: bool | None = None
    column_count: int | None = None
    partitions: int | None = None  # TABLE_STORAGE.total_partitions (0 for an unpartitioned table)
    partition_column: str | None = None
    clustering_columns: tuple[str, ...] = ()  # in clustering order


@dataclass(frozen=True, slots=True)
class WarehouseSettings:
    """A Snowflake warehouse's configuration, when the role can see it."""

    name: str
    size: str | None = None
    warehouse_type: str | None = None
    auto_suspend_s: int | None = None
    min_cluster_count: int | None = None
    max_cluster_count: int | None = None


@dataclass(frozen=True, slots=True)
class WarehouseHistory:
    """Everything one warehouse connector read for one account or project and window."""

    vendor: str
    source: str
    window_start_ms: int | None
    window_end_ms: int | None
    queries: QueryTable = ()  # type: ignore[assignment]  # records are converted on construction
    metering: tuple[MeteringHour, ...] = ()
    tables: tuple[TableStorage, ...] = ()
    warehouses: tuple[WarehouseSettings, ...] = ()

    def __post_init__(self) -> None:
        # Queries are held as columns (analyzer.query_table); records given by tests or small
        # live results are converted once here. pandas is imported only for warehouse work.
        from analyzer.query_table import QueryTable

        if not isinstance(self.queries, QueryTable):
            object.__setattr__(self, "queries", QueryTable.from_records(self.queries))
