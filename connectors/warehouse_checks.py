"""Checks that keep a warehouse export from hanging, exhausting memory or pricing nonsense.

Why a module of its own: these are the input-validation half of reading an export —
only regular files (a FIFO as ``--query-history-file`` would block forever), a maximum
row size (Arrow otherwise fails with "straddling object … increase block size?" after
holding the row, or the reader holds a 1 GB line), and numbers that cannot be true
(negative or infinite credits, bytes or milliseconds), which would become null or
negative dollars. Rows with impossible numbers are **skipped and counted**: the rest of
the history is still worth analysing, and the count is reported as an input error.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from connectors.limits import MAX_LINE_ENV, MAX_LOG_ENV, current_limits, describe
from connectors.warehouse_files import WarehouseInputError

if TYPE_CHECKING:
    import pyarrow as pa

ROW_BLOCK = 16 << 20  # Arrow's read block: no row may be larger (Arrow: "straddling object")
_INT_MAX = float(2**63 - 2**10)  # an "int" column above this cannot be stored as int64


def check_regular_file(path: str, max_bytes: int) -> None:
    """Raise unless ``path`` is an existing regular file of at most ``max_bytes``."""
    try:
        info = os.stat(path)
        mode = info.st_mode
    except FileNotFoundError:
        raise WarehouseInputError("file not found", path) from None
    except OSError as err:
        raise WarehouseInputError(f"cannot open: {err.strerror}", path) from None
    if stat.S_ISDIR(mode):
        raise WarehouseInputError("is a directory, expected an export file", path)
    if not stat.S_ISREG(mode):
        raise WarehouseInputError("not a regular file (a FIFO, socket or device): save the export to a "
                                  "file first", path)
    if info.st_size > max_bytes:
        raise _too_large(max_bytes, path)


def _too_large(limit: int, path: str) -> WarehouseInputError:
    return WarehouseInputError(f"larger than the limit of {describe(limit)} (set {MAX_LOG_ENV} to raise it)",
                               path)


class CappedStream:
    """A decompressing stream that fails once more than ``limit`` bytes came out of it."""

    def __init__(self, inner: Any, path: str, limit: int) -> None:
        self._inner, self._path, self._limit, self._total = inner, path, limit, 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all with -1, in pieces so the limit applies before memory runs out)."""
        if size is None or size < 0:
            parts = []
            while chunk := self.read(16 << 20):
                parts.append(chunk)
            return b"".join(parts)
        data = self._inner.read(size)
        self._total += len(data)
        if self._total > self._limit:
            raise _too_large(self._limit, self._path)
        return bytes(data)

    def readable(self) -> bool:
        """A read-only stream."""
        return True

    def seekable(self) -> bool:
        """Decompression runs forward only."""
        return False

    def tell(self) -> int:
        """Bytes read so far."""
        return self._total

    def close(self) -> None:
        """Close the stream below."""
        self._inner.close()
        self.closed = True

    def __enter__(self) -> CappedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_file(path: str) -> Path:
    """``path`` as a ``Path`` once it is a regular, non-empty file within the size limit."""
    check_regular_file(path, current_limits().max_log_bytes)
    file = Path(path)
    with open_export(file) as stream:
        head = stream.read(4096)
    if not head.strip():
        raise WarehouseInputError("file is empty", path)
    return file


def open_export(file: Path) -> BinaryIO:
    """Open a file, decompressing ``.gz``/``.bz2``/``.zst`` transparently (via pyarrow).

    A compressed file's inflated bytes are counted against the log-size limit (a gzip bomb
    would otherwise become an unbounded table); a plain file's size is checked up front.
    """
    import pyarrow as pa

    stream = pa.input_stream(str(file), compression="detect")
    if base_suffix(file) == file.suffix.lower():
        return stream  # type: ignore[return-value]
    return CappedStream(stream, str(file), current_limits().max_log_bytes)  # type: ignore[return-value]


def base_suffix(file: Path) -> str:
    """The format suffix under a compression suffix (``q.csv.gz`` -> ``.csv``)."""
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".zst", ".lz4"}:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def row_limit() -> int:
    """The largest row a JSON export may hold: the line limit in force, at most Arrow's block."""
    return min(current_limits().max_line_bytes, ROW_BLOCK)


