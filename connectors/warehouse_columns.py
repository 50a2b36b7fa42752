"""Arrow columns to Python lists to frozen records: the second half of reading warehouse history.

Why a module of its own: once ``warehouse_readers`` has an Arrow table, the BigQuery
and Snowflake normalizers need the same two tools — ``Columns``, typed whole-column
conversions (text, numbers, booleans, epoch ms from any timestamp notation, JSON text,
repeated records) that decode each repeated string once, and ``RecordBuilder`` /
``in_chunks``, which build millions of frozen records fast and in bounded memory.
Neither knows a file format. pyarrow is imported lazily, as in the readers.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import gc
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from connectors.warehouse_files import WarehouseInputError

if TYPE_CHECKING:
    import pyarrow as pa

_T = TypeVar("_T")


def flatten_lower(table: pa.Table) -> pa.Table:
    """Lower-case the column names and flatten nested records to dotted names."""
    import pyarrow as pa

    table = table.rename_columns([n.lower() for n in table.column_names])
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
        table = table.rename_columns([n.lower() for n in table.column_names])
    return table


# --- columns → Python lists -------------------------------------------------------------

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TRUE = ["true", "t", "1", "yes", "y"]
_FALSE = ["false", "f", "0", "no", "n"]
_ITEM_SEP, _ROW_SEP = "\x1e", "\x1f"  # ASCII record/unit separators: never in names or labels


class Columns:
    """Typed columns of one Arrow table, looked up by lower-case (dotted) name.

    Conversions are whole-column Arrow compute calls; only the final ``to_pylist``
    creates Python objects, and repeated strings are decoded once and shared. An
    absent or all-null column reads as all ``default``. Columns in ``json_columns``
    that arrive as JSON text (nested fields of a CSV export) are parsed and flattened
    like native nested columns.
    """

    def __init__(self, table: pa.Table, source: str, json_columns: Iterable[str] = ()) -> None:
        table = flatten_lower(table)
        for name in json_columns:
            table = _expand_json_column(table, name, source)
        self._cols = {n: table.column(i) for i, n in enumerate(table.column_names)}
        self.source = source
        self.num_rows = table.num_rows

    def find(self, *names: str) -> tuple[str, pa.ChunkedArray] | None:
        """The first of ``names`` present with a non-null type, as (name, column)."""
        import pyarrow as pa

        for name in names:
            col = self._cols.get(name)
            if col is not None and not pa.types.is_null(col.type):
                return name, col
        return None

    def _arrow(self, names: tuple[str, ...], convert: Callable, null_type: pa.DataType) -> pa.ChunkedArray:
        import pyarrow as pa

        found = self.find(*names)
        if found is None:
            return pa.chunked_array([pa.nulls(self.num_rows, null_type)])
        col = found[1]
        if pa.types.is_dictionary(col.type):  # Parquet text kept encoded; decode for computing
            col = col.cast(col.type.value_type)
        try:
            return convert(col)
        except (ValueError, TypeError) as exc:  # ArrowInvalid / ArrowNotImplementedError
            raise WarehouseInputError(f"column {found[0]!r}: {exc}", self.source) from None

    def text(self, *names: str) -> pa.ChunkedArray:
        """The column as Arrow strings, '' as null (for vectorized rules such as statuses)."""
        import pyarrow as pa

        return self._arrow(names, _text_or_null, pa.string())

    def strings(self, *names: str, distinct: bool = False, default: str | None = None) -> list[str | None]:
        """Text values, '' as missing; repeated values share one object unless ``distinct`` (ids)."""
        import pyarrow as pa

        if distinct:
            return to_list(self.text(*names), default)
        found = self.find(*names)
        if found is None:
            return [default] * self.num_rows
        col = found[1]
        if not (_is_text(col) or pa.types.is_dictionary(col.type)):
            col = _text(col)
        return interned_strings(col, default)

    def int_array(self, *names: str) -> pa.ChunkedArray:
        """Integers as Arrow int64; text and floats are parsed/rounded (CSV, all-string JSON)."""
        import pyarrow as pa

        return self._arrow(names, _ints, pa.int64())

    def ints(self, *names: str, default: int | None = None) -> list[int | None]:
        """Integers as Python ints; nulls become ``default``."""
        return to_list(self.int_array(*names), default)

    def float_array(self, *names: str) -> pa.ChunkedArray:
        """Floats as Arrow float64, NaN as null."""
        import pyarrow as pa

        return self._arrow(names, _floats, pa.float64())

    def floats(self, *names: str, default: float | None = None) -> list[float | None]:
        """Floats; NaN and nulls become ``default``."""
        return to_list(self.float_array(*names), default)

    def bools(self, *names: str, default: bool | None = None) -> list[bool | None]:
        """Booleans from bool, 0/1 or 'true'/'false' text."""
        import pyarrow as pa

        return to_list(self._arrow(names, _bools, pa.bool_()), default)

    def times_ms(self, *names: str) -> pa.ChunkedArray:
        """Epoch ms (Arrow int64) from timestamps, ISO/Snowsight text, or epoch s/ms/µs/ns numbers."""
        import pyarrow as pa

        return self._arrow(names, _times_ms, pa.int64())

    def record_lists(self, name: str, fields: tuple[str, ...], make: Callable[[list[tuple]], object]) -> list:
        """Per row, ``make(elements)`` of a repeated record column, each element the tuple of
        its ``fields`` (None → ''). Rows with equal lists share one made object.
        """
        found = self.find(name)
        if found is None:
            empty = make([])
            return [empty] * self.num_rows
        try:
            keys = _record_list_keys(found[1], fields)
        except (ValueError, TypeError) as exc:
            raise WarehouseInputError(f"column {name!r}: {exc}", self.source) from None
        return decode_unique(keys, lambda key: make(_split_key(key)), make([]))


def to_list(values: pa.ChunkedArray, default: object = None) -> list:
    """Arrow values as a Python list, nulls replaced by ``default``."""
    import pyarrow.compute as pc

    if default is not None and values.null_count:
        values = pc.fill_null(values, default)
    return values.to_pylist()


def _is_text(col: pa.ChunkedArray) -> bool:
    import pyarrow as pa

    return pa.types.is_string(col.type) or pa.types.is_large_string(col.type)


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return col if _is_text(col) else col.cast(pa.string())


def _text_or_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _text(col)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)


def interned_strings(col: pa.ChunkedArray, default: str | None = None) -> list[str | None]:
    """Decode each distinct value once ('' and null as ``default``): names and query texts repeat."""
    return decode_unique(col, lambda value: value or default, default)


def decode_unique(col: pa.ChunkedArray, make: Callable[[Any], object], null: object) -> list:
    """``make(value)`` once per distinct value of ``col``, shared by the rows that hold it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: list = []
    for chunk in col.chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
        values = [make(v) if v is not None else null for v in encoded.dictionary.to_pylist()] + [null]
        index = pc.fill_null(encoded.indices.cast(pa.int64()), len(values) - 1)  # null → the last slot
        out.extend(map(values.__getitem__, index.to_pylist()))
    return out


