"""Decode a block of event-log lines into compact rows: task events as flat int64 rows.

Why rows: task start and task end lines are nearly all of a big log (a 280 MB log of 52,000
tasks is 98 % task ends), and building one Python object per task to replay the History
Server's bookkeeping event by event cost more than decoding. Here each task line's few needed
numbers (range-checked by the decoder) are appended to a flat list, made one ``array('q')``
per block; ``task_batch.finish`` turns them into numpy arrays, and ``task_index`` and
``stage_state`` do the per-stage bookkeeping with numpy over whole batches.

Why apart from ``task_batch``: this module does not import numpy, so a split-read worker
(``split``) is forked and decoding before the main process has paid for numpy's import.

A block is decoded in one msgspec call (``block_decoder``); a block that call refuses is
decoded line by line, where a malformed line is counted and skipped, an unknown event
type skipped undecoded, and a line is classified by its first bytes (Spark always writes
``"Event"`` first). The few other events stay in the batch, in order, for the replay: a
split-read worker keeps only their byte ranges, so what it sends back stays small.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec.structs import astuple

from connectors.spark_eventlog.block_decoder import BLOCK_DECODER, TAGGED, Ignored
from connectors.spark_eventlog.blocks import HeadCheck
from connectors.spark_eventlog.events import DECODERS, TaskEnd, TaskStart

PREFIX = b'{"Event":"'
_TASK_END = PREFIX + b'SparkListenerTaskEnd"'
_TASK_START = PREFIX + b'SparkListenerTaskStart"'
_END_DECODE = DECODERS[b"SparkListenerTaskEnd"].decode
_START_DECODE = DECODERS[b"SparkListenerTaskStart"].decode
_END_TYPE, _START_TYPE = TAGGED["SparkListenerTaskEnd"], TAGGED["SparkListenerTaskStart"]
_TAG_OF = {t: name.encode() for name, t in TAGGED.items()}
_IGNORED_TYPES = frozenset(t for t in TAGGED.values() if issubclass(t, Ignored))
# What a malformed line can raise while decoding: msgspec's errors, and Python's own for
# pathological nesting (100,000 ``[``) or numbers no int64 column can hold.
LINE_ERRORS = (msgspec.MsgspecError, RecursionError, OverflowError, ValueError)

# Columns of ``Batch.ends``: the row head, ``TaskInfo``'s fields in order, then the metrics:
# in struct order as decoded here, in ``stage_state.SUM_FIELDS`` order once ``task_batch.finish``
# has reordered them.
SEQ, KEY, CODE, OK, TASK, LAUNCH, FINISH, SPEC, _FAILED, _KILLED, HAS_METRICS, METRICS = range(12)
END_COLUMNS = METRICS + 19
START_COLUMNS, START_TASK, START_LAUNCH = 4, 2, 3  # SEQ, KEY, task id, launch time
# ``CODE`` values: how the History Server counts a task end.
SUCCESS, KILLED, RESUBMITTED, FAILED = range(4)
_KILLED_REASONS = ("TaskKilled", "TaskCommitDenied")
_NO_METRICS = (0,) * 20
_ZEROS = {n: (0,) * n for n in (2, 3, 4)}
_NO_ROWS = array("q")


@dataclass(slots=True)
class Batch:
    """The task events of a block of lines as int64 rows, and its other lines in order.

    ``starts`` and ``ends`` are flat ``array('q')`` rows as decoded (bytes on their way from a
    split-read worker) until ``task_batch.finish`` makes them 2-D int64 numpy arrays; the
    builder only ever sees finished batches.

    ``seq`` is the line's index in the batch: it orders task rows and other lines, and
    keys ``causes`` (the failure cause of each failed task end).
    ``others`` holds ``(seq, line_number, name, ref)``: ``ref`` is a ``memoryview`` of the
    line or, in a batch decoded by a split-read worker, its ``(offset, length)`` in the
    file; ``name`` None means ``ref`` is the decoded event (a line in another key order).
    ``errors`` holds ``(line_number, message)`` of malformed task lines; ``cut`` is True
    when the block's last line is an unfinished final line: a truncated log, not a
    malformed line.
    """

    starts: Any
    ends: Any
    first_line: int = 1  # the global number of the block's first line
    causes: dict[int, str] = field(default_factory=dict)
    others: list[tuple[int, int, bytes | None, Any]] = field(default_factory=list)
    ends_without_info: int = 0
    decoded: int = 0
    lines: int = 0
    recognized: int = 0
    end: int = 0  # split reads: the file offset just past the batch's last line
    errors: list[tuple[int, str]] = field(default_factory=list)
    cut: bool = False


def decode_rows(block: bytes | bytearray, first_line: int, *, final: bool, head: HeadCheck | None,
                 file_offset: int | None = None, max_line: int | None = None,
                 start: int = 0, stop: int | None = None) -> Batch:
    """Decode the lines of ``block[start:stop]`` (whole lines; the last may lack its newline if ``final``).

    ``first_line`` is the global number of the first line, for error messages.
    ``file_offset`` (the file offset of ``block[0]``) set means the block comes from a
    file read by a split-read worker: other lines are then kept as ``(offset, length)``.
    ``max_line`` (split reads only) marks longer lines malformed, as the framing layer would.

    The whole block is first decoded in one msgspec call (``BLOCK_DECODER``); only a block
    with an unknown, malformed or out-of-range line is decoded line by line. No numpy here:
    a split-read worker runs this before (and without) importing it.
    """
    stop = len(block) if stop is None else stop
    starts: list[int] = []
    ends: list[int] = []
    batch = Batch(_NO_ROWS, _NO_ROWS, first_line)
    # Line by line while a file's head is checked: the check counts blank lines exactly.
    if (head is None or head.found) and (max_line is None or stop - start <= max_line):
        try:
            events = BLOCK_DECODER.decode_lines(memoryview(block)[start:stop])
        except LINE_ERRORS:
            pass
        else:
            lines = _line_starts(block, start, stop)
            # A worker needs each other line's byte range: without blank lines, event i is line i.
            if file_offset is None or len(lines) == len(events):
                _whole_block(events, batch, starts, ends)
                batch.lines = len(lines)
                if file_offset is not None and batch.others:
                    lines.append(stop)
                    batch.others = [
                        (seq, first_line + seq, _TAG_OF[type(e)],
                         (file_offset + lines[seq], lines[seq + 1] - lines[seq]))
                        for seq, _, _, e in batch.others
                    ]
                return _rows(batch, starts, ends)
    _line_by_line(batch, starts, ends, block, first_line, final, head, file_offset, max_line, start, stop)
    return _rows(batch, starts, ends)


def _whole_block(events: list[Any], batch: Batch, starts: list[int], ends: list[int]) -> None:
    """Fill ``batch`` from a block decoded in one call."""
    causes, others = batch.causes, batch.others
    ignored = 0
    for seq, e in enumerate(events):
        kind = type(e)
        if kind is _END_TYPE:
            _add_end(e, seq, ends, causes, batch)  # type: ignore[arg-type]
        elif kind is _START_TYPE:
            _add_start(e, seq, starts)  # type: ignore[arg-type]
        elif kind in _IGNORED_TYPES:
            ignored += 1
        else:
            others.append((seq, 0, None, e))
    batch.recognized = len(events)
    batch.decoded = len(events) - ignored


def _line_starts(block: bytes | bytearray, start: int, stop: int) -> list[int]:
    """Where each line of ``block[start:stop]`` starts: a ``find`` (memchr) per line beats
    ``bytes.count`` threefold, and gives the offsets too."""
    find, starts, pos = block.find, [], start
    while pos < stop:
        starts.append(pos)
        pos = find(b"\n", pos, stop) + 1 or stop
    return starts


def _rows(batch: Batch, starts: list[int], ends: list[int]) -> Batch:
    """The rows as flat int64 arrays: ``array('q', list)`` converts a flat list twice as fast as
    ``numpy.fromiter``, and ``numpy.frombuffer`` later views it without a copy."""
    batch.starts = array("q", starts)
    batch.ends = array("q", ends)
    return batch


def _line_by_line(batch: Batch, starts: list[int], ends: list[int], block: bytes | bytearray, first_line: int,
                  final: bool, head: HeadCheck | None, file_offset: int | None, max_line: int | None,
                  start: int, size: int) -> None:
    """Decode each line on its own: malformed lines are counted, unknown types skipped undecoded."""
    others, causes = batch.others, batch.causes
    view = memoryview(block)
    find, startswith = block.find, block.startswith
    limit = (1 << 62) if max_line is None else max_line
    pos, seq, recognized, decoded = start, 0, 0, 0
    checking = head is not None and not head.found
    while pos < size:
        nl = find(b"\n", pos, size)
        end = size if nl < 0 else nl + 1
        if end - pos > limit:
            _bad(batch, first_line + seq, f"line longer than the limit of {limit} bytes", False)
        elif startswith(_TASK_END, pos):
            recognized += 1
            try:
                _add_end(_END_DECODE(view[pos:end]), seq, ends, causes, batch)
                decoded += 1
            except LINE_ERRORS as err:
                _bad(batch, first_line + seq, _message(err), final and nl < 0)
        elif startswith(_TASK_START, pos):
            recognized += 1
            try:
                _add_start(_START_DECODE(view[pos:end]), seq, starts)
                decoded += 1
            except LINE_ERRORS as err:
                _bad(batch, first_line + seq, _message(err), final and nl < 0)
        elif startswith(PREFIX, pos):
            recognized += 1
            name = bytes(block[pos + 10:find(b'"', pos + 10, end)])
            if name in DECODERS:
                ref = view[pos:end] if file_offset is None else (file_offset + pos, end - pos)
                others.append((seq, first_line + seq, name, ref))
        elif block[pos:end].strip():
            recognized += _odd_line(view[pos:end], seq, first_line, batch, final and nl < 0, starts, ends)
        seq += 1
        if checking:
            head.see(head.lines + 1, recognized)  # type: ignore[union-attr]
            checking = not head.found  # type: ignore[union-attr]
        pos = end
    batch.lines, batch.recognized, batch.decoded = seq, recognized, batch.decoded + decoded


def _add_end(e: TaskEnd, seq: int, ends: list[int], causes: dict[int, str], batch: Batch) -> None:
    """Append one task end's row: ``TaskInfo`` and the metric structs taken whole (``astuple``).

    Every value was range-checked by the decoder, so the row is always complete.
    """
    info = e.info
    if info is None:
        batch.ends_without_info += 1
        return
    reason = e.reason.reason
    if reason == "Success":
        code = SUCCESS
    elif reason in _KILLED_REASONS:
        code = KILLED
    else:
        code = RESUBMITTED if reason == "Resubmitted" else FAILED
        causes[seq] = _cause(e)
    extend = ends.extend
    extend((seq, e.stage_id << 32 | e.stage_attempt_id, code,
            code == SUCCESS and not (info.failed or info.killed)))
    extend(astuple(info))
    m = e.metrics
    if m is None:
        extend(_NO_METRICS)
        return
    metrics = astuple(m)
    ends.append(1)
    extend(metrics[:8])
    read, write, inp, out = metrics[8:]
    extend(astuple(read) if read else _ZEROS[4])
    extend(astuple(write) if write else _ZEROS[3])
    extend(astuple(inp) if inp else _ZEROS[2])
    extend(astuple(out) if out else _ZEROS[2])


def _cause(e: TaskEnd) -> str:
    """A short, groupable failure cause: the reason plus the exception class when known."""
    r = e.reason
    if r.class_name:
        return f"{r.reason}: {r.class_name}"
    if r.reason == "ExecutorLostFailure" and r.loss_reason:
        return f"{r.reason}: {r.loss_reason.splitlines()[0][:120]}"
    return r.reason


def _add_start(e: Any, seq: int, starts: list[int]) -> None:
    """Append one task start's row (a start without task info changes nothing, as in Spark)."""
    if e.info is not None:
        starts.extend((seq, e.stage_id << 32 | e.stage_attempt_id, e.info.task_id, e.info.launch_time))


