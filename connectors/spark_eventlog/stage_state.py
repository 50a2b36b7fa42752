"""Mutable per-stage-attempt accumulator, frozen into ``analyzer.core.model.Stage`` at the end.

It follows the History Server's AppStatusListener: counts move on every task end of a
live stage, metrics are added only for tasks whose start was seen, and failed attempts'
metrics are summed too; distributions keep successful tasks only.

Task events arrive as columnar batches (``task_batch``), grouped per stage attempt by
``task_index``; ``advance`` applies a range of them with numpy, so the per-task work is
array arithmetic, not Python. The one order-dependent rule, that a stage which is no
longer ACTIVE stops being tracked when its last running task ends, is found with a
cumulative sum of running tasks over the range.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from analyzer.core.model import Stage, StageMetrics, TaskDistributions
from analyzer.core.stats import shs_quantiles
from connectors.spark_eventlog.events import StageInfo, StageInfoLite
from connectors.spark_eventlog.task_batch import (
    CODE,
    FINISH,
    HAS_METRICS,
    LAUNCH,
    METRICS,
    OK,
    RESUBMITTED,
    SEQ,
    SPEC,
)
from connectors.spark_eventlog.task_index import KeyEvents, TaskIndex

# Order of the summed metrics in ``StageState.sums``; matches StageMetrics' fields.
SUM_FIELDS = StageMetrics.__dataclass_fields__.keys()
# Metric columns (after ``METRICS``) of the distributions, in TaskDistributions' order:
# executor run time, GC time, input bytes, shuffle read and write bytes, spills.
_DIST_COLUMNS = [METRICS + i for i in (0, 3, 6, 10, 14, 17, 18)]
_INT64_LIMIT = 1 << 63
_NUMPY_SORT = 256  # above this many values numpy's sort beats Python's


class StageState:
    """Everything the reader learns about one stage attempt while replaying the log."""

    __slots__ = (
        "stage_id", "attempt_id", "key", "name", "num_tasks", "parent_ids", "status",
        "submission_time", "completion_time", "failure_reason", "first_launch",
        "active_tasks", "complete", "failed", "killed", "speculative", "task_ends",
        "job_ids", "sums", "durations", "dist_rows", "failed_time", "causes", "done",
    )

    def __init__(self, info: StageInfo | StageInfoLite, status: str, seq: int) -> None:
        self.stage_id = info.stage_id
        self.attempt_id = info.attempt_id
        self.key = info.stage_id << 32 | info.attempt_id
        self.status = status
        self.submission_time: int | None = None
        self.completion_time: int | None = None
        self.failure_reason: str | None = None
        self.first_launch: int | None = None
        self.active_tasks = self.complete = self.failed = self.killed = 0
        self.speculative = self.task_ends = 0
        self.job_ids: list[int] = []
        self.sums = [0] * len(SUM_FIELDS)
        self.durations: list[np.ndarray] = []  # every ended attempt, failed ones included
        self.dist_rows: list[np.ndarray] = []  # distribution metrics of successful attempts
        self.failed_time = 0  # duration of attempts that did not succeed
        self.causes: Counter[str] = Counter()
        self.done = seq  # task events of the current batch before this line are applied
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

    def advance(self, index: TaskIndex, upto: int) -> bool:
        """Apply this stage's task events of the batch up to line ``upto``; True if it ended.

        A stage that is not ACTIVE ends (stops being live) at the task end that leaves it
        no running task: later events of the range are not its own.
        """
        events = index.get(self.key)
        done, self.done = self.done, upto
        if events is None:
            return False
        lo, hi = np.searchsorted(events.seq, (done, upto)).tolist()
        if hi <= lo:
            return False
        ended = False
        if self.status != "ACTIVE":
            running = self.active_tasks + np.cumsum(events.delta[lo:hi])
            hits = np.flatnonzero(events.is_end[lo:hi] & (running == 0))
            if hits.size:
                hi, ended = lo + int(hits[0]) + 1, True
        self._apply(index, events, lo, hi)
        return ended

    def _apply(self, index: TaskIndex, events: KeyEvents, lo: int, hi: int) -> None:
        """Move the counters for events ``lo:hi``; add the metrics of ends of live tasks."""
        rows, is_end = events.rows[lo:hi], events.is_end[lo:hi]
        self.active_tasks += int(events.delta[lo:hi].sum())
        start_rows = rows[~is_end]
        if start_rows.size:
            launch = int(index.launch[start_rows].min())
            if self.first_launch is None or launch < self.first_launch:
                self.first_launch = launch
        end_rows = rows[is_end]
        if not end_rows.size:
            return
        ends = index.batch.ends[end_rows]
        self.task_ends += len(end_rows)
        success, killed, resubmitted, failed = np.bincount(ends[:, CODE], minlength=4).tolist()
        self.complete += success
        self.killed += killed
        if resubmitted or failed:
            self.failed += resubmitted + failed
            causes = index.batch.causes
            self.causes.update(causes[seq] for seq in ends[ends[:, CODE] >= RESUBMITTED, SEQ].tolist())
        self.speculative += int(ends[:, SPEC].sum())
        live = index.was_live[end_rows]
        if live.any():
            self._add_metrics(ends[live])

    def _add_metrics(self, ends: np.ndarray) -> None:
        """Durations of every live end, metric sums of all, distributions of successful ones."""
        durations = ends[:, FINISH] - ends[:, LAUNCH]
        self.durations.append(durations)
        ok = ends[:, OK].astype(bool)
        self.failed_time += _exact_sum(durations[~ok])
        has = ends[:, HAS_METRICS].astype(bool)
        if has.all():
            metrics = ends[:, METRICS:]
        else:
            metrics, ok = ends[has, METRICS:], ok[has]
        if len(metrics):
            self.sums = [a + b for a, b in zip(self.sums, _exact_column_sums(metrics), strict=True)]
            self.dist_rows.append(metrics[ok][:, [c - METRICS for c in _DIST_COLUMNS]])

    def freeze(self) -> Stage:
        """The immutable model of this stage attempt."""
        durations = _joined(self.durations, np.empty(0, np.int64))
        dists = _joined(self.dist_rows, np.empty((0, 7), np.int64))
        successful = len(dists)
        in_order = durations.tolist()
        # numpy sorts big stages; shs_quantiles sorts again, a linear pass on sorted input
        ordered = np.sort(durations).tolist() if len(in_order) > _NUMPY_SORT else in_order
        columns = (np.sort(dists, axis=0) if successful > _NUMPY_SORT else dists).T.tolist()
        dist = TaskDistributions(
            successful, shs_quantiles(ordered, successful), *(shs_quantiles(column) for column in columns),
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
            task_durations_ms=tuple(in_order),
            failure_causes=tuple(sorted(self.causes.items())), task_end_events=self.task_ends,
            failed_task_time_ms=self.failed_time,
        )


def _joined(pieces: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces) if pieces else empty


def _exact_sum(values: np.ndarray) -> int:
    """Sum as a Python int; int64 arithmetic only when it cannot overflow."""
    if not len(values):
        return 0
    if int(np.abs(values).max()) * len(values) < _INT64_LIMIT:
        return int(values.sum())
    return sum(values.tolist())


def _exact_column_sums(rows: np.ndarray) -> list[int]:
    """Column sums as Python ints (metrics are >= 0, so the max bounds every sum)."""
    if int(rows.max()) * len(rows) < _INT64_LIMIT:
        return rows.sum(axis=0).tolist()  # type: ignore[no-any-return]
    return [sum(column) for column in rows.T.tolist()]