def row_too_large(limit: int, path: str) -> WarehouseInputError:
    """The error for a row over ``limit`` bytes."""
    return WarehouseInputError(f"a row is larger than {describe(limit)}, the most one row may hold "
                               f"(at most 16 MiB; {MAX_LINE_ENV} lowers it)", path)


def parse_problem(fmt: str, exc: BaseException) -> str:
    """The one line for a parse failure; Arrow's and zlib's wording is translated where it misleads."""
    text = " ".join(str(exc).split())
    if "straddling" in text or "straddles" in text:
        return f"cannot parse as {fmt}: a row is larger than {describe(ROW_BLOCK)}, the most one row may hold"
    lower = text.lower()
    if any(word in lower for word in ("inflate", "gzip", "decompress", "bz2", "zstd", "lz4", "snappy")):
        return f"cannot decompress: {text or type(exc).__name__}"
    return f"cannot parse as {fmt}: {text or type(exc).__name__}"


def drop_impossible(table: pa.Table, numeric: Mapping[str, str], notes: list[str] | None) -> pa.Table:
    """``table`` without rows whose ``numeric`` columns are negative, infinite or beyond int64.

    All those columns are amounts (credits, bytes, rows, milliseconds). NaN and null stay:
    they mean "not reported". One line per call goes to ``notes`` when rows were dropped.
    """
    import pyarrow.compute as pc

    bad, columns = None, []
    for name, kind in numeric.items():
        if name in table.column_names and _plausible(table.column(name), kind):
            continue
        values = _as_numbers(table, name)
        if values is None:
            continue
        mask = pc.or_(pc.less(values, 0), pc.is_inf(values))
        if kind == "int":
            mask = pc.or_(mask, pc.greater(pc.abs(values), _INT_MAX))
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            columns.append(name)
            bad = mask if bad is None else pc.or_(bad, mask)
    if bad is None:
        return table
    count = pc.sum(bad).as_py()
    if notes is not None:
        notes.append(f"skipped {count} row(s) with impossible numbers (negative, infinite or too large) "
                     f"in {', '.join(columns)}")
    return table.filter(pc.invert(bad))


def drop_missing_ids(table: pa.Table, ids: tuple[str, ...], notes: list[str] | None) -> pa.Table:
    """``table`` without rows whose id column (``query_id``, ``job_id``) is null or empty text.

    The views always fill it; a row without one cannot be told apart or shown as evidence.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in ids:
        if name not in table.column_names:
            continue
        column = table.column(name)
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if not (text or pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            column = column.cast(pa.string())  # numbers as ids: their text is never empty
        lengths = pc.binary_length(column)
        if lengths.null_count == 0 and (pc.min(lengths).as_py() or 0) > 0:
            continue  # the usual case, decided without a per-row mask
        missing = pc.fill_null(pc.equal(lengths, 0), True)
        count = pc.sum(missing).as_py() or 0
        if count:
            if notes is not None:
                notes.append(f"skipped {count} row(s) without {name}")
            table = table.filter(pc.invert(missing))
    return table


def _plausible(values: pa.ChunkedArray, kind: str) -> bool:
    """True when a numeric column's minimum and maximum alone clear every row: the usual
    case, decided without a cast or a per-row mask (text columns always take the long way)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return False
    bounds = pc.min_max(values).as_py()
    low, high = bounds["min"], bounds["max"]
    if low is None:
        return True  # all null or NaN: "not reported"
    return bool(low >= 0 and high < (_INT_MAX if kind == "int" else math.inf))


def _as_numbers(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """The column as float64; None when absent or not numbers (then the converters decide)."""
    import pyarrow as pa

    from connectors.warehouse_convert import _as_float

    if name not in table.column_names:
        return None
    col = table.column(name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_string(col.type)
            or pa.types.is_large_string(col.type)):
        return None
    try:
        return _as_float(col)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


@contextlib.contextmanager
def converting(path: str) -> Iterator[None]:
    """Column conversion failures on a file's odd types or values become one line naming the file.

    A Parquet column of the wrong type (numbers where a list is expected) or a value no
    converter anticipated is bad input, not a bug of the analysis: the file is named and
    the problem stated, instead of an internal error.
    """
    import pyarrow as pa

    try:
        yield
    except WarehouseInputError:
        raise
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as err:
        text = " ".join(str(err).split())[:200]
        raise WarehouseInputError(f"unexpected column types or values: {type(err).__name__}: {text}",
                                  path) from None
