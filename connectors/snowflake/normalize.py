"""ACCOUNT_USAGE.QUERY_HISTORY and WAREHOUSE_METERING_HISTORY rows (Arrow) → the domain model.

Files (Snowsight CSV with UPPER-CASE headers, JSON, Parquet) and live cursors
(Arrow batches) all arrive here with the views' own column names, matched
case-insensitively. Units follow the view: every *_time duration is milliseconds
(shared/reference/warehouse.md §1.1-1.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analyzer.core.query_table import QueryTable
from analyzer.core.warehouse_model import MeteringHour, WarehouseSettings
from connectors.warehouse_columns import Columns, arrow_categories, arrow_numbers, decode_unique, to_list
from connectors.warehouse_files import WarehouseInputError
from connectors.warehouse_records import EMPTY_MAPPING, RecordBuilder, in_chunks

if TYPE_CHECKING:
    import pyarrow as pa

VENDOR = "snowflake"

#: Without these a query cannot be identified, placed in time or tied to its
#: warehouse's metered credits (the per-query cost model shares hourly credits).
QUERY_REQUIRED = ("query_id", "start_time", "end_time", "warehouse_name")
QUERY_COLUMNS = (
    *QUERY_REQUIRED,
    "query_text",
    "query_type",
    "user_name",
    "role_name",
    "warehouse_size",
    "warehouse_type",
    "cluster_number",
    "query_tag",
    "execution_status",
    "error_code",
    "total_elapsed_time",
    "bytes_scanned",
    "rows_produced",
    "partitions_scanned",
    "partitions_total",
    "bytes_spilled_to_local_storage",
    "bytes_spilled_to_remote_storage",
    "compilation_time",
    "execution_time",
    "queued_provisioning_time",
    "queued_overload_time",
    "credits_used_cloud_services",
    "query_hash",
    "query_parameterized_hash",
)
METERING_REQUIRED = ("start_time", "warehouse_name", "credits_used")
METERING_COLUMNS = (
    *METERING_REQUIRED,
    "end_time",
    "credits_used_compute",
    "credits_used_cloud_services",
    "credits_attributed_compute_queries",
)

#: Numeric columns a CSV export can parse as numbers directly.
QUERY_NUMERIC = {
    **dict.fromkeys(
        ("cluster_number", "total_elapsed_time", "bytes_scanned", "rows_produced", "partitions_scanned",
         "partitions_total", "bytes_spilled_to_local_storage", "bytes_spilled_to_remote_storage",
         "compilation_time", "execution_time", "queued_provisioning_time", "queued_overload_time"),
        "int",
    ),
    "credits_used_cloud_services": "float",
}  # fmt: skip
METERING_NUMERIC = dict.fromkeys(
    (
        "credits_used",
        "credits_used_compute",
        "credits_used_cloud_services",
        "credits_attributed_compute_queries",
    ),
    "float",
)

_STATUS = {
    "SUCCESS": "SUCCESS",
    "FAILED_WITH_ERROR": "FAILED",
    "FAILED_WITH_INCIDENT": "FAILED",
    "FAIL": "FAILED",
    "FAILED": "FAILED",
    "RUNNING": "RUNNING",
    "QUEUED": "QUEUED",
    "RESUMING_WAREHOUSE": "QUEUED",
    "BLOCKED": "QUEUED",
}
_CANCELLED_CODE = "604"  # "SQL execution canceled" (error_code 000604)
_HOUR_MS = 3_600_000


def queries_to_table(table: pa.Table, source: str) -> QueryTable:
    """Normalize QUERY_HISTORY rows into columns; see ``connectors.snowflake`` for the mapping."""
    import pyarrow.compute as pc

    cols = Columns(table, source)
    hashes = pc.coalesce(cols.text("query_parameterized_hash"), cols.text("query_hash"))
    columns: dict[str, object] = {
        "vendor": VENDOR,
        "query_id": cols.ids("query_id"),
        "start_time_ms": arrow_numbers(cols.times_ms("start_time")),
        "end_time_ms": arrow_numbers(cols.times_ms("end_time")),
        "status": arrow_categories(_statuses(cols)),
        "query_text": cols.categories("query_text"),
        "query_hash": arrow_categories(hashes),
        "credits_cloud_services": arrow_numbers(cols.float_array("credits_used_cloud_services")),
        "labels": labels_of_tags(cols.text("query_tag")),
    }
    for field, column in _SAME_MEANING.items():
        columns[field] = cols.categories(column) if field in _TEXT else cols.numbers(column)
    return QueryTable.from_columns(cols.num_rows, columns)


def labels_of_tags(tags: pa.ChunkedArray) -> np.ndarray:
    """{"query_tag": tag} per row (an object array), one shared dict per distinct tag."""
    return decode_unique(tags, lambda tag: {"query_tag": tag}, EMPTY_MAPPING)


#: QueryRecord field → view column, where the only change is the name.
_SAME_MEANING = {
    "statement_type": "query_type",
    "user": "user_name",
    "role": "role_name",
    "warehouse": "warehouse_name",
    "warehouse_size": "warehouse_size",
    "warehouse_type": "warehouse_type",
    "cluster_number": "cluster_number",
    "bytes_scanned": "bytes_scanned",
    "partitions_scanned": "partitions_scanned",
    "partitions_total": "partitions_total",
    "rows_produced": "rows_produced",
    "total_elapsed_ms": "total_elapsed_time",
    "execution_ms": "execution_time",
    "compilation_ms": "compilation_time",
    "queued_overload_ms": "queued_overload_time",
    "queued_provisioning_ms": "queued_provisioning_time",
    "spilled_local_bytes": "bytes_spilled_to_local_storage",
    "spilled_remote_bytes": "bytes_spilled_to_remote_storage",
}
_TEXT = {"statement_type", "user", "role", "warehouse", "warehouse_size", "warehouse_type"}


def _statuses(cols: Columns) -> pa.ChunkedArray:
    """SUCCESS / FAILED / CANCELLED / RUNNING / QUEUED from execution_status (+ error_code)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    status = pc.utf8_upper(pc.fill_null(cols.text("execution_status"), "SUCCESS"))
    mapped = pa.array(list(_STATUS.values())).take(pc.index_in(status, pa.array(list(_STATUS))))
    normal = pc.coalesce(mapped, status)
    code = pc.utf8_ltrim(pc.fill_null(cols.text("error_code"), ""), characters="0")
    cancelled = pc.and_(pc.equal(normal, "FAILED"), pc.equal(code, _CANCELLED_CODE))
    return pc.if_else(cancelled, "CANCELLED", normal)


