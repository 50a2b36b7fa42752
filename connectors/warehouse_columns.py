"""Arrow columns to Python lists: the second half of reading warehouse history.

Why a module of its own: once ``warehouse_readers`` has an Arrow table, the BigQuery
and Snowflake normalizers need ``Columns``, typed whole-column conversions (text,
numbers, booleans, epoch ms from any timestamp notation, JSON text, repeated records)
that decode each repeated string once. The conversions themselves live in
``warehouse_convert``; building the frozen records from the lists lives in
``warehouse_records``. Neither knows a file format. pyarrow is imported lazily, as in
the readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from connectors.warehouse_convert import (
    _bools,
    _floats,
    _ints,
    _is_text,
    _parse_json_text,
    _text,
    _text_or_null,
    _times_ms,
)
from connectors.warehouse_files import WarehouseInputError

if TYPE_CHECKING:
    import pyarrow as pa

#: A column as Python values: a list, or an object array of shared values.
Values = list[Any] | np.ndarray


def flatten_lower(table: pa.Table) -> pa.Table:
    """Lower-case the column names and flatten nested records to dotted names."""
    import pyarrow as pa

    table = table.rename_columns([n.lower() for n in table.column_names])
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
        table = table.rename_columns([n.lower() for n in table.column_names])
    return table


# --- columns → Python lists -------------------------------------------------------------

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

    def strings(self, *names: str, distinct: bool = False, default: str | None = None) -> Values:
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

    # --- whole columns for ``analyzer.core.query_table.QueryTable`` ---------------------------

    def numbers(self, *names: str) -> np.ndarray:
        """Integers (parsed like ``int_array``) as float64, NaN where not reported."""
        return arrow_numbers(self.int_array(*names))

    def categories(self, *names: str) -> pd.Categorical:
        """Text as a pandas categorical, '' and null as NaN: each distinct value decoded once."""
        return arrow_categories(self.text(*names))

    def ids(self, *names: str) -> pd.Series:
        """Distinct text values (ids), None for missing, kept as Arrow strings (no object per row)."""
        import pyarrow as pa

        ids = self.text(*names)
        one_chunk = pa.chunked_array([ids.combine_chunks()], ids.type)  # row lookups take from one array
        return one_chunk.to_pandas(types_mapper=pd.ArrowDtype)

    def record_lists(self, name: str, fields: tuple[str, ...],
                     make: Callable[[list[tuple]], object]) -> Values:
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


def arrow_numbers(values: pa.ChunkedArray) -> np.ndarray:
    """An Arrow numeric column as float64, NaN for null."""
    import pyarrow as pa

    return np.asarray(values.cast(pa.float64()).to_numpy(), dtype=np.float64)


def arrow_categories(values: pa.ChunkedArray) -> pd.Categorical:
    """An Arrow text column as a pandas categorical (null → NaN)."""
    import pyarrow.compute as pc

    return pd.Categorical(pc.dictionary_encode(values).to_pandas())


def to_list(values: pa.ChunkedArray, default: object = None) -> list:
    """Arrow values as a Python list, nulls replaced by ``default``."""
    import pyarrow.compute as pc

    if default is not None and values.null_count:
        values = pc.fill_null(values, default)
    return values.to_pylist()


def interned_strings(col: pa.ChunkedArray, default: str | None = None) -> np.ndarray:
    """Decode each distinct value once ('' and null as ``default``): names and query texts repeat."""
    return decode_unique(col, lambda value: value or default, default)


def decode_unique(col: pa.ChunkedArray, make: Callable[[Any], object], null: object) -> np.ndarray:
    """``make(value)`` once per distinct value of ``col``, shared by the rows that hold it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = []
    for chunk in col.chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        values = np.empty(len(distinct) + 1, dtype=object)  # filled one by one: tuples stay whole
        for i, v in enumerate(distinct):
            values[i] = make(v) if v is not None else null
        values[-1] = null
        index = pc.fill_null(encoded.indices.cast(pa.int64()), len(values) - 1)  # null → the last slot
        parts.append(values[index.to_numpy()])
    return np.concatenate(parts) if parts else np.empty(0, dtype=object)


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
