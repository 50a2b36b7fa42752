"""Lines out of a byte stream with a maximum line length and a maximum total size.

Why a layer of its own: the reader iterates lines with ``io.BufferedReader`` at C speed,
and that reader holds a whole line in memory before handing it over. A log with no
newline (``/dev/zero``, a sparse zip member, a hostile zstd frame) would be held whole.
:class:`FramedRaw` sits under the ``BufferedReader`` and enforces
:class:`~connectors.limits.ReadLimits` as bytes pass:

- a line longer than ``max_line_bytes`` is cut there and ended with a newline, and the
  rest of it is dropped as it streams by; the cut line is no valid JSON, so the reader
  counts it as a malformed line and skips it (``long_lines`` counts them);
- more than ``max_log_bytes`` in total is one ``EventLogError``.

It also turns whatever the stream below raises while reading (a zip member's bad CRC, an
encrypted member, a network error mid-object) into one ``EventLogError`` line naming the
file. The common case costs one small tail search per megabyte: only when a line nears
the limit is a chunk split line by line.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from connectors.limits import MAX_LOG_ENV, ReadLimits, describe
from connectors.spark_eventlog.errors import EventLogError

_TAIL = 4096  # first window searched for the last newline of a chunk; grows 16x when empty


class FramedRaw(io.RawIOBase):
    """Raw stream over ``inner`` that caps line length and total size (see the module doc)."""

    def __init__(self, inner: Any, source: str, limits: ReadLimits) -> None:
        super().__init__()
        self._inner = inner
        self._source = source
        self._max_line = limits.max_line_bytes
        self._max_total = limits.max_log_bytes
        self._line = 0  # bytes of the current, unfinished line handed out so far
        self._skipping = False  # inside an over-long line: drop bytes up to its newline
        self.total = 0
        self.long_lines = 0

    @property
    def truncated(self) -> bool:
        """The decoder's flag: input ended inside a compressed frame or block."""
        return bool(getattr(self._inner, "truncated", False))

    def readable(self) -> bool:
        """Always readable; never writable or seekable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the stream below, enforcing the limits; 0 only at the end."""
        while True:
            n = self._read_inner(buffer)
            if n == 0:
                return 0
            self.total += n
            if self.total > self._max_total:
                raise EventLogError(
                    f"larger than the limit of {describe(self._max_total)} per log once decompressed "
                    f"(set {MAX_LOG_ENV} to raise it)", self._source)
            if not self._skipping and self._line + n <= self._max_line:
                self._track(memoryview(buffer).cast("B")[:n])
                return n
            kept = self._frame(memoryview(buffer).cast("B"), n)
            if kept:
                return kept

    def _read_inner(self, buffer: Any) -> int:
        try:
            readinto = getattr(self._inner, "readinto", None)
            if readinto is not None:
                return readinto(buffer) or 0
            data = self._inner.read(len(buffer))
            memoryview(buffer).cast("B")[: len(data)] = data
            return len(data)
        except (EventLogError, MemoryError):
            raise
        except Exception as err:  # whatever the layer below raises is bad input, named here
            raise EventLogError(f"cannot read: {_reason(err)}", self._source) from None

    def _track(self, view: memoryview) -> None:
        """Length of the unfinished line after ``view``: search the chunk's tail for a newline."""
        n, window = len(view), _TAIL
        while True:
            start = max(0, n - window)
            pos = bytes(view[start:n]).rfind(b"\n")
            if pos >= 0:
                self._line = n - start - pos - 1
                return
            if start == 0:
                self._line += n
                return
            window *= 16

    def _frame(self, view: memoryview, n: int) -> int:
        """Copy the chunk back into ``view`` line by line, cutting over-long lines; bytes kept.

        Output never outgrows input: a cut line loses at least one byte and gains one newline.
        """
        data, out, pos = bytes(view[:n]), bytearray(), 0
        while pos < n:
            newline = data.find(b"\n", pos)
            end = newline + 1 if newline >= 0 else n
            if self._skipping:
                self._skipping = newline < 0
                pos = end
                continue
            length = self._line + (newline if newline >= 0 else n) - pos
            if length > self._max_line:
                keep = self._max_line - self._line
                out += data[pos:pos + keep] + b"\n"
                self.long_lines += 1
                self._line, self._skipping, pos = 0, True, pos + keep
                continue
            out += data[pos:end]
            self._line = 0 if newline >= 0 else self._line + end - pos
            pos = end
        view[: len(out)] = out
        return len(out)

    def close(self) -> None:
        """Closing the framed view closes the stream below."""
        if not self.closed:
            self._inner.close()
        super().close()


def _reason(err: Exception) -> str:
    """One line for a read failure; zip archives' own wording names the member problem."""
    text = " ".join(str(err).split())[:200]
    if isinstance(err, zipfile.BadZipFile):
        return f"corrupt zip member: {text}"
    if isinstance(err, NotImplementedError):
        return f"unsupported zip member: {text}"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__

