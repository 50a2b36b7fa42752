"""Typed, selective views of the Spark listener events deanalyze needs.

msgspec decodes each line straight into these structs and skips every field they do not
declare (accumulables, RDD infos, stack traces) without building Python objects for
them; that is what makes reading faster than a plain ``json.loads`` loop. Field names
are Spark's JsonProtocol names; defaults cover the older (1.x, 2.x) variants that lack
a field.

Numbers are range-checked here, in msgspec's C decoder, so that nothing downstream can
overflow or render an impossible figure: a time outside what a report can print
(``TIME``: epoch milliseconds from 1970 to the end of year 9999), a negative or
beyond-int64 metric (``METRIC``), or an id that does not fit Spark's own Java types
(``ID``, ``TASK_ID``) makes the whole line malformed: the reader counts it and skips it.
Rejecting rather than clamping keeps every figure one the log really states; the
integrity facts (``unparsed_lines``, ``first_error``) say that a line was dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct, field

MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime can print
TIME = Annotated[int, Meta(ge=0, le=MAX_TIME_MS)]
METRIC = Annotated[int, Meta(ge=0, le=(1 << 63) - 1)]
ID = Annotated[int, Meta(ge=0, le=(1 << 31) - 1)]  # Spark's stage ids and attempts are Java ints
TASK_ID = Annotated[int, Meta(ge=0, le=(1 << 63) - 1)]  # task ids are Java longs
JAVA_INT = Annotated[int, Meta(ge=-(1 << 31), le=(1 << 31) - 1)]


class _Base(Struct, frozen=False, omit_defaults=True, gc=False):
    """Common options: tolerant of unknown fields, not tracked by the cyclic GC (no cycles)."""


class ShuffleReadMetrics(_Base):
    remote_bytes_read: METRIC = field(default=0, name="Remote Bytes Read")
    local_bytes_read: METRIC = field(default=0, name="Local Bytes Read")
    fetch_wait_time: METRIC = field(default=0, name="Fetch Wait Time")
    records_read: METRIC = field(default=0, name="Total Records Read")


class ShuffleWriteMetrics(_Base):
    bytes_written: METRIC = field(default=0, name="Shuffle Bytes Written")
    write_time: METRIC = field(default=0, name="Shuffle Write Time")
    records_written: METRIC = field(default=0, name="Shuffle Records Written")


class InputMetrics(_Base):
    bytes_read: METRIC = field(default=0, name="Bytes Read")
    records_read: METRIC = field(default=0, name="Records Read")


class OutputMetrics(_Base):
    bytes_written: METRIC = field(default=0, name="Bytes Written")
    records_written: METRIC = field(default=0, name="Records Written")


class TaskMetrics(_Base):
    executor_deserialize_time: METRIC = field(default=0, name="Executor Deserialize Time")
    executor_run_time: METRIC = field(default=0, name="Executor Run Time")
    executor_cpu_time: METRIC = field(default=0, name="Executor CPU Time")
    peak_execution_memory: METRIC = field(default=0, name="Peak Execution Memory")
    jvm_gc_time: METRIC = field(default=0, name="JVM GC Time")
    result_serialization_time: METRIC = field(default=0, name="Result Serialization Time")
    memory_bytes_spilled: METRIC = field(default=0, name="Memory Bytes Spilled")
    disk_bytes_spilled: METRIC = field(default=0, name="Disk Bytes Spilled")
    shuffle_read: ShuffleReadMetrics | None = field(default=None, name="Shuffle Read Metrics")
    shuffle_write: ShuffleWriteMetrics | None = field(default=None, name="Shuffle Write Metrics")
    input: InputMetrics | None = field(default=None, name="Input Metrics")
    output: OutputMetrics | None = field(default=None, name="Output Metrics")


class TaskInfo(_Base):
    task_id: TASK_ID = field(name="Task ID")
    launch_time: TIME = field(default=0, name="Launch Time")
    finish_time: TIME = field(default=0, name="Finish Time")
    speculative: bool = field(default=False, name="Speculative")
    failed: bool = field(default=False, name="Failed")
    killed: bool = field(default=False, name="Killed")


class TaskEndReason(_Base):
    reason: str = field(default="Success", name="Reason")
    class_name: str | None = field(default=None, name="Class Name")
    description: str | None = field(default=None, name="Description")
    kill_reason: str | None = field(default=None, name="Kill Reason")
    loss_reason: str | None = field(default=None, name="Loss Reason")


class TaskEnd(_Base):
    stage_id: ID = field(name="Stage ID")
    stage_attempt_id: ID = field(default=0, name="Stage Attempt ID")
    reason: TaskEndReason = field(default_factory=TaskEndReason, name="Task End Reason")
    info: TaskInfo | None = field(default=None, name="Task Info")
    metrics: TaskMetrics | None = field(default=None, name="Task Metrics")


class TaskStart(_Base):
    stage_id: ID = field(name="Stage ID")
    stage_attempt_id: ID = field(default=0, name="Stage Attempt ID")
    info: TaskInfo | None = field(default=None, name="Task Info")


class Accumulable(_Base):
    id: int = field(name="ID")
    value: Any = field(default=None, name="Value")


class StageInfo(_Base):
    stage_id: ID = field(name="Stage ID")
    attempt_id: ID = field(default=0, name="Stage Attempt ID")
    name: str = field(default="", name="Stage Name")
    num_tasks: METRIC = field(default=0, name="Number of Tasks")
    parent_ids: list[ID] = field(default_factory=list, name="Parent IDs")
    submission_time: TIME | None = field(default=None, name="Submission Time")
    completion_time: TIME | None = field(default=None, name="Completion Time")
    failure_reason: str | None = field(default=None, name="Failure Reason")
    accumulables: list[Accumulable] = field(default_factory=list, name="Accumulables")


class StageSubmitted(_Base):
    info: StageInfo = field(name="Stage Info")
    properties: dict[str, Any] | None = field(default=None, name="Properties")


class StageCompleted(_Base):
    info: StageInfo = field(name="Stage Info")


class StageInfoLite(_Base):
    """A job's stage list entry: identity and size only (its RDD infos are skipped)."""

    stage_id: ID = field(name="Stage ID")
    attempt_id: ID = field(default=0, name="Stage Attempt ID")
    name: str = field(default="", name="Stage Name")
    num_tasks: METRIC = field(default=0, name="Number of Tasks")
    parent_ids: list[ID] = field(default_factory=list, name="Parent IDs")


