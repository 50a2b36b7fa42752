"""Snowflake query history and metering → ``analyzer.core.model.WarehouseHistory``.

Normalization (the same for files and live reads): ``query_hash`` =
query_parameterized_hash (query_hash when absent), ``statement_type`` = query_type,
``user`` = user_name, ``role`` = role_name, ``warehouse`` = warehouse_name, ``warehouse_size`` /
``warehouse_type`` / ``cluster_number`` as in the view (size NULL ⇒ cloud services
only), bytes/partitions/spill/rows as in the view, every *_ms field from the
matching *_time column (milliseconds), ``credits_cloud_services`` =
credits_used_cloud_services, ``labels`` = {"query_tag": query_tag} when set, and
``status`` ∈ SUCCESS / FAILED / CANCELLED (error 000604) / RUNNING / QUEUED (queued,
resuming_warehouse, blocked). Metering rows become ``MeteringHour``.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: declaring the source (``connectors.snowflake.source``) must not pull
# in pyarrow, pandas or the vendor SDK for a Spark-only run.
_LAZY = {
    "read_snowflake_export": "connectors.snowflake.export",
    "read_snowflake_live": "connectors.snowflake.live",
    "WarehouseInputError": "connectors.warehouse_files",
}

__all__ = ["WarehouseInputError", "read_snowflake_export", "read_snowflake_live"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
