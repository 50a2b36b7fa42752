"""Warehouse query history as columns: a million queries without a million Python objects.

Why: a week of Snowflake or BigQuery history is easily a million rows. As frozen
``QueryRecord`` objects it costs seconds to build and gigabytes to hold, and every rule
and the cost model then loop over it in Python. ``QueryTable`` keeps the same fields as
pandas columns (numbers as float64 with NaN for "not reported", repeated text as
categoricals, so each distinct query text is stored and analysed once), lets the cost
model and the rules compute with whole columns, and still behaves as a read-only
sequence of ``QueryRecord`` for the few rows a report shows and for small tests.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload

import numpy as np
import pandas as pd

from analyzer.core.query_record import QueryRecord

#: Optional numbers (None when the vendor does not report them): float64, NaN for None.
NULLABLE_NUMBERS = (
    "start_time_ms", "end_time_ms", "cluster_number", "bytes_billed", "partitions_scanned",
    "partitions_total", "rows_produced", "total_elapsed_ms", "execution_ms", "compilation_ms",
    "queued_overload_ms", "queued_provisioning_ms", "slot_ms", "credits_cloud_services",
)  # fmt: skip
#: Counts that are 0 when not reported: int64.
COUNTS = ("bytes_scanned", "spilled_local_bytes", "spilled_remote_bytes")
#: Text with few distinct values (and query texts, which repeat): categoricals, NaN for None.
TEXT = (
    "vendor", "status", "query_text", "query_hash", "statement_type", "user", "role", "project", "warehouse",
    "warehouse_size", "warehouse_type", "parent_id", "job_type",
)  # fmt: skip
#: Values kept as Python objects: distinct ids, table tuples, label dicts.
OBJECTS = ("query_id", "referenced_tables", "labels")
FLAGS = ("cache_hit",)
_FLOAT_FIELDS = {"credits_cloud_services"}
_FIELDS = tuple(f.name for f in dataclasses.fields(QueryRecord))
_EMPTY: dict[str, str] = {}


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(QueryRecord):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # labels
            out[f.name] = _EMPTY
    return out


_DEFAULTS = _defaults()


def _object_array(values: Sequence[Any], n: int) -> np.ndarray:
    """An object array of the n items of ``values``."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.ArrowDtype):
        return values  # Arrow strings (ids): no Python object per row until one is asked for
    return np.fromiter(values, dtype=object, count=n)  # element-wise: tuples stay tuples, not rows


def _column(name: str, values: Any, n: int, scalar: bool = False) -> Any:
    """One model field as the column type ``QueryTable`` keeps it in (``scalar``: one value for all)."""
    if scalar:
        return _constant(name, values, n)
    if name in NULLABLE_NUMBERS:
        if isinstance(values, np.ndarray | pd.Series):
            return np.asarray(values, dtype=np.float64)
        seq = values if isinstance(values, list | tuple) else [values] * n
        return np.array([math.nan if v is None else v for v in seq], dtype=np.float64)
    if name in COUNTS:
        if isinstance(values, np.ndarray | pd.Series):
            return nan_to_zero(np.asarray(values, dtype=np.float64)).astype(np.int64)
        seq = values if isinstance(values, list | tuple) else [values] * n
        return np.array([v or 0 for v in seq], dtype=np.int64)
    if name in FLAGS:
        if isinstance(values, np.ndarray | pd.Series):
            return np.asarray(values, dtype=bool)
        seq = values if isinstance(values, list | tuple) else [values] * n
        return np.array([bool(v) for v in seq], dtype=bool)
    if name in TEXT:
        if isinstance(values, pd.Categorical | pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            return _blank_as_missing(name, pd.Categorical(values))
        texts = values if isinstance(values, list | tuple | np.ndarray) else [values] * n
        return _blank_as_missing(name, pd.Categorical(list(texts)))
    return _object_array(values, n)


def _frame(data: dict[str, Any]) -> pd.DataFrame:
    """The columns as a DataFrame; object columns stay Python objects (no string-dtype inference)."""
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object, copy=False)
            if name in OBJECTS and not isinstance(values, pd.Series)
            else values
            for name, values in data.items()
        },
        copy=False,
    )


def _blank_as_missing(name: str, values: pd.Categorical) -> pd.Categorical:
    """'' means "not reported" in every text field but the query text (whose default is '')."""
    if name != "query_text" and "" in values.categories:
        values = values.remove_categories([""])
    return values


def _constant(name: str, value: Any, n: int) -> Any:
    """A column holding ``value`` in every row, without building a list of n items."""
    if name in NULLABLE_NUMBERS:
        return np.full(n, math.nan if value is None else float(value))
    if name in COUNTS:
        return np.full(n, int(value or 0), dtype=np.int64)
    if name in FLAGS:
        return np.full(n, bool(value))
    if name in TEXT:
        if value is None or (value == "" and name != "query_text"):
            return pd.Categorical.from_codes(
                np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object)
            )
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


