"""Size limits on every input deanalyze reads, so hostile or broken input cannot exhaust memory.

Why limits at all: a 131 KB zstd file can inflate to gigabytes, a sparse zip member to
10 GB of zeros without a newline, ``/dev/zero`` never ends. Streaming alone does not help
when one *line* (or one warehouse row) is the unit that must be held whole, so both a line
and a whole log have a maximum. The defaults are far above anything real: real SQL-plan
events run to tens of MB, so a line may hold 256 MiB and a log 64 GiB.

Configure with environment variables (read when a limit is needed, so ``--jobs`` workers
see them too) or, in the library, with :func:`use_limits` around a call::

    DEANALYZE_MAX_LINE_BYTES=1m deanalyze spark-logs logs/
    with use_limits(ReadLimits(max_line_bytes=1 << 20)): analyze_spark_logs(["logs/"])

``analyze_spark_logs(..., limits=...)`` does the same for one call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.units import parse_size

MAX_LINE_ENV = "DEANALYZE_MAX_LINE_BYTES"
MAX_LOG_ENV = "DEANALYZE_MAX_LOG_BYTES"
DEFAULT_MAX_LINE_BYTES = 256 << 20
DEFAULT_MAX_LOG_BYTES = 64 << 30


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """The largest line (event, warehouse row) and the largest decompressed log or export file."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES

    def __post_init__(self) -> None:
        if self.max_line_bytes < 1 or self.max_log_bytes < 1:
            raise ValueError("read limits must be positive byte counts")


_override: ReadLimits | None = None


def current_limits() -> ReadLimits:
    """The limits in force: those of :func:`use_limits`, else the environment, else the defaults."""
    if _override is not None:
        return _override
    return ReadLimits(
        max_line_bytes=_env_bytes(MAX_LINE_ENV, DEFAULT_MAX_LINE_BYTES),
        max_log_bytes=_env_bytes(MAX_LOG_ENV, DEFAULT_MAX_LOG_BYTES),
    )


@contextlib.contextmanager
def use_limits(limits: ReadLimits | None) -> Iterator[ReadLimits]:
    """Apply ``limits`` (None: keep the current ones) for the duration of a ``with`` block.

    Worker processes forked inside the block inherit them; the previous limits come back after.
    """
    global _override
    previous = _override
    _override = limits if limits is not None else previous
    try:
        yield current_limits()
    finally:
        _override = previous


def _env_bytes(name: str, default: int) -> int:
    """A positive byte count from the environment (``268435456``, ``256m``, ``64g``).

    An unusable value keeps the default rather than failing every read: the defaults are
    the safe side, and the README says which spellings count.
    """
    value = parse_size(os.environ.get(name, "").strip())
    return value if value is not None and value > 0 else default


def describe(limit: int) -> str:
    """A limit for an error message: exact bytes, and MiB/GiB when round."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"
