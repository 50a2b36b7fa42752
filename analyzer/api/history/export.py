"""``deanalyze history export``: the store as a Parquet dataset partitioned by day.

Why Parquet with Hive-style ``day=YYYY-MM-DD`` folders: DuckDB (``read_parquet('DIR/runs/**',
hive_partitioning = true)``), Spark (``spark.read.parquet('DIR/runs')``) and BigQuery external
tables (hive partitioning mode AUTO) all read that layout without a schema file, so the
fleet's history can join the rest of the warehouse. JSON columns are written as text, the
type every reader accepts; the normalised applications (``log_files.app_blob``) stay in the
store: they are deanalyze's own cache, not data for analysts.
"""

from __future__ import annotations

import os
from pathlib import Path

from analyzer.api.history.store import HistoryError, open_store, wait_seconds

# table -> SELECT giving its columns and a ``day`` to partition by
EXPORTS = {
    "runs": "SELECT * REPLACE (CAST(ledger_usd AS VARCHAR) AS ledger_usd, CAST(properties AS VARCHAR) AS "
            "properties) FROM runs",
    "stages": "SELECT s.*, r.day FROM stages s JOIN runs r USING (run_key)",
    "findings": "SELECT * REPLACE (CAST(subject AS VARCHAR) AS subject) FROM findings",
    "warehouse_usage": "SELECT * FROM warehouse_usage",
    "log_files": "SELECT * EXCLUDE (app_blob), CAST(read_at AS DATE) AS day FROM log_files",
}


def export_history(history: str | os.PathLike[str], to: str | os.PathLike[str]) -> dict[str, int]:
    """Write every table under ``to/<table>/day=.../``; returns the rows written per table.

    An earlier export of a table in ``to`` is replaced; other files in ``to`` are left alone.
    """
    target = Path(to)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HistoryError(f"{to}: cannot create the export folder: {err.strerror}") from None
    counts = {}
    with open_store(history, read_only=True, wait_s=wait_seconds()) as store:
        for table, select in EXPORTS.items():
            rows = int((store.one(f"SELECT count(*) FROM ({select})") or (0,))[0])
            counts[table] = rows
            if not rows:
                continue
            out = str(target / table).replace("'", "''")
            store.execute(f"COPY ({select}) TO '{out}' (FORMAT PARQUET, PARTITION_BY (day), OVERWRITE)")
    return counts
