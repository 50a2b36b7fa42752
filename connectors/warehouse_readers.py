"""Reading warehouse export files (CSV, JSON array, NDJSON, Parquet; .gz/.bz2/.zst) into one Arrow table.

Why Arrow: a history export can hold millions of rows. pyarrow parses every format in
C++ and hands whole columns over at once; ``warehouse_columns.Columns`` then turns the
columns into the Python lists the frozen model is built from, never row-by-row dicts.
pyarrow is imported lazily so that ``import connectors.bigquery`` stays cheap.

Why a module of its own: this is the file-format half of the warehouse connectors
(detecting the format, decompressing, parsing in bounded pieces); the table's columns are
then converted (``warehouse_columns``, ``warehouse_convert``) and built into records
(``warehouse_records``); the error type lives in ``warehouse_files``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import mmap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.warehouse_checks import (
    ROW_BLOCK,
    base_suffix,
    check_file,
    converting,
    drop_impossible,
    drop_missing_ids,
    open_export,
    parse_problem,
    row_limit,
    row_too_large,
)
from connectors.warehouse_columns import flatten_lower
from connectors.warehouse_convert import _is_text
from connectors.warehouse_files import WarehouseInputError

if TYPE_CHECKING:
    import pyarrow as pa

_CSV_NULLS = ["", "NULL", "null", "\\N"]
_PARQUET_SUFFIXES = {".parquet", ".pq"}


def read_export(
    path: str, wanted: Iterable[str], required: Iterable[str], numeric: Mapping[str, str] | None = None,
    *, notes: list[str] | None = None, ids: tuple[str, ...] = (),
) -> pa.Table:
    """Read an export file into an Arrow table of the ``wanted`` columns.

    Column names are matched case-insensitively and returned lower-case; nested records
    are flattened to dotted names (``query_info.query_hashes.normalized_literals``);
    unknown columns are dropped. ``numeric`` ({column: "int" | "float"}) lets a CSV
    parse those columns as numbers directly. Raises ``WarehouseInputError`` naming the
    file when it is missing, not a regular file, empty, unparsable (including corrupt
    compression, nesting too deep and a row over the size limit), has no rows, or lacks a
    ``required`` column. Rows whose ``numeric`` columns hold impossible values (negative or
    infinite) or whose ``ids`` are empty are dropped; one line saying how many goes to ``notes``.
    """
    import pyarrow as pa

    wanted_set = {w.lower() for w in wanted}
    fmt = "export"
    try:
        file = check_file(path)
        fmt = _detect_format(file)
        if fmt == "csv":
            table = _read_csv(file, wanted_set, numeric or {})
        else:
            table = _READERS[fmt](file, wanted_set)
    except WarehouseInputError:
        raise
    except RecursionError:
        raise WarehouseInputError(f"cannot parse as {fmt}: nested too deeply", path) from None
    except (OSError, ValueError, UnicodeDecodeError, EOFError, pa.ArrowException) as exc:
        raise WarehouseInputError(parse_problem(fmt, exc), path) from None
    if table.num_rows == 0:
        raise WarehouseInputError(f"contains no rows ({fmt})", path)
    dropped: list[str] = []
    with converting(path):
        table = flatten_lower(table)
        _check_required(table, required, path)
        table = drop_missing_ids(drop_impossible(table, numeric or {}, dropped), ids, dropped)
    if table.num_rows == 0:
        raise WarehouseInputError(f"no usable rows: {'; '.join(dropped)}", path)
    if notes is not None:
        notes += dropped
    return table


def _detect_format(file: Path) -> str:
    """Name the format from the extension, confirmed (or found) by the first bytes."""
    suffix = base_suffix(file)
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    with open(file, "rb") as raw:
        if raw.read(4) == b"PAR1":
            return "parquet"
    with open_export(file) as stream:
        first = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if suffix == ".csv" or suffix == ".tsv":
        return "csv"
    if first == b"[":
        return "json array"
    if first == b"{":
        return "ndjson"
    return "csv"


def _read_csv(file: Path, wanted: set[str], numeric: Mapping[str, str]) -> pa.Table:
    """CSV as Snowsight or the BigQuery console writes it; multi-line query texts allowed.

    Columns are read as text (keeping leading zeros such as Snowflake error_code
    000604, leaving formats to the column converters) except the ``numeric`` ones,
    parsed as numbers straight away; if one of those holds something else, the file
    is read again all as text.
    """
    import pyarrow as pa

    header = _csv_header(file)
    keep = [name for name in header if _is_wanted(name, wanted)]
    kinds = {"int": pa.int64(), "float": pa.float64()}
    types = {name: kinds.get(numeric.get(name.lower(), ""), pa.string()) for name in keep}
    try:
        return _parse_csv(file, keep, types)
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc).lower():
            raise
        return _parse_csv(file, keep, dict.fromkeys(keep, pa.string()))


def _parse_csv(file: Path, keep: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    import pyarrow.csv as pcsv

    delimiter = "\t" if base_suffix(file) == ".tsv" else ","
    return pcsv.read_csv(
        open_export(file),
        read_options=pcsv.ReadOptions(block_size=ROW_BLOCK),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            include_columns=keep,
            column_types=types,
            null_values=_CSV_NULLS,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _csv_header(file: Path) -> list[str]:
    """The header row, read from at most the first MiB: a header line is never longer."""
    with open_export(file) as stream:
        head = stream.read(_HEADER_BYTES)
    lines = io.StringIO(head.decode("utf-8-sig", errors="replace"), newline="")
    delimiter = "\t" if base_suffix(file) == ".tsv" else ","
    try:
        header = next(csv.reader(lines, delimiter=delimiter), [])
    except csv.Error as err:
        raise WarehouseInputError(f"cannot parse as csv: header: {err}", str(file)) from None
    if len(head) == _HEADER_BYTES and lines.tell() >= len(lines.getvalue()):
        raise WarehouseInputError("cannot parse as csv: the header line is longer than 1 MiB", str(file))
    return header


def _is_wanted(name: str, wanted: set[str]) -> bool:
    lower = name.lower()
    return lower in wanted or lower.split(".", 1)[0] in wanted


_PIECE_BYTES = 64 << 20
_HEADER_BYTES = 1 << 20


def _read_ndjson(file: Path, wanted: set[str]) -> pa.Table:
    """Newline-delimited JSON, parsed by Arrow in pieces of whole lines.

    Pieces bound the memory (Arrow's reader would hold the whole file besides the
    table) and each piece infers its own types, so a column that is null for the
    first hundred thousand rows still gets its type later. Pretty-printed objects
    spanning lines are read whole instead.
    """
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        return _json_pieces(_line_pieces(file), wanted)
    except pa.ArrowInvalid:
        table = pj.read_json(
            open_export(file),
            read_options=pj.ReadOptions(block_size=ROW_BLOCK),
            parse_options=pj.ParseOptions(newlines_in_values=True),
        )
        return _select(table, wanted)


def _line_pieces(file: Path) -> Iterator[bytes]:
    """Pieces of whole lines; a line longer than the row limit is an error, never held whole."""
    limit = row_limit()
    with open_export(file) as stream:
        carry = b""
        while block := stream.read(_PIECE_BYTES):
            block = carry + block
            cut = block.rfind(b"\n") + 1
            carry = block[cut:]
            if len(carry) > limit:
                raise row_too_large(limit, str(file))
            if cut:
                yield block[:cut]
        if carry.strip():
            yield carry + b"\n"


def _json_pieces(pieces: Iterable[bytes], wanted: set[str]) -> pa.Table:
    """Parse NDJSON pieces with Arrow, keep the wanted columns, unify the pieces' types."""
    import pyarrow as pa
    import pyarrow.json as pj

    tables = []
    for piece in pieces:
        table = pj.read_json(pa.BufferReader(piece), read_options=pj.ReadOptions(block_size=ROW_BLOCK))
        tables.append(_select(table, wanted))
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def _read_json_array(file: Path, wanted: set[str]) -> pa.Table:
    """A JSON array (``bq --format=json``, SnowSQL), parsed by Arrow as NDJSON pieces.

    msgspec finds the elements' boundaries (validating the JSON without creating
    Python objects per field); the elements become NDJSON lines (raw newlines are
    whitespace in JSON, so a pretty-printed element fits on one line). The file is
    memory-mapped and its pages are released piece by piece.
    """
    import msgspec
    import pyarrow as pa

    data = _map_file(file)
    try:
        rows = msgspec.json.decode(data, type=list[msgspec.Raw])
    except msgspec.ValidationError:
        raise WarehouseInputError("the JSON document is not an array of rows", str(file)) from None
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    limit = row_limit()
    try:
        if any(len(row) > limit for row in rows):
            raise row_too_large(limit, str(file))
        return _json_pieces(_raw_pieces(rows, data), wanted) if rows else pa.table({})
    finally:
        del rows  # the elements are views into the map: release them before closing it
        if isinstance(data, mmap.mmap):
            with contextlib.suppress(BufferError):  # still viewed (an error's traceback): GC closes it
                data.close()


