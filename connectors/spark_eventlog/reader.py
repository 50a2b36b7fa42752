"""Read one application's event log into the domain model, fast and forgivingly.

The log is read in blocks of whole lines (``blocks``); each block is decoded in one
msgspec call where it can be, into a columnar batch (``task_batch``: task lines as int64
rows, the few other events kept in order), which the builder replays in order. Fields
and event types deanalyze does not need are skipped in C. A big plain file is read on
two cores (``split``).

Like the History Server, a cut-off last line is expected in a log that may still be
written; unlike it, a malformed line elsewhere (bad JSON, a number out of range, a
nesting too deep to decode) is counted and skipped instead of failing the whole log, and
the integrity facts say so. A log in which no event at all could be decoded is an
error, not an empty application.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, BinaryIO

from analyzer.core.gc_pause import cyclic_gc_paused
from analyzer.core.model import Application
from connectors.spark_eventlog.blocks import HeadCheck, line_blocks
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.events import DECODERS
from connectors.spark_eventlog.split import (
    BLOCK,
    SplitWorker,
    WorkerLost,
    adopt_early,
    decode_range,
    run_waiting_work,
    split_point,
)
from connectors.spark_eventlog.storage import Storage, storage_for
from connectors.spark_eventlog.task_rows import LINE_ERRORS, Batch

if TYPE_CHECKING:
    from connectors.spark_eventlog.builder import AppBuilder


class _ReplayStats:
    """Per-log counters that end up in ``LogIntegrity``."""

    __slots__ = ("lines", "unparsed", "first_error", "error_line", "truncated", "recognized", "decoded")

    def __init__(self) -> None:
        self.lines = 0
        self.unparsed = 0
        self.first_error: str | None = None
        self.error_line = 0
        self.truncated = False
        self.recognized = 0
        self.decoded = 0

    def bad_line(self, line_number: int, message: str, path: str) -> None:
        """Count a malformed line; keep the message of the first one in the log."""
        self.unparsed += 1
        if self.first_error is None or line_number < self.error_line:
            self.error_line = line_number
            self.first_error = f"{path}: line {line_number}: {message}"


def read_application(source: LogSource) -> Application:
    """Replay every file of ``source`` in order; raise ``EventLogError`` if it is unusable.

    A split-read worker for the first file is forked before the replay's modules (numpy) are
    imported: it starts decoding while this process still imports them.
    """
    storage = storage_for(source.files[0])
    last = len(source.files) - 1
    first = _start_split(storage, source.files[0], source.legacy_codec, is_last_file=last == 0)
    try:
        from connectors.spark_eventlog.builder import AppBuilder  # numpy: after the worker started

        builder = AppBuilder(source.display)
        builder.spark_version = source.spark_version_hint
        stats = _ReplayStats()
        with cyclic_gc_paused():
            for index, path in enumerate(source.files):
                started = first if index == 0 else _start_split(storage, path, source.legacy_codec,
                                                                 is_last_file=index == last)
                _read_file(storage, path, source.legacy_codec, builder, stats, is_last_file=index == last,
                           started=started)
    finally:
        if first is not None:
            first[1].close()
    builder.events_read = stats.recognized
    _check_usable(stats, source.display)
    return builder.build(
        complete_hint=source.complete_hint, truncated=stats.truncated,
        unparsed=stats.unparsed, first_error=stats.first_error, files_read=len(source.files),
    )


def _check_usable(stats: _ReplayStats, display: str) -> None:
    """Raise unless at least one event was decoded: an all-bad log is an error, not an empty app."""
    if stats.decoded:
        return
    if stats.recognized == 0 or (stats.truncated and not stats.unparsed):
        if stats.truncated:
            what = "cut off before its first complete event (truncated compressed stream or line)"
        elif stats.lines == 0:
            what = "empty file"
        else:
            what = "not a Spark event log (no listener events found)"
        raise EventLogError(what, display)
    first = stats.first_error or ""
    first = first[len(display) + 2:] if first.startswith(display + ": ") else first  # named once
    problem = f"first problem: {first}" if first else "it holds only event types deanalyze does not use"
    raise EventLogError(f"no readable Spark event in {stats.lines} lines: {problem}", display)


Started = tuple[str, SplitWorker]  # (local path, the worker reading from its split point)


def _start_split(storage: Storage, path: str, legacy_codec: str | None, *,
                 is_last_file: bool) -> Started | None:
    """Fork the worker of a split read of ``path`` when it is worth one (``split_point``)."""
    from connectors.spark_eventlog.codecs import codec_from_filename

    codec = legacy_codec or codec_from_filename(path.rsplit("/", 1)[-1])
    if codec is None and is_last_file and type(storage) is Storage:
        early = adopt_early(storage.normalize(path))
        if early is not None:
            return early.path, early
    middle = split_point(storage, path, codec)
    if middle is None:
        return None
    local = storage.normalize(path)
    return local, SplitWorker(local, middle, is_last_file)


def _read_file(storage: Storage, path: str, legacy_codec: str | None, builder: AppBuilder,
               stats: _ReplayStats, *, is_last_file: bool, started: Started | None) -> None:
    """Replay one file: in two parts on two cores when ``_start_split`` started a worker for it,
    else in blocks from its stream."""
    from connectors.spark_eventlog.codecs import codec_from_filename
    from connectors.spark_eventlog.task_batch import decode_block

    if started is not None:
        _read_split(*started, path, builder, stats, is_last_file)
        return
    codec = legacy_codec or codec_from_filename(path.rsplit("/", 1)[-1])
    with storage.open(path) as raw:
        stream = _decompressed(raw, path, codec)
        head = HeadCheck(path)
        blocks = line_blocks(stream.readinto, BLOCK, expected=_plain_size(raw, codec))
        for block, start, stop, _, final in blocks:
            batch = decode_block(block, stats.lines + 1, final=final and is_last_file, head=head,
                                 start=start, stop=stop)
            _replay(batch, builder, stats, path, is_last_file, None)
        if getattr(stream, "truncated", False):
            stats.truncated = True


def _read_split(local: str, worker: SplitWorker, path: str, builder: AppBuilder, stats: _ReplayStats,
                is_last_file: bool) -> None:
    """Replay the first part while a worker decodes the rest; then replay the worker's batches.

    If the worker is lost, the rest is decoded here from the end of its last batch.
    """
    from connectors.spark_eventlog.task_batch import finish

    middle = worker.start
    try:
        for batch in decode_range(local, 0, middle, first_line=stats.lines + 1, head=HeadCheck(path),
                                  views=True):
            _replay(finish(batch), builder, stats, path, is_last_file, None)
        run_waiting_work()
        fd = os.open(local, os.O_RDONLY)
        try:
            base, resume = stats.lines, middle
            try:
                for batch in worker.batches():
                    _shift_lines(batch, base)
                    _replay(finish(batch), builder, stats, path, is_last_file, fd)
                    resume = batch.end
            except WorkerLost:
                for batch in decode_range(local, resume, first_line=stats.lines + 1, last_file=is_last_file):
                    _replay(finish(batch), builder, stats, path, is_last_file, fd)
        finally:
            os.close(fd)
    finally:
        worker.close()


def _shift_lines(batch: Batch, base: int) -> None:
    """Turn a worker's line numbers (from 1 at the split) into the log's."""
    batch.first_line += base
    batch.errors = [(n + base, m) for n, m in batch.errors]
    batch.others = [(seq, n + base, name, ref) for seq, n, name, ref in batch.others]


def _replay(batch: Batch, builder: AppBuilder, stats: _ReplayStats, path: str, is_last_file: bool,
            fd: int | None) -> None:
    """Count the batch, then replay its other lines in order around its task events."""
    stats.lines += batch.lines
    stats.recognized += batch.recognized
    stats.decoded += batch.decoded
    stats.truncated = stats.truncated or batch.cut
    for line_number, message in batch.errors:
        stats.bad_line(line_number, message, path)
    builder.begin_batch(batch)
    for seq, line_number, name, ref in batch.others:
        if name is None:
            event = ref
        else:
            line = ref if fd is None else os.pread(fd, ref[1], ref[0])
            try:
                event = DECODERS[name].decode(line)
            except LINE_ERRORS as err:
                if is_last_file and line[-1:] != b"\n":
                    stats.truncated = True
                else:
                    stats.bad_line(line_number, str(err).splitlines()[0][:160], path)
                continue
        stats.decoded += 1
        builder.handle_at(seq, event)
    builder.end_batch()


def _plain_size(raw: BinaryIO, codec: str | None) -> int | None:
    """The size of an uncompressed file, when the OS knows it: a small log is one block."""
    if codec is not None:
        return None
    try:
        return os.fstat(raw.fileno()).st_size
    except (OSError, AttributeError, ValueError):  # not a plain file (fsspec, zip member)
        return None


def _decompressed(raw: BinaryIO, path: str, codec: str | None) -> Any:
    from connectors.spark_eventlog.codecs import open_decompressed

    return open_decompressed(raw, codec, path)  # plain files too: the line and size limits apply