class QueryTable(Sequence[QueryRecord]):
    """Query or job rows of one history as columns; iterating yields ``QueryRecord``.

    Read-only by convention: ``frame`` is shared by the cost model and every rule.
    Column names are the ``QueryRecord`` field names.
    """

    __slots__ = ("_derived", "_frame", "_ids")

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = [f for f in _FIELDS if f not in frame.columns]
        if missing:
            raise ValueError(f"QueryTable: missing columns {missing}")
        self._frame = frame
        self._ids: dict[str, int] | None = None
        self._derived: dict[str, Any] = {}

    # --- construction ------------------------------------------------------------------

    @classmethod
    def from_columns(cls, num_rows: int, columns: Mapping[str, Any]) -> QueryTable:
        """A table from whole columns (arrays, lists, categoricals, or one value for every row).

        Fields without a column take the ``QueryRecord`` default.
        """
        unknown = set(columns) - set(_FIELDS)
        if unknown:
            raise ValueError(f"QueryTable: unknown columns {sorted(unknown)}")
        data = {}
        for name in _FIELDS:
            values = columns.get(name, _DEFAULTS.get(name))
            if name not in columns and name not in _DEFAULTS:
                raise ValueError(f"QueryTable: no column for required field {name!r}")
            data[name] = _column(
                name, values, num_rows, scalar=name not in columns or isinstance(values, str)
            )
        return cls(_frame(data))

    @classmethod
    def from_records(cls, records: Iterable[QueryRecord]) -> QueryTable:
        """A table of these records (tests, live connectors' small results)."""
        rows = list(records)
        return cls.from_columns(len(rows), {name: [getattr(r, name) for r in rows] for name in _FIELDS})

    @classmethod
    def concat(cls, tables: Sequence[QueryTable]) -> QueryTable:
        """One table of several (chunks of one read), categoricals unified."""
        if len(tables) == 1:
            return tables[0]
        if not tables:
            return cls.from_columns(
                0, {"vendor": [], "query_id": [], "start_time_ms": [], "end_time_ms": [], "status": []}
            )
        frames = [t.frame for t in tables]
        data = {}
        for name in _FIELDS:
            if name in TEXT:
                data[name] = pd.api.types.union_categoricals([f[name] for f in frames], ignore_order=True)
            else:
                data[name] = np.concatenate([f[name].to_numpy() for f in frames])
        return cls(_frame(data))

    # --- columns -------------------------------------------------------------------------

    @property
    def frame(self) -> pd.DataFrame:
        """The columns (one per ``QueryRecord`` field); do not modify."""
        return self._frame

    def numbers(self, name: str) -> np.ndarray:
        """A numeric or flag column as a numpy array (float64 with NaN for not reported)."""
        return self._frame[name].to_numpy()

    def text(self, name: str) -> pd.Series:
        """A text column as a categorical Series (NaN where None)."""
        return self._frame[name]

    def derived(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per table: columns derived from the rows (execution intervals, pools)
        that the cost model and several rules all need."""
        if key not in self._derived:
            value = compute()
            for array in value if isinstance(value, tuple) else (value,):
                if isinstance(array, np.ndarray):
                    array.flags.writeable = False  # shared by every caller: never modified in place
            self._derived[key] = value
        return self._derived[key]

    def last_text(self, name: str, rows: np.ndarray) -> str | None:
        """The last non-empty value of a text column among ``rows`` (in their order), else None.

        Works on the categorical codes: the column is never turned into Python objects.
        """
        column = self._frame[name].cat
        named = np.append(np.array([bool(c) for c in column.categories], dtype=bool), False)  # -1: missing
        codes = column.codes.to_numpy()[rows]
        known = np.flatnonzero(named[codes])
        return None if known.size == 0 else str(column.categories[codes[known[-1]]])

    def index_of(self, query_id: str) -> int | None:
        """The row of a query id (the first, if an id repeats)."""
        if self._ids is None:
            ids: dict[str, int] = {}
            for i, q in enumerate(self._frame["query_id"].to_numpy()):
                ids.setdefault(q, i)
            self._ids = ids
        return self._ids.get(query_id)

    # --- rows ----------------------------------------------------------------------------

    def records(self, rows: Iterable[int] | np.ndarray) -> list[QueryRecord]:
        """The ``QueryRecord`` of each row position in ``rows``, in that order."""
        positions = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        if positions.size == 0:
            return []
        part = self._frame.iloc[positions]
        columns = [_python_values(name, part[name]) for name in _FIELDS]
        return [QueryRecord(*values) for values in zip(*columns, strict=True)]

    def __len__(self) -> int:
        return len(self._frame)

    @overload
    def __getitem__(self, index: int) -> QueryRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[QueryRecord]: ...

    def __getitem__(self, index: int | slice) -> QueryRecord | list[QueryRecord]:
        n = len(self)
        if isinstance(index, slice):
            return self.records(range(*index.indices(n)))
        if not -n <= index < n:
            raise IndexError("QueryTable index out of range")
        return self.records([index % n])[0]

    def __iter__(self) -> Iterator[QueryRecord]:
        step = 65_536
        for start in range(0, len(self), step):
            yield from self.records(range(start, min(len(self), start + step)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueryTable | tuple | list):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"QueryTable({len(self):,} rows)"


def _python_values(name: str, column: pd.Series) -> list[Any]:
    """A column's values as the Python types ``QueryRecord`` declares (None for NaN)."""
    if name in NULLABLE_NUMBERS:
        if name in _FLOAT_FIELDS:
            return [None if v != v else float(v) for v in column.to_numpy()]
        return [None if v != v else int(v) for v in column.to_numpy()]
    if name in COUNTS:
        return [int(v) for v in column.to_numpy()]
    if name in FLAGS:
        return [bool(v) for v in column.to_numpy()]
    if name in TEXT:
        values = column.astype(object).to_numpy()
        default = _DEFAULTS.get(name, None)
        return [default if (v is None or v != v) else v for v in values]
    return list(column.to_numpy())


def per_category(column: pd.Series, fn: Any, default: Any, dtype: Any = object) -> np.ndarray:
    """``fn(value)`` for every row of a categorical column, evaluated once per distinct value.

    Missing rows get ``default``. This is how rules parse, normalize or match query texts:
    a million rows of a few thousand distinct texts cost a few thousand calls.
    """
    values = column.array if isinstance(column, pd.Series) else column
    if not isinstance(values, pd.Categorical):
        values = pd.Categorical(values)
    lookup = np.empty(len(values.categories) + 1, dtype=dtype)
    for i, category in enumerate(values.categories):
        lookup[i] = fn(category)
    lookup[-1] = default
    return lookup[values.codes]  # code -1 (missing) takes the last slot


def text_or(column: pd.Series, default: str) -> np.ndarray:
    """A text column as an object array with ``default`` where missing."""
    return per_category(column, lambda value: value, default)


class Combinations(NamedTuple):
    """Rows coded by their combination of values of several categorical columns."""

    codes: np.ndarray  # per row: the combination's number, in order of first appearance
    values: list[tuple[Any, ...]]  # per combination: its column values (None where missing)
    first: np.ndarray  # per combination: the first row (position in the table) that has it


def combination_codes(columns: Sequence[pd.Series], rows: np.ndarray | None = None) -> Combinations:
    """Code ``rows`` (default: all) by their combination of values of categorical ``columns``.

    Work keyed on a few text columns (a rate per size and type, a fingerprint per hash and
    text) is then done once per distinct combination, from integer codes, never from a
    million strings. Only integers are hashed; widths that would overflow are renumbered.
    """
    positions = np.arange(len(columns[0]) if columns else 0) if rows is None else rows
    combo, size = np.zeros(positions.size, dtype=np.int64), 1
    for column in columns:
        width = len(column.cat.categories) + 1  # + missing
        if size * width >= 2**62:
            renumbered, uniques = pd.factorize(combo)
            combo, size = renumbered.astype(np.int64), len(uniques)
        combo = combo * width + column.cat.codes.to_numpy()[positions].astype(np.int64) + 1
        size *= width
    codes, uniques = pd.factorize(combo)
    first = positions[np.unique(codes, return_index=True)[1]] if codes.size else positions[:0]
    per_column = []
    for column in columns:
        categories = np.empty(len(column.cat.categories) + 1, dtype=object)  # the last slot: code -1, None
        categories[:-1] = np.asarray(column.cat.categories, dtype=object)
        per_column.append(categories[column.cat.codes.to_numpy()[first]])
    return Combinations(codes, list(zip(*per_column, strict=True)), first)


def categorical_of(codes: np.ndarray, labels: Sequence[str]) -> pd.Series:
    """A categorical Series whose row i is ``labels[codes[i]]`` (labels may repeat)."""
    names, which = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    return pd.Series(pd.Categorical.from_codes(which.ravel()[codes], categories=names))


def nan_to_zero(values: np.ndarray) -> np.ndarray:
    """NaN ("not reported") as 0; numpy's ``nan_to_num`` also scans for infinities, several times slower."""
    return np.where(np.isnan(values), 0.0, values)
