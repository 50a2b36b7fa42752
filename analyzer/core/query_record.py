"""One warehouse query or job as a record: the row type of ``analyzer.core.query_table``.

Why a module of its own: the column table (which imports pandas) and the warehouse model
both need it, and the Spark path must not pay for pandas at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One warehouse query or job, normalized across BigQuery and Snowflake.

    ``query_text`` is kept raw; reports mask its literals unless asked not to.
    ``warehouse`` is the Snowflake warehouse, or the BigQuery reservation (None for
    on-demand jobs). Byte and time fields are None when the vendor does not report them.
    """

    vendor: str
    query_id: str
    start_time_ms: int | None
    end_time_ms: int | None
    status: str
    query_text: str = ""
    query_hash: str | None = None
    statement_type: str | None = None
    user: str | None = None
    role: str | None = None  # Snowflake ROLE_NAME: the role the query ran as (an owner key)
    project: str | None = None
    warehouse: str | None = None
    warehouse_size: str | None = None
    warehouse_type: str | None = None
    cluster_number: int | None = None
    bytes_scanned: int = 0
    bytes_billed: int | None = None
    partitions_scanned: int | None = None
    partitions_total: int | None = None
    rows_produced: int | None = None
    total_elapsed_ms: int | None = None
    execution_ms: int | None = None
    compilation_ms: int | None = None
    queued_overload_ms: int | None = None
    queued_provisioning_ms: int | None = None
    spilled_local_bytes: int = 0
    spilled_remote_bytes: int = 0
    slot_ms: int | None = None
    cache_hit: bool = False
    referenced_tables: tuple[str, ...] = ()
    credits_cloud_services: float | None = None
    parent_id: str | None = None
    job_type: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
