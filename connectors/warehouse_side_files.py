"""A history's side files (Snowflake metering, BigQuery table storage): worth having, never worth the history.

Why a module of its own: both export readers read a main file that must succeed and an
optional side file whose failure (or skipped rows) is reported beside a history that is
still analysed; that policy lives here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from connectors.warehouse_checks import converting
from connectors.warehouse_files import WarehouseInputError
from connectors.warehouse_readers import read_export

if TYPE_CHECKING:
    import pyarrow as pa


Converted = TypeVar("Converted")


def read_side_export(path: str, columns: Iterable[str], required: Iterable[str], numeric: Mapping[str, str],
                     convert: Callable[[pa.Table, str], Converted], empty: Converted,
                     problems: list[tuple[str, str]]) -> Converted:
    """A side file of a history (metering, table storage), read and converted; ``empty`` when it cannot be.

    The main history is worth analysing without it, so its failure and any rows it skipped are
    appended to ``problems`` (file, one-line reason) instead of raised.
    """
    notes: list[str] = []
    try:
        table = read_export(path, columns, required, numeric, notes=notes)
        with converting(path):
            result = convert(table, path)
    except WarehouseInputError as err:
        problems.append((err.source or path, err.message))
        return empty
    problems += [(path, note) for note in notes]
    return result
