"""INFORMATION_SCHEMA.JOBS and TABLE_STORAGE rows (as an Arrow table) → the domain model.

One normalizer serves every source: export files (CSV, JSON, Parquet) and the live
client's Arrow result all arrive here with the view's own column names, so the
mapping below is written once. Column notes follow the view's documentation
(shared/reference/warehouse.md §3.1-3.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.core.query_table import QueryTable
from analyzer.core.warehouse_model import TableStorage
from connectors.warehouse_columns import Columns, arrow_categories, arrow_numbers
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
STORAGE_NUMERIC = {"total_rows": "int", "total_logical_bytes": "int", "column_count": "int",
                   "total_partitions": "int"}
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
    "total_partitions",
    "partition_column",
    "partitioning_column",
    "clustering_columns",
)

_STATE = {"DONE": "SUCCESS", "RUNNING": "RUNNING", "PENDING": "QUEUED"}


def jobs_to_table(table: pa.Table, source: str) -> QueryTable:
    """Normalize JOBS rows into columns; see the module docstring of ``connectors.bigquery``."""
    import pyarrow.compute as pc

    cols = Columns(table, source, json_columns=JOBS_JSON)
    created, started = cols.times_ms("creation_time"), cols.times_ms("start_time")
    ended = cols.times_ms("end_time")
    return QueryTable.from_columns(cols.num_rows, {
        "vendor": VENDOR,
        "query_id": cols.ids("job_id"),
        "start_time_ms": arrow_numbers(pc.coalesce(started, created)),
        "end_time_ms": arrow_numbers(ended),
        "total_elapsed_ms": arrow_numbers(pc.subtract(ended, created)),
        "execution_ms": arrow_numbers(pc.subtract(ended, started)),
        "status": arrow_categories(_statuses(cols)),
        "query_text": cols.categories("query"),
        "query_hash": cols.categories("query_info.query_hashes.normalized_literals", "query_hash"),
        "statement_type": cols.categories("statement_type"),
        "user": cols.categories("user_email"),
        "project": cols.categories("project_id"),
        "warehouse": cols.categories("reservation_id"),
        "bytes_scanned": cols.numbers("total_bytes_processed"),
        "bytes_billed": cols.numbers("total_bytes_billed"),
        "slot_ms": cols.numbers("total_slot_ms"),
        "cache_hit": cols.bools("cache_hit", default=False),
        "referenced_tables": cols.record_lists("referenced_tables", _TABLE_FIELDS, _table_names),
        "parent_id": cols.categories("parent_job_id"),
        "job_type": cols.categories("job_type"),
        "labels": cols.record_lists("labels", ("key", "value"), _labels),
    })


_TABLE_FIELDS = ("project_id", "dataset_id", "table_id")


def _statuses(cols: Columns) -> pa.ChunkedArray:
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
    return pc.if_else(stopped, "CANCELLED", pc.if_else(failed, "FAILED", normal))


def _table_names(elements: list[tuple]) -> tuple[str, ...]:
    """'project.dataset.table' per referenced table (empty for cache hits, per the docs)."""
    return tuple(".".join(part for part in element if part) for element in elements)


def _labels(elements: list[tuple]) -> dict[str, str]:
    return {key: value for key, value in elements if key} if elements else EMPTY_MAPPING


@in_chunks
def storage_to_tables(table: pa.Table, source: str) -> tuple[TableStorage, ...]:
    """Normalize TABLE_STORAGE rows (deleted tables dropped) to ``TableStorage``.

    TABLE_STORAGE counts partitions (``total_partitions``, 0 for an unpartitioned table),
    which tells whether a table is partitioned; its partitioning and clustering columns come
    from INFORMATION_SCHEMA.COLUMNS (live) or optional ``is_partitioned`` / ``is_clustered`` /
    ``column_count`` / ``partition_column`` / ``clustering_columns`` (comma-separated)
    columns of an export, and stay unknown otherwise.
    """
    cols = Columns(table, source)
    projects = cols.strings("project_id", "table_catalog")
    datasets, names = cols.strings("table_schema"), cols.strings("table_name")
    records = RecordBuilder(TableStorage, cols.num_rows)
    qualified = [".".join(p for p in parts if p) for parts in zip(projects, datasets, names, strict=True)]
    records.set("table", qualified)
    records.set("total_logical_bytes", cols.ints("total_logical_bytes", default=0))
    records.set("total_rows", cols.ints("total_rows"))
    partitions = cols.ints("total_partitions")
    stated = cols.bools("is_partitioned", "partitioned")
    records.set("partitions", partitions)
    records.set("partitioned", [p if p is not None else (None if n is None else n > 0)
                                for p, n in zip(stated, partitions, strict=True)])
    records.set("partition_column", cols.strings("partition_column", "partitioning_column"))
    clustering = cols.strings("clustering_columns")
    records.set("clustering_columns", [tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()
                                       for text in clustering])
    clustered = cols.bools("is_clustered", "clustered")
    records.set("clustered", [c if c is not None else (True if k else None)
                              for c, k in zip(clustered, clustering, strict=True)])
    records.set("column_count", cols.ints("column_count"))
    deleted = cols.bools("deleted")
    return tuple(t for t, gone in zip(records.build(), deleted, strict=True) if not gone)