class JobStart(_Base):
    job_id: ID = field(name="Job ID")
    submission_time: TIME | None = field(default=None, name="Submission Time")
    stage_infos: list[StageInfoLite] = field(default_factory=list, name="Stage Infos")
    stage_ids: list[ID] = field(default_factory=list, name="Stage IDs")
    properties: dict[str, Any] | None = field(default=None, name="Properties")


class JobResult(_Base):
    result: str = field(default="JobSucceeded", name="Result")
    exception: dict[str, Any] | None = field(default=None, name="Exception")


class JobEnd(_Base):
    job_id: ID = field(name="Job ID")
    completion_time: TIME | None = field(default=None, name="Completion Time")
    result: JobResult = field(default_factory=JobResult, name="Job Result")


class ApplicationStart(_Base):
    app_name: str = field(default="", name="App Name")
    app_id: str | None = field(default=None, name="App ID")
    timestamp: TIME | None = field(default=None, name="Timestamp")
    user: str | None = field(default=None, name="User")
    attempt_id: str | None = field(default=None, name="App Attempt ID")


class Timestamped(_Base):
    timestamp: TIME | None = field(default=None, name="Timestamp")


class LogStart(_Base):
    spark_version: str | None = field(default=None, name="Spark Version")


class EnvironmentUpdate(_Base):
    spark_properties: Any = field(default=None, name="Spark Properties")


class ExecutorInfo(_Base):
    host: str | None = field(default=None, name="Host")
    total_cores: METRIC = field(default=0, name="Total Cores")
    resource_profile_id: JAVA_INT | None = field(default=None, name="Resource Profile Id")


