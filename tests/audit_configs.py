"""One writer of audit configs over the bundled exports, for the end-to-end audit tests.

Why shared: the audit, audit-mode, lock and output-error tests all need the same real
sources by absolute path and differ only in the output folder, the formats and whether a
Spark source and the table-storage file are included.
"""

from __future__ import annotations

from pathlib import Path

from conftest import DATA

WAREHOUSE = DATA / "warehouse"
SPARK_LOG = (DATA.parent.parent / "examples/spark-events/local-1795878654566").resolve()  # small: quick


def write_audit_config(folder: Path, *, formats: str = '["md", "json"]', out: str = "audit",
                       spark: bool = False, table_storage: bool = False) -> Path:
    """``folder/audit.toml`` with the Snowflake (prod) and BigQuery (analytics) exports, optionally Spark."""
    spark_table = f'\n[[spark]]\nname = "spark"\npaths = ["{SPARK_LOG}"]\n' if spark else ""
    storage_file = WAREHOUSE / "bigquery_table_storage.csv"
    storage = f'\ntable_storage_file = "{storage_file}"' if table_storage else ""
    path = folder / "audit.toml"
    path.write_text(f"""
[output]
dir = "{out}"
formats = {formats}
{spark_table}
[[snowflake]]
name = "prod"
query_history_file = "{WAREHOUSE / 'snowflake_query_history.csv'}"
metering_file = "{WAREHOUSE / 'snowflake_warehouse_metering.csv'}"

[[bigquery]]
name = "analytics"
jobs_file = "{WAREHOUSE / 'bigquery_jobs.jsonl'}"{storage}
""")
    return path
