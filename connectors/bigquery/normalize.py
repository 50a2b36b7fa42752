"""INFORMATION_SCHEMA.JOBS and TABLE_STORAGE rows (as an Arrow table) → the domain model.

One normalizer serves every source: export files (CSV, JSON, Parquet) and the live
client's Arrow result all arrive here with the view's own column names, so the
mapping below is written once. Column notes follow the view's documentation
(shared/reference/warehouse.md §3.1-3.2).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from analyzer.model import QueryRecord, TableStorage
from connectors.warehouse_columns import Columns, interned_strings, to_list
from connectors.warehouse_records import EMPTY_MAPPING, RecordBuilder, in_chunks

if TYPE_CHECKING:
    import pyarrow as pa

VENDOR = "bigquery"

#: Columns an export must have: without them no job can be identified, placed in
#: time or priced (on-demand bills total_bytes_billed; capacity uses total_slot_ms).
JOBS_REQUIRED = ("job_id", "creation_time", "total_bytes_processed", "total_bytes_billed")
#: Top-level columns read from the view; nested records are flattened to dotted names.
JOBS_COLUMNS = (
    *JOBS_REQUIRED,
    "start_time",
    "end_time",
    "state",
    "error_result",
    "cache_hit",
    "total_slot_ms",
    "statement_type",
    "job_type",
    "parent_job_id",
    "reservation_id",
    "user_email",
    "project_id",
    "query",
    "referenced_tables",
    "labels",
    "query_info",
    "query_hash",
)
#: Numeric columns a CSV export can parse as numbers directly.
JOBS_NUMERIC = {"total_bytes_processed": "int", "total_bytes_billed": "int", "total_slot_ms": "int"}
STORAGE_NUMERIC = {"total_rows": "int", "total_logical_bytes": "int", "column_count": "int"}
#: Nested fields that a CSV export carries as JSON text.
JOBS_JSON = ("error_result", "query_info", "referenced_tables", "labels")

STORAGE_REQUIRED = ("table_schema", "table_name", "total_logical_bytes")
STORAGE_COLUMNS = (
    *STORAGE_REQUIRED,
    "project_id",
    "table_catalog",
    "total_rows",
    "deleted",
    "partitioned",
    "is_partitioned",
    "clustered",
    "is_clustered",
    "column_count",
)

_STATE = {"DONE": "SUCCESS", "RUNNING": "RUNNING", "PENDING": "QUEUED"}


@in_chunks
def jobs_to_records(table: pa.Table, source: str) -> tuple[QueryRecord, ...]:
    """Normalize JOBS rows; see the module docstring of ``connectors.bigquery``."""
    import pyarrow.compute as pc

    cols = Columns(table, source, json_columns=JOBS_JSON)
    created, started = cols.times_ms("creation_time"), cols.times_ms("start_time")
    ended = cols.times_ms("end_time")
    records = RecordBuilder(QueryRecord, cols.num_rows)
    records.set("vendor", itertools.repeat(VENDOR))
    records.set("query_id", cols.strings("job_id", distinct=True))
    records.set("start_time_ms", to_list(pc.coalesce(started, created)))
    records.set("end_time_ms", to_list(ended))
    records.set("total_elapsed_ms", to_list(pc.subtract(ended, created)))
    records.set("execution_ms", to_list(pc.subtract(ended, started)))
    records.set("status", _statuses(cols))
    records.set("query_text", cols.strings("query", default=""))
    records.set("query_hash", cols.strings("query_info.query_hashes.normalized_literals", "query_hash"))
    records.set("statement_type", cols.strings("statement_type"))
    records.set("user", cols.strings("user_email"))
    records.set("project", cols.strings("project_id"))
    records.set("warehouse", cols.strings("reservation_id"))
    records.set("bytes_scanned", cols.ints("total_bytes_processed", default=0))
    records.set("bytes_billed", cols.ints("total_bytes_billed"))
    records.set("slot_ms", cols.ints("total_slot_ms"))
    records.set("cache_hit", cols.bools("cache_hit", default=False))
    records.set("referenced_tables", cols.record_lists("referenced_tables", _TABLE_FIELDS, _table_names))
    records.set("parent_id", cols.strings("parent_job_id", distinct=True))
    records.set("job_type", cols.strings("job_type"))
    records.set("labels", cols.record_lists("labels", ("key", "value"), _labels))
    return records.build()


_TABLE_FIELDS = ("project_id", "dataset_id", "table_id")


def _statuses(cols: Columns) -> list[str | None]:
    """SUCCESS / FAILED / CANCELLED / RUNNING / QUEUED from ``state`` and ``error_result``.

    A job stopped by its user has error_result.reason 'stopped' (and is still billed,
    per Google's own cost query), so it is CANCELLED rather than FAILED.
    """
    import pyarrow.compute as pc

    state = pc.utf8_upper(pc.fill_null(cols.text("state"), "DONE"))
    queued = pc.if_else(pc.equal(state, "PENDING"), "QUEUED", state)
    normal = pc.if_else(pc.equal(state, "DONE"), "SUCCESS", queued)
    reason = cols.text("error_result.reason")
    failed = pc.or_(pc.is_valid(reason), pc.is_valid(cols.text("error_result.message")))
    stopped = pc.equal(pc.fill_null(reason, ""), "stopped")
    return interned_strings(pc.if_else(stopped, "CANCELLED", pc.if_else(failed, "FAILED", normal)))


def _table_names(elements: list[tuple]) -> tuple[str, ...]:
    """'project.dataset.table' per referenced table (empty for cache hits, per the docs)."""
    return tuple(".".join(part for part in element if part) for element in elements)


def _labels(elements: list[tuple]) -> dict[str, str]:
    return {key: value for key, value in elements if key} if elements else EMPTY_MAPPING


@in_chunks
def storage_to_tables(table: pa.Table, source: str) -> tuple[TableStorage, ...]:
    """Normalize TABLE_STORAGE rows (deleted tables dropped) to ``TableStorage``.

    TABLE_STORAGE says nothing about partitioning or clustering; those come from
    INFORMATION_SCHEMA.COLUMNS (live) or optional ``is_partitioned`` / ``is_clustered``
    / ``column_count`` columns of an export, and stay None otherwise.
    """
    cols = Columns(table, source)
    projects = cols.strings("project_id", "table_catalog")
    datasets, names = cols.strings("table_schema"), cols.strings("table_name")
    records = RecordBuilder(TableStorage, cols.num_rows)
    qualified = [".".join(p for p in parts if p) for parts in zip(projects, datasets, names, strict=True)]
    records.set("table", qualified)
    records.set("total_logical_bytes", cols.ints("total_logical_bytes", default=0))
    records.set("total_rows", cols.ints("total_rows"))
    records.set("partitioned", cols.bools("is_partitioned", "partitioned"))
    records.set("clustered", cols.bools("is_clustered", "clustered"))
    records.set("column_count", cols.ints("column_count"))
    deleted = cols.bools("deleted")
    return tuple(t for t, gone in zip(records.build(), deleted, strict=True) if not gone)
