"""Mutable per-stage-attempt accumulator, frozen into ``analyzer.core.model.Stage`` at the end.

It follows the History Server's AppStatusListener: counts move on every task end of a
live stage, metrics are added only for tasks whose start was seen, and failed attempts'
metrics are summed too; distributions keep successful tasks only.
"""

from __future__ import annotations

from array import array
from collections import Counter

from analyzer.core.model import Stage, StageMetrics, TaskDistributions
from analyzer.core.stats import shs_quantiles
from connectors.spark_eventlog.events import StageInfo, StageInfoLite, TaskEnd, TaskMetrics

# Order of the summed metrics in ``StageState.sums``; matches StageMetrics' fields.
SUM_FIELDS = StageMetrics.__dataclass_fields__.keys()
_BATCH = 2048
_DIST_FIELDS = (
    "executor_run_time_ms", "jvm_gc_time_ms", "input_bytes",
    "shuffle_read_bytes", "shuffle_write_bytes", "memory_bytes_spilled", "disk_bytes_spilled",
)
# Position of each distribution's metric in a ``_metric_values`` row.
_DIST_INDEX = (0, 3, 6, 10, 14, 17, 18)


class StageState:
    """Everything the reader learns about one stage attempt while replaying the log."""

    __slots__ = (
        "stage_id", "attempt_id", "name", "num_tasks", "parent_ids", "status",
        "submission_time", "completion_time", "failure_reason", "first_launch",
        "active_tasks", "complete", "failed", "killed", "speculative", "task_ends",
        "job_ids", "sums", "dists", "durations", "failed_time", "causes", "ok_rows", "other_rows",
    )

    def __init__(self, info: StageInfo | StageInfoLite, status: str) -> None:
        self.stage_id = info.stage_id
        self.attempt_id = info.attempt_id
        self.status = status
        self.submission_time: int | None = None
        self.completion_time: int | None = None
        self.failure_reason: str | None = None
        self.first_launch: int | None = None
        self.active_tasks = self.complete = self.failed = self.killed = 0
        self.speculative = self.task_ends = 0
        self.job_ids: list[int] = []
        self.sums = [0] * len(SUM_FIELDS)
        self.dists = tuple(array("q") for _ in _DIST_FIELDS)
        self.durations = array("q")  # every ended attempt, failed ones included
        self.failed_time = 0  # duration of attempts that did not succeed
        self.ok_rows: list[tuple[int, ...]] = []  # metrics of successful attempts not yet folded
        self.other_rows: list[tuple[int, ...]] = []  # metrics of failed/killed attempts not yet folded
        self.causes: Counter[str] = Counter()
        self.update_info(info)

    def update_info(self, info: StageInfo | StageInfoLite) -> None:
        """Take the newest StageInfo's identity fields (name, task count, parents)."""
        self.name = info.name
        self.num_tasks = info.num_tasks
        self.parent_ids = tuple(info.parent_ids)
        if isinstance(info, StageInfo):
            if info.submission_time is not None:
                self.submission_time = info.submission_time
            if info.completion_time is not None:
                self.completion_time = info.completion_time
            self.failure_reason = info.failure_reason

    def count_task_end(self, event: TaskEnd) -> None:
        """Move the History Server's counters for one task end of this live stage."""
        self.task_ends += 1
        reason = event.reason.reason
        if reason != "Resubmitted":  # a resubmitted task already ended once; it is not running
            self.active_tasks -= 1
        if reason == "Success":
            self.complete += 1
        elif reason in ("TaskKilled", "TaskCommitDenied"):
            self.killed += 1
        else:
            self.failed += 1
            self.causes[_cause(event)] += 1
        if event.info is not None and event.info.speculative:
            self.speculative += 1

    def add_metrics(self, event: TaskEnd) -> None:
        """Keep a started task's metrics; they are summed and distributed in batches."""
        info = event.info
        ok = event.reason.reason == "Success" and (info is None or not (info.failed or info.killed))
        if info is not None:
            duration = info.finish_time - info.launch_time
            self.durations.append(duration)
            if not ok:
                self.failed_time += duration
        m = event.metrics
        if m is not None:
            rows = self.ok_rows if ok else self.other_rows
            rows.append(_metric_values(m))
            if len(rows) >= _BATCH:
                self._fold()

    def _fold(self) -> None:
        """Add the pending rows to the sums (all attempts) and distributions (successful ones).

        Column-wise ``sum`` and ``array.extend`` run in C; batching keeps memory flat.
        """
        for rows in (self.ok_rows, self.other_rows):
            if rows:
                self.sums = [a + b for a, b in zip(self.sums, map(sum, zip(*rows, strict=True)), strict=True)]
        if self.ok_rows:
            columns = list(zip(*self.ok_rows, strict=True))
            for dist, index in zip(self.dists, _DIST_INDEX, strict=True):
                dist.extend(columns[index])
        self.ok_rows = []
        self.other_rows = []

    def freeze(self) -> Stage:
        """The immutable model of this stage attempt."""
        self._fold()
        successful = len(self.dists[0])
        dist = TaskDistributions(
            successful, shs_quantiles(self.durations, successful),
            *(shs_quantiles(a) for a in self.dists),
        )
        return Stage(
            stage_id=self.stage_id, attempt_id=self.attempt_id, name=self.name,
            status=self.status, num_tasks=self.num_tasks,
            num_complete_tasks=self.complete, num_failed_tasks=self.failed,
            num_killed_tasks=self.killed, num_speculative_tasks=self.speculative,
            submission_time_ms=self.submission_time,
            first_task_launched_time_ms=self.first_launch,
            completion_time_ms=self.completion_time, failure_reason=self.failure_reason,
            parent_stage_ids=self.parent_ids, job_ids=tuple(self.job_ids),
            metrics=StageMetrics(*self.sums), tasks=dist,
            task_durations_ms=tuple(self.durations),
            failure_causes=tuple(sorted(self.causes.items())), task_end_events=self.task_ends,
            failed_task_time_ms=self.failed_time,
        )


def _metric_values(m: TaskMetrics) -> tuple[int, ...]:
    """One task's metrics in ``SUM_FIELDS`` order (missing sub-metrics count as 0)."""
    sr, sw, inp, out = m.shuffle_read, m.shuffle_write, m.input, m.output
    remote = sr.remote_bytes_read if sr else 0
    return (
        m.executor_run_time, m.executor_cpu_time, m.executor_deserialize_time,
        m.jvm_gc_time, m.result_serialization_time, m.peak_execution_memory,
        inp.bytes_read if inp else 0, inp.records_read if inp else 0,
        out.bytes_written if out else 0, out.records_written if out else 0,
        remote + sr.local_bytes_read if sr else 0, sr.records_read if sr else 0,
        remote, sr.fetch_wait_time if sr else 0,
        sw.bytes_written if sw else 0, sw.records_written if sw else 0,
        sw.write_time if sw else 0,
        m.memory_bytes_spilled, m.disk_bytes_spilled,
    )


def _cause(event: TaskEnd) -> str:
    """A short, groupable failure cause: the reason plus the exception class when known."""
    r = event.reason
    if r.class_name:
        return f"{r.reason}: {r.class_name}"
    if r.reason == "ExecutorLostFailure" and r.loss_reason:
        return f"{r.reason}: {r.loss_reason.splitlines()[0][:120]}"
    return r.reason
