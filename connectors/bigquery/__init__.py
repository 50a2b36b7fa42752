"""BigQuery job history → ``analyzer.core.model.WarehouseHistory``.

Normalization (the same for files and live reads): ``bytes_billed`` =
total_bytes_billed, ``bytes_scanned`` = total_bytes_processed, ``slot_ms`` =
total_slot_ms, ``parent_id`` = parent_job_id, ``warehouse`` = reservation_id (None
on-demand), ``user`` = user_email, ``project`` = project_id, ``query_hash`` =
query_info.query_hashes.normalized_literals, ``status`` ∈ SUCCESS / FAILED /
CANCELLED (error_result.reason 'stopped') / RUNNING / QUEUED (PENDING),
``start_time_ms`` = start_time (creation_time while pending), ``total_elapsed_ms`` =
end_time − creation_time, ``execution_ms`` = end_time − start_time, referenced
tables as "project.dataset.table".
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: declaring the source (``connectors.bigquery.source``) must not pull
# in pyarrow, pandas or the vendor SDK for a Spark-only run.
_LAZY = {
    "read_bigquery_export": "connectors.bigquery.export",
    "read_bigquery_live": "connectors.bigquery.live",
    "WarehouseInputError": "connectors.warehouse_files",
}

__all__ = ["WarehouseInputError", "read_bigquery_export", "read_bigquery_live"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
