"""The warehouse half of the domain model: query history, metering, tables and settings.

Normalized once by the BigQuery and Snowflake connectors; the cost model and the warehouse
rules see only these frozen records. Queries are held as columns (``QueryTable``), built
lazily so that the Spark path never imports pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.core.query_record import QueryRecord

if TYPE_CHECKING:
    from analyzer.core.query_table import QueryTable

__all__ = ["MeteringHour", "QueryRecord", "TableStorage", "WarehouseHistory", "WarehouseSettings"]


@dataclass(frozen=True, slots=True)
class MeteringHour:
    """One warehouse-hour of Snowflake metering (WAREHOUSE_METERING_HISTORY)."""

    warehouse: str
    start_time_ms: int
    end_time_ms: int
    credits_used: float
    credits_compute: float
    credits_cloud_services: float
    credits_attributed_queries: float | None = None


@dataclass(frozen=True, slots=True)
class TableStorage:
    """Size and layout of one table (BigQuery TABLE_STORAGE, Snowflake TABLES)."""

    table: str
    total_logical_bytes: int
    total_rows: int | None = None
    partitioned: bool | None = None
    clustered: bool | None = None
    column_count: int | None = None
    partitions: int | None = None  # TABLE_STORAGE.total_partitions (0 for an unpartitioned table)
    partition_column: str | None = None
    clustering_columns: tuple[str, ...] = ()  # in clustering order


@dataclass(frozen=True, slots=True)
class WarehouseSettings:
    """A Snowflake warehouse's configuration, when the role can see it."""

    name: str
    size: str | None = None
    warehouse_type: str | None = None
    auto_suspend_s: int | None = None
    min_cluster_count: int | None = None
    max_cluster_count: int | None = None


@dataclass(frozen=True, slots=True)
class WarehouseHistory:
    """Everything one warehouse connector read for one account or project and window."""

    vendor: str
    source: str
    window_start_ms: int | None
    window_end_ms: int | None
    queries: QueryTable = ()  # type: ignore[assignment]  # records are converted on construction
    metering: tuple[MeteringHour, ...] = ()
    tables: tuple[TableStorage, ...] = ()
    warehouses: tuple[WarehouseSettings, ...] = ()

    def __post_init__(self) -> None:
        # Queries are held as columns (analyzer.core.query_table); records given by tests or small
        # live results are converted once here. pandas is imported only for warehouse work.
        from analyzer.core.query_table import QueryTable

        if not isinstance(self.queries, QueryTable):
            object.__setattr__(self, "queries", QueryTable.from_records(self.queries))
