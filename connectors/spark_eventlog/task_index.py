"""One batch's task events grouped per stage attempt, ready for the replay to consume.

The History Server's bookkeeping depends on order: a task end adds metrics only if its
task's start was seen and not yet ended, and counts on its stage only while that stage
is live. Both are settled here over whole arrays instead of event by event:

- *was the task live* at each end: the previous event of the same task id (in this batch,
  else the carried set of tasks started in earlier batches and not yet ended) is a start;
- *per stage attempt*, the batch's starts and ends merged in line order, with the change
  each makes to the stage's count of running tasks, so that ``StageState.advance`` can
  take any range of them with ``searchsorted`` and find where a finished stage's last
  running task ends.
"""

from __future__ import annotations

import numpy as np

from connectors.spark_eventlog.task_batch import (
    CODE,
    KEY,
    RESUBMITTED,
    SEQ,
    START_LAUNCH,
    START_TASK,
    TASK,
    Batch,
)


class KeyEvents:
    """The task events of one stage attempt in one batch, in line order."""

    __slots__ = ("seq", "is_end", "delta", "rows")

    def __init__(self, seq: np.ndarray, is_end: np.ndarray, delta: np.ndarray, rows: np.ndarray) -> None:
        self.seq = seq  # line index of each event (sorted)
        self.is_end = is_end  # True for a task end
        self.delta = delta  # change of running tasks: +1 start, -1 end, 0 a Resubmitted end
        self.rows = rows  # row in ``batch.starts`` (starts) or ``batch.ends`` (ends)


class TaskIndex:
    """A batch's task events per stage attempt, and which ends were of live tasks."""

    def __init__(self, batch: Batch, live_tasks: set[int]) -> None:
        self.batch = batch
        self.was_live = _was_live(batch, live_tasks)
        self.launch = batch.starts[:, START_LAUNCH]
        self.groups = _groups(batch)

    def get(self, key: int) -> KeyEvents | None:
        """The events of stage attempt ``key`` (``stage_id << 32 | attempt``), if any."""
        return self.groups.get(key)


def _groups(batch: Batch) -> dict[int, KeyEvents]:
    starts, ends = batch.starts, batch.ends
    n_starts = len(starts)
    keys = np.concatenate((starts[:, KEY], ends[:, KEY]))
    if not len(keys):
        return {}
    seqs = np.concatenate((starts[:, SEQ], ends[:, SEQ]))
    order = np.lexsort((seqs, keys))
    keys, seqs = keys[order], seqs[order]
    is_end = order >= n_starts
    rows = np.where(is_end, order - n_starts, order)
    delta = np.ones(len(order), dtype=np.int64)
    end_codes = ends[:, CODE]
    delta[is_end] = np.where(end_codes[rows[is_end]] == RESUBMITTED, 0, -1)
    bounds = (np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist()
    groups: dict[int, KeyEvents] = {}
    for lo, hi in zip([0, *bounds], [*bounds, len(keys)], strict=True):
        groups[int(keys[lo])] = KeyEvents(seqs[lo:hi], is_end[lo:hi], delta[lo:hi], rows[lo:hi])
    return groups


def _was_live(batch: Batch, live_tasks: set[int]) -> np.ndarray:
    """For each end row: was its task started and not yet ended? Updates ``live_tasks``."""
    starts, ends = batch.starts, batch.ends
    n_starts, n = len(starts), len(starts) + len(ends)
    was_live = np.zeros(len(ends), dtype=bool)
    if n == 0:
        return was_live
    tasks = np.concatenate((starts[:, START_TASK], ends[:, TASK]))
    seqs = np.concatenate((starts[:, SEQ], ends[:, SEQ]))
    order = np.lexsort((seqs, tasks))
    tasks = tasks[order]
    is_start = order < n_starts
    first = np.ones(n, dtype=bool)
    first[1:] = tasks[1:] != tasks[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    prev_start = np.zeros(n, dtype=bool)
    prev_start[1:] = is_start[:-1]
    live = ~first & prev_start
    carried = first & ~is_start
    if carried.any() and live_tasks:
        idx = np.flatnonzero(carried)
        live[idx] = [t in live_tasks for t in tasks[idx].tolist()]
    end_pos = ~is_start
    was_live[order[end_pos] - n_starts] = live[end_pos]
    live_tasks.difference_update(tasks[last & ~is_start].tolist())
    live_tasks.update(tasks[last & is_start].tolist())
    return was_live
