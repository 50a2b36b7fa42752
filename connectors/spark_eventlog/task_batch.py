"""Finish a block's decoded rows (``task_rows``) into the numpy batch the replay works on.

Why a module of its own: ``task_rows`` decodes without numpy, so that a split-read worker can
start before numpy is imported; only here, in the process that replays, do the rows become
2-D int64 arrays with their metrics in ``stage_state.SUM_FIELDS`` order.
"""

from __future__ import annotations

import numpy as np

from connectors.spark_eventlog.blocks import HeadCheck
from connectors.spark_eventlog.task_rows import (  # noqa: F401  (re-exported: the replay's column names)
    CODE,
    END_COLUMNS,
    FAILED,
    FINISH,
    HAS_METRICS,
    KEY,
    KILLED,
    LAUNCH,
    LINE_ERRORS,
    METRICS,
    OK,
    RESUBMITTED,
    SEQ,
    SPEC,
    START_COLUMNS,
    START_LAUNCH,
    START_TASK,
    SUCCESS,
    TASK,
    Batch,
    decode_rows,
)

# Struct order (TaskMetrics' 8 numbers, shuffle read 4, shuffle write 3, input 2, output 2)
# to SUM_FIELDS order; shuffle read bytes (struct slot 9, local) become remote + local.
_TO_SUM_ORDER = [METRICS + i for i in (1, 2, 0, 4, 5, 3, 15, 16, 17, 18, 9, 11, 8, 10, 12, 14, 13, 6, 7)]
_REMOTE, _READ = METRICS + 12, METRICS + 10


def decode_block(block: bytes | bytearray, first_line: int, *, final: bool, head: HeadCheck | None,
                 file_offset: int | None = None, max_line: int | None = None,
                 start: int = 0, stop: int | None = None) -> Batch:
    """``task_rows.decode_rows`` and ``finish``: a block's lines as a batch ready to replay."""
    return finish(decode_rows(block, first_line, final=final, head=head, file_offset=file_offset,
                              max_line=max_line, start=start, stop=stop))


def finish(batch: Batch) -> Batch:
    """The rows as 2-D int64 arrays (views of the flat rows), metrics in ``SUM_FIELDS`` order."""
    batch.starts = np.frombuffer(batch.starts, dtype=np.int64).reshape(-1, START_COLUMNS)
    rows = np.frombuffer(batch.ends, dtype=np.int64).reshape(-1, END_COLUMNS)
    batch.ends = _in_sum_order(rows, batch, batch.first_line)
    return batch


def _in_sum_order(ends: np.ndarray, batch: Batch, first_line: int) -> np.ndarray:
    """Metric columns in ``SUM_FIELDS`` order, shuffle bytes read = remote + local.

    A sum beyond int64 wraps negative: that row's line is malformed and is dropped.
    """
    if not len(ends):
        return ends
    ends = ends.copy()
    ends[:, METRICS:] = ends[:, _TO_SUM_ORDER]
    ends[:, _READ] += ends[:, _REMOTE]
    bad = ends[:, _READ] < 0
    if bad.any():
        for seq in ends[bad, SEQ].tolist():
            batch.errors.append((first_line + seq, "shuffle bytes read out of range"))
            batch.causes.pop(seq, None)
        batch.decoded -= int(bad.sum())
        ends = ends[~bad]
    return ends
