"""Replay decoded listener events into an ``analyzer.core.model.Application``.

The bookkeeping mirrors Spark's AppStatusListener so that every stage figure means what
the History Server means: stages a job announces start PENDING, become ACTIVE when
submitted, COMPLETE/FAILED (or SKIPPED, when never submitted) when they end, and a job's
end marks its still-pending stages SKIPPED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.core.model import Application, Executor, Job, LogIntegrity
from connectors.spark_eventlog import events as ev
from connectors.spark_eventlog.redaction import redact
from connectors.spark_eventlog.sql_state import SqlState
from connectors.spark_eventlog.stage_state import StageState
from connectors.spark_eventlog.task_batch import Batch
from connectors.spark_eventlog.task_index import TaskIndex

_END = 1 << 62  # a line number past every batch: "apply the rest"


class AppBuilder:
    """Holds the replay state of one application attempt.

    A log is replayed batch by batch (``task_batch.Batch``): ``begin_batch`` indexes the
    batch's task events, ``handle_at`` applies its other events in line order, and
    ``end_batch`` applies the task events left. A stage takes the task events of the
    batch lazily (``StageState.advance``) whenever the replay looks at it, so every
    decision sees exactly the task events that came before it in the log.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.start: ev.ApplicationStart | None = None
        self.end_time: int | None = None
        self.spark_version: str | None = None
        self.properties: dict[str, str] = {}
        self.executors: dict[str, dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.stages: dict[tuple[int, int], StageState] = {}
        self.live_stages: dict[tuple[int, int], StageState] = {}
        self.live_tasks: set[int] = set()
        self.sql = SqlState()
        self.events_read = 0
        self.task_ends = 0
        self.index: TaskIndex | None = None
        self.seq = 0
        self.handlers: dict[type, Callable[[Any], None]] = {
            ev.StageSubmitted: self.on_stage_submitted, ev.StageCompleted: self.on_stage_completed,
            ev.JobStart: self.on_job_start, ev.JobEnd: self.on_job_end,
            ev.ApplicationStart: self.on_app_start, ev.Timestamped: self.on_app_end,
            ev.LogStart: self.on_log_start, ev.EnvironmentUpdate: self.on_environment,
            ev.ExecutorAdded: self.on_executor_added, ev.ExecutorRemoved: self.on_executor_removed,
            ev.BlockManagerAdded: self.on_block_manager_added,
        }

    # -- batches -------------------------------------------------------------------
    def begin_batch(self, batch: Batch) -> None:
        """Index the batch's task events; every live stage starts at its first line."""
        self.task_ends += len(batch.ends) + batch.ends_without_info
        self.index = TaskIndex(batch, self.live_tasks)
        for stage in self.live_stages.values():
            stage.done = 0

    def handle_at(self, seq: int, event: Any) -> None:
        """Apply one decoded non-task event found at line ``seq`` of the batch."""
        self.seq = seq
        kind = type(event)
        handler = self.handlers.get(kind)
        if handler is None:  # first of its type: a block decoder subclass, or a SQL event
            handler = self.handlers.get(kind.__mro__[1]) or self.sql.handle
            self.handlers[kind] = handler
        handler(event)

    def end_batch(self) -> None:
        """Apply the batch's remaining task events to every live stage."""
        self.seq = _END
        for key in list(self.live_stages):
            self._live(key)
        self.index = None

    def _live(self, key: tuple[int, int]) -> StageState | None:
        """The live stage attempt ``key``, brought up to the current line (None if it ended)."""
        stage = self.live_stages.get(key)
        if stage is not None and self.index is not None and stage.advance(self.index, self.seq):
            del self.live_stages[key]
            return None
        return stage

    # -- stages and jobs -----------------------------------------------------------
    def _stage(self, info: ev.StageInfo | ev.StageInfoLite, status: str) -> StageState:
        key = (info.stage_id, info.attempt_id)
        stage = self._live(key)
        if stage is None:
            stage = StageState(info, status, self.seq)
            self.live_stages[key] = stage
            self.stages[key] = stage
        return stage

    def on_stage_submitted(self, e: ev.StageSubmitted) -> None:
        """Make the stage ACTIVE and link it to every known job that lists it."""
        stage = self._stage(e.info, "ACTIVE")
        stage.status = "ACTIVE"
        stage.update_info(e.info)
        for job in self.jobs.values():
            if e.info.stage_id in job["stage_ids"] and job["job_id"] not in stage.job_ids:
                stage.job_ids.append(job["job_id"])

    def on_stage_completed(self, e: ev.StageCompleted) -> None:
        """Settle the stage's final status; it stays live until its last running task ends."""
        info = e.info
        self.sql.record_accumulables(info.stage_id, info.accumulables)
        stage = self._live((info.stage_id, info.attempt_id))
        if stage is None:  # the History Server ignores completions of stages it no longer tracks
            return
        stage.update_info(info)
        if info.failure_reason is not None:
            stage.status = "FAILED"
        elif info.submission_time is not None:
            stage.status = "COMPLETE"
        else:
            stage.status = "SKIPPED"
        if stage.active_tasks <= 0:
            self.live_stages.pop((info.stage_id, info.attempt_id), None)

    def on_job_start(self, e: ev.JobStart) -> None:
        """Record the job, register its announced stages as PENDING and link it to its SQL execution."""
        props = e.properties or {}
        exec_id = props.get("spark.sql.execution.id")
        stage_ids = list(e.stage_ids) or [s.stage_id for s in e.stage_infos]
        self.jobs[e.job_id] = {
            "job_id": e.job_id, "submission_time": e.submission_time, "end": None,
            "status": "RUNNING", "stage_ids": stage_ids, "failure": None,
            "sql_execution_id": _to_int(exec_id),
            "description": props.get("spark.job.description"),
            "job_group": props.get("spark.jobGroup.id"),
        }
        for info in e.stage_infos:
            stage = self._stage(info, "PENDING")
            if e.job_id not in stage.job_ids:
                stage.job_ids.append(e.job_id)
        self.sql.link_job(_to_int(exec_id), e.job_id)

    def on_job_end(self, e: ev.JobEnd) -> None:
        """Close the job; its stages still PENDING were never run, so they become SKIPPED."""
        job = self.jobs.get(e.job_id)
        if job is None:
            return
        job["end"] = e.completion_time
        succeeded = e.result.result == "JobSucceeded"
        job["status"] = "SUCCEEDED" if succeeded else "FAILED"
        if not succeeded and e.result.exception:
            job["failure"] = str(e.result.exception.get("Message", ""))[:500] or None
        stage_ids = set(job["stage_ids"])
        for key in list(self.live_stages):
            stage = self._live(key)
            if stage is not None and key[0] in stage_ids and stage.status == "PENDING":
                stage.status = "SKIPPED"
                del self.live_stages[key]

    # -- application and executors ------------------------------------------------
    def on_app_start(self, e: ev.ApplicationStart) -> None:
        """Keep the first ApplicationStart; a repeated one must not reset the app's identity."""
        if self.start is None:
            self.start = e

    def on_app_end(self, e: ev.Timestamped) -> None:
        """Note the end time; an app without one is reported as in progress."""
        self.end_time = e.timestamp

    def on_log_start(self, e: ev.LogStart) -> None:
        """Take the Spark version that wrote the log."""
        self.spark_version = e.spark_version or self.spark_version

    def on_environment(self, e: ev.EnvironmentUpdate) -> None:
        """Keep the Spark properties, with secret-looking values redacted before they reach a report."""
        props = e.spark_properties
        if isinstance(props, list):  # some writers emit [[key, value], ...]
            props = {str(p[0]): p[1] for p in props if isinstance(p, list) and len(p) == 2}
        if isinstance(props, dict):
            self.properties.update({str(k): redact(str(k), str(v)) for k, v in props.items()})

    def on_executor_added(self, e: ev.ExecutorAdded) -> None:
        """Record the executor's host, cores and start time, which bound the core time it is billed for."""
        ex = self.executors.setdefault(e.executor_id, {"executor_id": e.executor_id})
        ex.update(host=e.info.host, total_cores=e.info.total_cores, add_time_ms=e.timestamp,
                  resource_profile_id=e.info.resource_profile_id)

    def on_executor_removed(self, e: ev.ExecutorRemoved) -> None:
        """Record when and why the executor left; its billed time ends there."""
        ex = self.executors.setdefault(e.executor_id, {"executor_id": e.executor_id})
        ex.update(remove_time_ms=e.timestamp, remove_reason=e.reason)

    def on_block_manager_added(self, e: ev.BlockManagerAdded) -> None:
        """Take the storage memory, and host and start time when ExecutorAdded has not given them."""
        exec_id = e.block_manager.executor_id
        ex = self.executors.setdefault(exec_id, {"executor_id": exec_id})
        ex.setdefault("host", e.block_manager.host)
        ex.setdefault("add_time_ms", e.timestamp)
        ex["max_storage_memory_bytes"] = e.maximum_memory

    # -- result --------------------------------------------------------------------
    def build(self, *, complete_hint: bool | None, truncated: bool, unparsed: int,
              first_error: str | None, files_read: int = 1) -> Application:
        """Freeze the replayed state. ``complete_hint`` False forces an in-progress app."""
        start = self.start
        stages = tuple(s.freeze() for s in sorted(self.stages.values(), key=_stage_order))
        complete = self.end_time is not None and complete_hint is not False
        integrity = LogIntegrity(
            events_read=self.events_read, unparsed_lines=unparsed, truncated_tail=truncated,
            task_end_events=self.task_ends,
            tasks_expected=sum(s.num_tasks for s in stages if s.status in ("COMPLETE", "FAILED")),
            first_error=first_error, files_read=files_read,
        )
        return Application(
            app_id=(start.app_id if start and start.app_id else _fallback_id(self.source)),
            attempt_id=start.attempt_id if start else None,
            name=start.app_name if start else "",
            user=start.user if start else None,
            spark_version=self.spark_version,
            master=self.properties.get("spark.master"),
            start_time_ms=start.timestamp if start else None,
            end_time_ms=self.end_time if complete else None,
            complete=complete, source=self.source, properties=self.properties,
            executors=tuple(_executor(d) for d in self.executors.values()),
            jobs=tuple(_job(j) for j in sorted(self.jobs.values(), key=lambda j: j["job_id"])),
            stages=stages, sql_executions=self.sql.freeze(), integrity=integrity,
        )


def _to_int(value: Any) -> int | None:
    """A SQL execution id from a job property; None unless it is a valid Spark id (0 to 2**63-1)."""
    try:
        number = int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and 0 <= number < (1 << 63) else None


def _stage_order(s: StageState) -> tuple[int, int]:
    return (s.stage_id, s.attempt_id)


def _fallback_id(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1]


def _executor(d: dict[str, Any]) -> Executor:
    return Executor(
        executor_id=d["executor_id"], host=d.get("host"), total_cores=d.get("total_cores") or 0,
        add_time_ms=d.get("add_time_ms"), remove_time_ms=d.get("remove_time_ms"),
        remove_reason=d.get("remove_reason"),
        max_storage_memory_bytes=d.get("max_storage_memory_bytes"),
        resource_profile_id=d.get("resource_profile_id"),
    )


def _job(j: dict[str, Any]) -> Job:
    return Job(
        job_id=j["job_id"], status=j["status"], submission_time_ms=j["submission_time"],
        completion_time_ms=j["end"], stage_ids=tuple(j["stage_ids"]),
        sql_execution_id=j["sql_execution_id"], description=j["description"],
        job_group=j["job_group"], failure_reason=j["failure"],
    )
