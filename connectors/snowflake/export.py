"""Snowflake history from export files: QUERY_HISTORY and, optionally, WAREHOUSE_METERING_HISTORY.

Files are a Snowsight download (CSV, UPPER-CASE headers, times like
'2024-05-01 10:00:00.123 -0700'), SnowSQL JSON (an array) or NDJSON, or Parquet
unloaded with COPY INTO, of ``SELECT * FROM SNOWFLAKE.ACCOUNT_USAGE.<view>`` over the window.
"""

from __future__ import annotations

from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory
from connectors.snowflake.normalize import (
    METERING_COLUMNS,
    METERING_NUMERIC,
    METERING_REQUIRED,
    QUERY_COLUMNS,
    QUERY_NUMERIC,
    QUERY_REQUIRED,
    VENDOR,
    metering_to_hours,
    queries_to_table,
)
from connectors.warehouse_checks import converting
from connectors.warehouse_files import PartialHistoryError
from connectors.warehouse_readers import read_export
from connectors.warehouse_records import time_span
from connectors.warehouse_side_files import read_side_export


def read_snowflake_export(query_history_file: str, metering_file: str | None = None) -> WarehouseHistory:
    """Read a QUERY_HISTORY export (and a WAREHOUSE_METERING_HISTORY export) from files.

    Raises:
        WarehouseInputError: the query history file is missing, empty, unparsable or lacks
            a required column.
        PartialHistoryError: the history was read but the metering file was not, or rows
            with impossible numbers were skipped; its ``history`` is what could be read.
    """
    notes: list[str] = []
    table = read_export(query_history_file, QUERY_COLUMNS, QUERY_REQUIRED, QUERY_NUMERIC, notes=notes,
                        ids=("query_id",))
    with converting(query_history_file):
        queries = queries_to_table(table, query_history_file)
    problems = [(query_history_file, note) for note in notes]
    metering: tuple[MeteringHour, ...] = ()
    if metering_file:
        metering = read_side_export(metering_file, METERING_COLUMNS, METERING_REQUIRED, METERING_NUMERIC,
                                    metering_to_hours, (), problems)
    first, last = time_span(queries, metering)
    history = WarehouseHistory(
        vendor=VENDOR,
        source=query_history_file,
        window_start_ms=first,
        window_end_ms=last,
        queries=queries,
        metering=metering,
    )
    if problems:
        raise PartialHistoryError(history, problems)
    return history
