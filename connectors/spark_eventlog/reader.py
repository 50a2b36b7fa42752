"""Read one application's event log into the domain model, fast and forgivingly.

Each line's event type is read from its first bytes (Spark always writes ``"Event"``
first), so event types deanalyze does not need are skipped without being decoded, and
the ones it needs are decoded by msgspec into structs that skip unneeded fields.

Like the History Server, a cut-off last line is expected in a log that may still be
written; unlike it, a malformed line elsewhere is counted and skipped instead of failing
the whole log, and the integrity facts say so.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec

from analyzer.core.model import Application
from connectors.spark_eventlog.builder import AppBuilder
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.events import DECODERS
from connectors.spark_eventlog.storage import storage_for

_PREFIX = b'{"Event":"'
_PREFIX_LEN = len(_PREFIX)
_BUFFER = 1 << 20


class _ReplayStats:
    """Per-log counters that end up in ``LogIntegrity``."""

    __slots__ = ("lines", "unparsed", "first_error", "truncated", "recognized")

    def __init__(self) -> None:
        self.lines = 0
        self.unparsed = 0
        self.first_error: str | None = None
        self.truncated = False
        self.recognized = 0


def read_application(source: LogSource) -> Application:
    """Replay every file of ``source`` in order; raise ``EventLogError`` if it is unusable."""
    builder = AppBuilder(source.display)
    builder.spark_version = source.spark_version_hint
    stats = _ReplayStats()
    storage = storage_for(source.files[0])
    with _no_cyclic_gc():
        for index, path in enumerate(source.files):
            is_last = index == len(source.files) - 1
            with storage.open(path) as raw:
                stream = _decompressed(raw, path, source.legacy_codec)
                _replay(stream, builder, stats, path, is_last_file=is_last)
                if getattr(stream, "truncated", False):
                    stats.truncated = True
    builder.events_read = stats.recognized
    if stats.recognized == 0:
        if stats.truncated:
            what = "cut off before its first complete event (truncated compressed stream or line)"
        elif stats.lines == 0:
            what = "empty file"
        else:
            what = "not a Spark event log (no listener events found)"
        raise EventLogError(what, source.display)
    return builder.build(
        complete_hint=source.complete_hint, truncated=stats.truncated,
        unparsed=stats.unparsed, first_error=stats.first_error, files_read=len(source.files),
    )


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Replay builds millions of small acyclic objects; the cyclic collector only slows it down."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decompressed(raw: BinaryIO, path: str, legacy_codec: str | None) -> Iterable[bytes]:
    from connectors.spark_eventlog.codecs import codec_from_filename, open_decompressed

    codec = legacy_codec or codec_from_filename(path.rsplit("/", 1)[-1])
    return open_decompressed(raw, codec, path)  # plain files too: the line and size limits apply


def _replay(lines: Iterable[bytes], builder: AppBuilder, stats: _ReplayStats, path: str,
            *, is_last_file: bool) -> None:
    """The hot loop: dispatch each line to its decoder, or skip it."""
    get = {name: (d.decode, builder.handler_for(d)) for name, d in DECODERS.items()}.get
    count = recognized = 0
    for line in lines:
        count += 1
        if line.startswith(_PREFIX):
            recognized += 1
            entry = get(line[_PREFIX_LEN:line.find(b'"', _PREFIX_LEN)])
            if entry is None:
                continue
            try:
                event = entry[0](line)
            except msgspec.MsgspecError as err:
                _bad_line(line, err, stats, path, is_last_file, count)
                continue
            entry[1](event)
        elif line.strip():
            recognized += _odd_line(line, builder, stats, path, is_last_file, count)
        if not recognized and count > 20:
            raise EventLogError("not a Spark event log (no listener events in its first lines)", path)
    stats.lines += count
    stats.recognized += recognized


def _odd_line(line: bytes, builder: AppBuilder, stats: _ReplayStats, path: str,
              is_last_file: bool, line_number: int) -> int:
    """A line that does not start with ``{"Event":"``: other key order, or junk. 1 if an event."""
    try:
        obj = msgspec.json.decode(line)
    except msgspec.MsgspecError as err:
        _bad_line(line, err, stats, path, is_last_file, line_number)
        return 0
    name = obj.get("Event") if isinstance(obj, dict) else None
    if not isinstance(name, str):
        _bad_line(line, ValueError("not a listener event"), stats, path, is_last_file, line_number)
        return 0
    decoder = DECODERS.get(name.encode())
    if decoder is not None:
        try:
            builder.handle(decoder.decode(line))
        except msgspec.MsgspecError as err:
            _bad_line(line, err, stats, path, is_last_file, line_number)
    return 1


def _bad_line(line: bytes, err: Exception, stats: _ReplayStats, path: str, is_last_file: bool,
              line_number: int) -> None:
    """Count a line that could not be decoded; a cut-off final line means a truncated tail."""
    if is_last_file and not line.endswith(b"\n"):
        stats.truncated = True
        return
    stats.unparsed += 1
    if stats.first_error is None:
        stats.first_error = f"{path}: line {stats.lines + line_number}: {str(err).splitlines()[0][:160]}"
