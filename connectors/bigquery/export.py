"""BigQuery history from export files: JOBS rows and, optionally, TABLE_STORAGE rows.

Files are what ``bq query --format=json`` (a JSON array, every value a string,
timestamps as epoch seconds), a console download (CSV with nested fields as JSON
text, or newline-delimited JSON) or an export to Parquet give for a plain
``SELECT * FROM `region-REGION`.INFORMATION_SCHEMA.JOBS`` over the window.
"""

from __future__ import annotations

from analyzer.core.warehouse_model import TableStorage, WarehouseHistory
from connectors.bigquery.normalize import (
    JOBS_COLUMNS,
    JOBS_NUMERIC,
    JOBS_REQUIRED,
    STORAGE_COLUMNS,
    STORAGE_NUMERIC,
    STORAGE_REQUIRED,
    VENDOR,
    jobs_to_table,
    storage_to_tables,
)
from connectors.warehouse_checks import converting
from connectors.warehouse_files import PartialHistoryError
from connectors.warehouse_readers import read_export
from connectors.warehouse_records import time_span
from connectors.warehouse_side_files import read_side_export


def read_bigquery_export(jobs_file: str, table_storage_file: str | None = None) -> WarehouseHistory:
    """Read an INFORMATION_SCHEMA.JOBS export (and a TABLE_STORAGE export) from files.

    Raises:
        WarehouseInputError: the jobs file is missing, empty, unparsable or lacks a required column.
        PartialHistoryError: the jobs were read but the table-storage file was not, or rows
            with impossible numbers were skipped; its ``history`` is what could be read.
    """
    notes: list[str] = []
    jobs = read_export(jobs_file, JOBS_COLUMNS, JOBS_REQUIRED, JOBS_NUMERIC, notes=notes, ids=("job_id",))
    with converting(jobs_file):
        queries = jobs_to_table(jobs, jobs_file)
    problems = [(jobs_file, note) for note in notes]
    tables: tuple[TableStorage, ...] = ()
    if table_storage_file:
        tables = read_side_export(table_storage_file, STORAGE_COLUMNS, STORAGE_REQUIRED, STORAGE_NUMERIC,
                                  storage_to_tables, (), problems)
    first, last = time_span(queries)
    history = WarehouseHistory(
        vendor=VENDOR,
        source=jobs_file,
        window_start_ms=first,
        window_end_ms=last,
        queries=queries,
        tables=tables,
    )
    if problems:
        raise PartialHistoryError(history, problems)
    return history
