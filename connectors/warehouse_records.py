"""Building millions of frozen model records from column lists, fast and in bounded memory.

Why a module of its own: the BigQuery and Snowflake normalizers turn converted columns
into frozen, slotted dataclasses (``QueryRecord``, ``MeteringHour``, ...). ``RecordBuilder``
skips the per-field cost of frozen ``__init__``, ``in_chunks`` normalizes a table in
slices of ``CHUNK_ROWS`` rows, ``paused_gc`` keeps the cyclic collector out of the way,
and ``time_span`` / ``EMPTY_MAPPING`` serve the finished records. None of it knows
Arrow types or file formats.
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

import numpy as np

from analyzer.core.query_table import QueryTable

if TYPE_CHECKING:
    import pyarrow as pa

_T = TypeVar("_T")


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
    """(earliest start_time_ms, latest end or start time_ms) over groups of records or query tables."""
    known = functools.partial(operator.is_not, None)
    starts: list[int] = []
    ends: list[int] = []
    for group in groups:
        if isinstance(group, QueryTable):
            for name, out in (("start_time_ms", starts), ("end_time_ms", ends)):
                values = group.numbers(name)
                values = values[~np.isnan(values)]
                out.extend(int(f(values)) for f in (np.min, np.max) if values.size)
            continue
        starts.extend(filter(known, map(operator.attrgetter("start_time_ms"), group)))
        ends.extend(filter(known, map(operator.attrgetter("end_time_ms"), group)))
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