@in_chunks
def metering_to_hours(table: pa.Table, source: str) -> tuple[MeteringHour, ...]:
    """Normalize WAREHOUSE_METERING_HISTORY rows (one per warehouse-hour).

    credits_used is compute + cloud services, not adjusted for the 10 % rebate.
    Missing parts are derived: compute = used − cloud services; end = start + 1 h.
    """
    import pyarrow.compute as pc

    cols = Columns(table, source)
    starts = cols.times_ms("start_time")
    if starts.null_count:
        raise WarehouseInputError("a metering row has no start_time", source)
    used = pc.fill_null(cols.float_array("credits_used"), 0.0)
    cloud = pc.fill_null(cols.float_array("credits_used_cloud_services"), 0.0)
    compute = cols.float_array("credits_used_compute")
    records = RecordBuilder(MeteringHour, cols.num_rows)
    records.set("warehouse", cols.strings("warehouse_name", default=""))
    records.set("start_time_ms", to_list(starts))
    records.set("end_time_ms", to_list(pc.coalesce(cols.times_ms("end_time"), pc.add(starts, _HOUR_MS))))
    records.set("credits_used", to_list(used))
    records.set("credits_compute", to_list(pc.coalesce(compute, pc.subtract(used, cloud))))
    records.set("credits_cloud_services", to_list(cloud))
    records.set("credits_attributed_queries", cols.floats("credits_attributed_compute_queries"))
    return records.build()


@in_chunks
def warehouses_to_settings(table: pa.Table, source: str) -> tuple[WarehouseSettings, ...]:
    """Normalize SHOW WAREHOUSES output (name, size, type, auto_suspend in seconds, clusters)."""
    cols = Columns(table, source)
    records = RecordBuilder(WarehouseSettings, cols.num_rows)
    records.set("name", cols.strings("name"))
    records.set("size", cols.strings("size"))
    records.set("warehouse_type", cols.strings("type"))
    records.set("auto_suspend_s", cols.ints("auto_suspend"))
    records.set("min_cluster_count", cols.ints("min_cluster_count"))
    records.set("max_cluster_count", cols.ints("max_cluster_count"))
    return tuple(w for w in records.build() if w.name)