class ExecutorAdded(_Base):
    executor_id: str = field(name="Executor ID")
    timestamp: TIME | None = field(default=None, name="Timestamp")
    info: ExecutorInfo = field(default_factory=ExecutorInfo, name="Executor Info")


class ExecutorRemoved(_Base):
    executor_id: str = field(name="Executor ID")
    timestamp: TIME | None = field(default=None, name="Timestamp")
    reason: str | None = field(default=None, name="Removed Reason")


class BlockManagerId(_Base):
    executor_id: str = field(name="Executor ID")
    host: str | None = field(default=None, name="Host")


class BlockManagerAdded(_Base):
    block_manager: BlockManagerId = field(name="Block Manager ID")
    maximum_memory: METRIC | None = field(default=None, name="Maximum Memory")
    timestamp: TIME | None = field(default=None, name="Timestamp")


class SqlExecutionStart(_Base):
    execution_id: TASK_ID = field(name="executionId")
    description: str = ""
    physical_plan: str = field(default="", name="physicalPlanDescription")
    plan_info: Any = field(default=None, name="sparkPlanInfo")
    time: TIME | None = None
    modified_configs: dict[str, Any] | None = field(default=None, name="modifiedConfigs")


class SqlExecutionEnd(_Base):
    execution_id: TASK_ID = field(name="executionId")
    time: TIME | None = None
    error_message: str | None = field(default=None, name="errorMessage")


class SqlAdaptiveUpdate(_Base):
    execution_id: TASK_ID = field(name="executionId")
    physical_plan: str = field(default="", name="physicalPlanDescription")
    plan_info: Any = field(default=None, name="sparkPlanInfo")


class SqlMetricInfo(_Base):
    name: str = ""
    accumulator_id: int = field(default=-1, name="accumulatorId")


class SqlAdaptiveMetricUpdates(_Base):
    execution_id: TASK_ID = field(name="executionId")
    metrics: list[SqlMetricInfo] = field(default_factory=list, name="sqlPlanMetrics")


class DriverAccumUpdates(_Base):
    execution_id: TASK_ID = field(name="executionId")
    updates: list[list[int]] = field(default_factory=list, name="accumUpdates")


_SQL = "org.apache.spark.sql.execution.ui."

EVENT_TYPES: dict[str, type[Struct]] = {
    "SparkListenerTaskEnd": TaskEnd,
    "SparkListenerTaskStart": TaskStart,
    "SparkListenerStageSubmitted": StageSubmitted,
    "SparkListenerStageCompleted": StageCompleted,
    "SparkListenerJobStart": JobStart,
    "SparkListenerJobEnd": JobEnd,
    "SparkListenerApplicationStart": ApplicationStart,
    "SparkListenerApplicationEnd": Timestamped,
    "SparkListenerLogStart": LogStart,
    "DBCEventLoggingListenerMetadata": LogStart,  # Databricks writes its version here
    "SparkListenerEnvironmentUpdate": EnvironmentUpdate,
    "SparkListenerExecutorAdded": ExecutorAdded,
    "SparkListenerExecutorRemoved": ExecutorRemoved,
    "SparkListenerBlockManagerAdded": BlockManagerAdded,
    _SQL + "SparkListenerSQLExecutionStart": SqlExecutionStart,
    _SQL + "SparkListenerSQLExecutionEnd": SqlExecutionEnd,
    _SQL + "SparkListenerSQLAdaptiveExecutionUpdate": SqlAdaptiveUpdate,
    _SQL + "SparkListenerSQLAdaptiveSQLMetricUpdates": SqlAdaptiveMetricUpdates,
    _SQL + "SparkListenerDriverAccumUpdates": DriverAccumUpdates,
}

DECODERS: dict[bytes, msgspec.json.Decoder[Any]] = {
    name.encode(): msgspec.json.Decoder(struct, strict=False) for name, struct in EVENT_TYPES.items()
}