def _bad(batch: Batch, line_number: int, message: str, last: bool) -> None:
    """Count a malformed line; an unfinished final line means a truncated log instead."""
    if last:
        batch.cut = True
    else:
        batch.errors.append((line_number, message))


def _odd_line(line: memoryview, seq: int, first_line: int, batch: Batch, last: bool,
              starts: list[int], ends: list[int]) -> int:
    """A line not starting with ``{"Event":"``: other key order, or junk. 1 if an event."""
    try:
        obj = msgspec.json.decode(line)
    except LINE_ERRORS as err:
        _bad(batch, first_line + seq, _message(err), last)
        return 0
    name = obj.get("Event") if isinstance(obj, dict) else None
    if not isinstance(name, str):
        _bad(batch, first_line + seq, "not a listener event", last)
        return 0
    decoder = DECODERS.get(name.encode())
    if decoder is not None:
        try:
            event = decoder.decode(line)
            if decoder.type is TaskEnd:
                _add_end(event, seq, ends, batch.causes, batch)
            elif decoder.type is TaskStart:
                _add_start(event, seq, starts)
            else:
                batch.others.append((seq, first_line + seq, None, event))
            batch.decoded += 1
        except LINE_ERRORS as err:
            _bad(batch, first_line + seq, _message(err), last)
    return 1


def _message(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:160]