def _clean_numeric_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(_text(col))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _as_float(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    if _is_text(col):
        col = _clean_numeric_text(col)
    return col.cast(pa.float64())


def _ints(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(col.type) or pa.types.is_boolean(col.type):
        return col.cast(pa.int64())
    if _is_text(col):
        text = _clean_numeric_text(col)
        try:
            return text.cast(pa.int64())
        except pa.ArrowInvalid:
            col = text
    values = _as_float(col)
    values = pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)
    return pc.round(values).cast(pa.int64())


def _floats(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = _as_float(col)
    return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)


def _bools(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(col.type):
        return col
    if not _is_text(col):
        return pc.not_equal(col.cast(pa.float64()), 0)
    text = pc.utf8_lower(_clean_numeric_text(col))
    truth = pc.if_else(pc.is_in(text, pa.array(_TRUE)), True, None)
    return pc.if_else(pc.is_in(text, pa.array(_FALSE)), False, truth)


def _times_ms(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(col.type):
        return _timestamp_ms(col)
    if pa.types.is_date(col.type):
        return _timestamp_ms(col.cast(pa.timestamp("ms")))
    if not _is_text(col):
        return _epoch_ms(col.cast(pa.float64()))
    text = _clean_numeric_text(col)
    for fast in (_epoch_text_ms, _zoned_text_ms, _naive_text_ms):  # one format for the whole column
        try:
            return fast(text)
        except pa.ArrowInvalid:
            pass
    numeric = pc.match_substring_regex(text, _NUMBER)  # mixed formats: per value
    null = pa.scalar(None, pa.string())
    epoch = _epoch_ms(pc.if_else(numeric, text, null).cast(pa.float64()))
    iso = _timestamp_ms(_iso_utc(pc.if_else(numeric, null, text)).cast(pa.timestamp("ns", "UTC")))
    return pc.coalesce(epoch, iso)


def _epoch_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return _epoch_ms(text.cast(pa.float64()))


def _zoned_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """'... UTC' (BigQuery console), '... -0700' (Snowsight), ISO with Z or offset."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for old, new in ((" UTC", "Z"), (" +", "+"), (" -", "-")):
        text = pc.replace_substring(text, old, new)
    return _timestamp_ms(text.cast(pa.timestamp("ns", "UTC")))


def _naive_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return _timestamp_ms(text.cast(pa.timestamp("ns")))


def _timestamp_ms(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Epoch ms of a timestamp column (integer maths: ns values exceed float precision)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = col.cast(pa.int64())  # the UTC instant in the column's unit, tz-aware or naive
    unit = col.type.unit
    if unit == "s":
        return pc.multiply(raw, 1000)
    return raw if unit == "ms" else pc.divide(raw, 1_000 if unit == "us" else 1_000_000)


def _epoch_ms(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Epoch numbers to ms, the unit told by magnitude: s (bq CLI), ms, µs or ns.

    Rounded to whole µs first, so '1714986000.123' (a float that is really
    ...122.99999) gives ...123 ms, like the same instant written as text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    size = pc.abs(values)
    by_ns = pc.if_else(pc.less(size, 1e17), values, pc.divide(values, 1e3))
    by_ms = pc.if_else(pc.less(size, 1e14), pc.multiply(values, 1e3), by_ns)
    micros = pc.if_else(pc.less(size, 1e11), pc.multiply(values, 1e6), by_ms)
    return pc.floor(pc.divide(pc.round(micros), 1000.0)).cast(pa.int64())


def _iso_utc(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Rewrite timestamp text to ISO 8601 with a zone Arrow can parse.

    Handles '2024-05-01 10:00:00.123 -0700' (Snowsight), '... UTC' (BigQuery console),
    'Z' and '+07:00'; text without a zone is taken as UTC.
    """
    import pyarrow.compute as pc

    text = pc.replace_substring_regex(text, r"\s*(UTC|GMT|Z)$", "Z")
    text = pc.replace_substring_regex(text, r"\s+([+-]\d{2}:?\d{2})$", r"\1")
    zoned = pc.match_substring_regex(text, r"(Z|[+-]\d{2}:?\d{2})$")
    return pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))


def _expand_json_column(table: pa.Table, name: str, source: str) -> pa.Table:
    """Parse a column of JSON text (a nested field in a CSV export) into Arrow values."""
    if name not in table.column_names or not _is_text(table.column(name)):
        return table
    try:
        parsed = _parse_json_text(table.column(name))
    except (ValueError, TypeError) as exc:
        raise WarehouseInputError(f"column {name!r} is not valid JSON: {exc}", source) from None
    table = table.set_column(table.column_names.index(name), name, parsed)
    return flatten_lower(table)


def _parse_json_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Parse JSON cells with Arrow's JSON reader, each distinct text once.

    Nested cells repeat (the same referenced tables, labels, query_info), so the
    distinct texts become lines ``{"v": <cell>}`` of one NDJSON buffer, and the
    parsed values are spread back to the rows with ``take``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    encoded = col.combine_chunks().dictionary_encode()
    if len(encoded.dictionary) == 0:  # every cell null
        return pa.chunked_array([pa.nulls(len(encoded))])
    cells = pc.utf8_trim_whitespace(pc.replace_substring(encoded.dictionary, "\n", " "))
    cells = pc.if_else(pc.equal(cells, ""), "null", cells)
    lines = pc.binary_join_element_wise('{"v":', cells, "}\n", "").cast(pa.large_string())
    everything = pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()), lines)
    body = pc.binary_join(everything, pa.scalar("", pa.large_string()))[0].as_buffer()
    parsed = pj.read_json(pa.BufferReader(body), read_options=pj.ReadOptions(block_size=16 << 20)).column("v")
    return pa.chunked_array([parsed.combine_chunks().take(encoded.indices)])