def _map_file(file: Path) -> Any:
    """The file's bytes: a read-only memory map, or the inflated bytes of a compressed file."""
    if base_suffix(file) != file.suffix.lower():
        with open_export(file) as compressed:
            return compressed.read()
    with open(file, "rb") as raw:
        return mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)


def _raw_pieces(rows: list, data: Any, batch: int = 50_000) -> Iterator[bytes]:
    for start in range(0, len(rows), batch):
        lines = b"\x00".join(rows[start : start + batch]) + b"\x00"  # NUL never occurs raw in JSON
        if b"\n" in lines:
            lines = lines.replace(b"\n", b" ")
        if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            data.madvise(mmap.MADV_DONTNEED)  # drop the pages read so far (they stay in the page cache)
        yield lines.replace(b"\x00", b"\n")


def _read_parquet(file: Path, wanted: set[str]) -> pa.Table:
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    names = [n for n in schema.names if _is_wanted(n, wanted)]
    # Text columns stay dictionary-encoded as Parquet stores them: decoded once per distinct value.
    text = [n for n in names if _is_text(schema.field(n))]
    return pq.read_table(file, columns=names, read_dictionary=text)


def _select(table: pa.Table, wanted: set[str]) -> pa.Table:
    return table.select([n for n in table.column_names if _is_wanted(n, wanted)])


_READERS = {
    "ndjson": _read_ndjson,
    "json array": _read_json_array,
    "parquet": _read_parquet,
}


def _check_required(table: pa.Table, required: Iterable[str], path: str) -> None:
    present = {n.split(".", 1)[0] for n in table.column_names} | set(table.column_names)
    missing = [r for r in required if r.lower() not in present]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        plural = "s" if len(missing) > 1 else ""
        raise WarehouseInputError(f"missing required column{plural} {names}", path)

