"""Snowflake query history and metering → ``analyzer.core.model.WarehouseHistory``.

Normalization (the same for files and live reads): ``query_hash`` =
query_parameterized_hash (query_hash when absent), ``statement_type`` = query_type,
``user`` = user_name, ``warehouse`` = warehouse_name, ``warehouse_size`` /
``warehouse_type`` / ``cluster_number`` as in the view (size NULL ⇒ cloud services
only), bytes/partitions/spill/rows as in the view, every *_ms field from the
matching *_time column (milliseconds), ``credits_cloud_services`` =
credits_used_cloud_services, ``labels`` = {"query_tag": query_tag} when set, and
``status`` ∈ SUCCESS / FAILED / CANCELLED (error 000604) / RUNNING / QUEUED (queued,
resuming_warehouse, blocked). Metering rows become ``MeteringHour``.
"""

from connectors.snowflake.export import read_snowflake_export
from connectors.snowflake.live import read_snowflake_live
from connectors.warehouse_files import WarehouseInputError

__all__ = ["WarehouseInputError", "read_snowflake_export", "read_snowflake_live"]