def _record_list_keys(col: pa.ChunkedArray, fields: tuple[str, ...]) -> pa.ChunkedArray:
    """One key string per row encoding its list of records: fields joined by _ITEM_SEP,
    elements by _ROW_SEP, so equal lists can be dictionary-encoded and decoded once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in col.chunks:
        lengths = pc.fill_null(pc.list_value_length(chunk), 0).cast(pa.int32())
        items = chunk.flatten()
        if not pa.types.is_struct(items.type) or len(chunk) == 0:
            chunks.append(pa.array([""] * len(chunk), pa.string()))
            continue
        names = [items.type.field(i).name.lower() for i in range(items.type.num_fields)]
        blank = pa.array([""] * len(items), pa.string())
        parts = [_field_text(items, names, f) if f in names else blank for f in fields]
        elements = pc.binary_join_element_wise(*parts, _ITEM_SEP)
        offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths)])
        chunks.append(pc.binary_join(pa.ListArray.from_arrays(offsets, elements), _ROW_SEP))
    return pa.chunked_array(chunks, pa.string())


def _field_text(items: pa.StructArray, names: list[str], name: str) -> pa.Array:
    import pyarrow.compute as pc

    return pc.fill_null(_text(items.field(names.index(name))), "")


def _split_key(key: str) -> list[tuple]:
    return [tuple(element.split(_ITEM_SEP)) for element in key.split(_ROW_SEP)] if key else []


# --- building the frozen records ------------------------------------------------------------


class RecordBuilder(Generic[_T]):
    """Build frozen, slotted dataclass instances from column lists.

    Why: a million ``QueryRecord(...)`` calls run a frozen ``__init__``, one
    ``object.__setattr__`` call per field (~35 M calls). Instead the rows are built
    as instances of a mutable twin dataclass (same fields, same slot layout), whose
    ``__init__`` stores slots directly, and then become the frozen class by
    ``__class__`` assignment: identical objects, 2-3x faster. A class the twin cannot
    stand in for (``__post_init__``, another layout) uses its own constructor.
    """

    def __init__(self, cls: type[_T], num_rows: int) -> None:
        self._cls, self._n = cls, num_rows
        self._columns: dict[str, Iterable] = {}

    def set(self, name: str, values: Iterable) -> None:
        """Store one field for every record (a list of num_rows values, or a ``repeat``)."""
        if hasattr(values, "__len__") and len(values) != self._n:  # type: ignore[arg-type]
            raise ValueError(f"{self._cls.__name__}.{name}: {len(values)} values for {self._n} rows")  # type: ignore
        self._columns[name] = values

    def build(self) -> tuple[_T, ...]:
        """The records; fields without a column take their default (a shared ``{}`` for dicts)."""
        columns = [self._column(f) for f in dataclasses.fields(self._cls)]  # type: ignore[arg-type]
        self._columns.clear()
        if self._n == 0:
            return ()
        twin = _mutable_twin(self._cls)  # type: ignore[arg-type]
        with paused_gc():
            if twin is None:
                return tuple(map(self._cls, *columns))
            rows = list(map(twin, *columns))
            del columns
            become = itertools.repeat(self._cls)
            collections.deque(map(_SET_CLASS, rows, itertools.repeat("__class__"), become), maxlen=0)
            return tuple(rows)  # type: ignore[arg-type]

    def _column(self, f: dataclasses.Field) -> Iterable:
        if f.name in self._columns:
            return self._columns[f.name]
        if f.default is not dataclasses.MISSING:
            return itertools.repeat(f.default)
        if f.default_factory is dict:  # type: ignore[comparison-overlap]
            return itertools.repeat(EMPTY_MAPPING)
        raise TypeError(f"no column for required field {self._cls.__name__}.{f.name}")


_SET_CLASS = object.__setattr__


def time_span(*groups: Iterable[Any]) -> tuple[int | None, int | None]:
    """(earliest start_time_ms, latest end or start time_ms) over groups of records, in C loops."""
    known = functools.partial(operator.is_not, None)
    starts = [v for g in groups for v in filter(known, map(operator.attrgetter("start_time_ms"), g))]
    ends = [v for g in groups for v in filter(known, map(operator.attrgetter("end_time_ms"), g))]
    return min(starts, default=None), max(ends + starts, default=None)


@functools.cache
def _mutable_twin(cls: type) -> type | None:
    """A non-frozen slotted copy of ``cls`` whose instances may become ``cls``; None if impossible."""
    if hasattr(cls, "__post_init__") or "__slots__" not in vars(cls):
        return None
    fields = [(f.name, f.type) for f in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(f"_Mutable{cls.__name__}", fields, slots=True, eq=False)
    probe = twin(*([None] * len(fields)))
    try:
        _SET_CLASS(probe, "__class__", cls)  # same slots in the same order: layouts match
    except TypeError:
        return None
    return twin


CHUNK_ROWS = 1 << 17
_Normalizer = Callable[["pa.Table", str], tuple[_T, ...]]


def in_chunks(normalize: _Normalizer) -> _Normalizer:
    """Run a table normalizer over slices of CHUNK_ROWS rows, with the GC paused.

    Why: converted column lists exist only for one slice at a time, so memory holds
    the records plus one slice (not a second full copy of every column), while each
    slice is still large enough for Arrow's vectorized conversions.
    """

    @functools.wraps(normalize)
    def run(table: pa.Table, source: str) -> tuple[_T, ...]:
        with paused_gc():
            if table.num_rows <= CHUNK_ROWS:
                return normalize(table, source)
            out: list[_T] = []
            for offset in range(0, table.num_rows, CHUNK_ROWS):
                out.extend(normalize(table.slice(offset, CHUNK_ROWS), source))
            return tuple(out)

    return run


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while allocating millions of containers.

    Each batch of new tuples, dicts and records would trigger collections that walk
    the whole (growing) heap: seconds per million rows for nothing, as none of these
    objects form cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: The labels of a record without labels; shared, so treat record mappings as read-only.
EMPTY_MAPPING: dict[str, str] = {}
