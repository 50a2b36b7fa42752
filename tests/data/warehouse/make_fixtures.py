"""Write the warehouse fixtures of this folder: one synthetic week of BigQuery jobs and
Snowflake queries in the vendors' own column names, each in every export format.

Synthetic because no public per-query history may be redistributed (Snowset and
Redset licenses; see shared/reference/warehouse.md §6). The rows mimic real shapes:
dashboards repeating with different literals (and result-cache hits), SELECT * scans,
dbt scripts with child jobs, failed and cancelled jobs, load jobs, a running job;
Snowflake spills, queueing, a cloud-services-only query, a multi-cluster warehouse.

Regenerate (deterministic) with:  python tests/data/warehouse/make_fixtures.py
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
WEEK = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)  # Monday
PROJECT = "acme-analytics"
PDT = dt.timezone(dt.timedelta(hours=-7))  # the Snowflake account's time zone in Snowsight exports

# --- BigQuery ------------------------------------------------------------------------------

BQ_JOBS_SCHEMA = [
    {"name": "creation_time", "type": "TIMESTAMP"},
    {"name": "project_id", "type": "STRING"},
    {"name": "project_number", "type": "INTEGER"},
    {"name": "user_email", "type": "STRING"},
    {"name": "job_id", "type": "STRING"},
    {"name": "job_type", "type": "STRING"},
    {"name": "statement_type", "type": "STRING"},
    {"name": "priority", "type": "STRING"},
    {"name": "start_time", "type": "TIMESTAMP"},
    {"name": "end_time", "type": "TIMESTAMP"},
    {"name": "query", "type": "STRING"},
    {"name": "state", "type": "STRING"},
    {"name": "reservation_id", "type": "STRING"},
    {"name": "total_bytes_processed", "type": "INTEGER"},
    {"name": "total_slot_ms", "type": "INTEGER"},
    {
        "name": "error_result",
        "type": "RECORD",
        "fields": [
            {"name": "reason", "type": "STRING"},
            {"name": "location", "type": "STRING"},
            {"name": "debug_info", "type": "STRING"},
            {"name": "message", "type": "STRING"},
        ],
    },
    {"name": "cache_hit", "type": "BOOLEAN"},
    {
        "name": "destination_table",
        "type": "RECORD",
        "fields": [
            {"name": "project_id", "type": "STRING"},
            {"name": "dataset_id", "type": "STRING"},
            {"name": "table_id", "type": "STRING"},
        ],
    },
    {
        "name": "referenced_tables",
        "type": "RECORD",
        "mode": "REPEATED",
        "fields": [
            {"name": "project_id", "type": "STRING"},
            {"name": "dataset_id", "type": "STRING"},
            {"name": "table_id", "type": "STRING"},
        ],
    },
    {
        "name": "labels",
        "type": "RECORD",
        "mode": "REPEATED",
        "fields": [{"name": "key", "type": "STRING"}, {"name": "value", "type": "STRING"}],
    },
    {"name": "parent_job_id", "type": "STRING"},
    {"name": "total_bytes_billed", "type": "INTEGER"},
    {
        "name": "query_info",
        "type": "RECORD",
        "fields": [
            {"name": "resource_warning", "type": "STRING"},
            {
                "name": "query_hashes",
                "type": "RECORD",
                "fields": [{"name": "normalized_literals", "type": "STRING"}],
            },
        ],
    },
    {"name": "edition", "type": "STRING"},
]

BQ_STORAGE_SCHEMA = [
    {"name": "project_id", "type": "STRING"},
    {"name": "project_number", "type": "INTEGER"},
    {"name": "table_catalog", "type": "STRING"},
    {"name": "table_schema", "type": "STRING"},
    {"name": "table_name", "type": "STRING"},
    {"name": "creation_time", "type": "TIMESTAMP"},
    {"name": "total_rows", "type": "INTEGER"},
    {"name": "total_partitions", "type": "INTEGER"},
    {"name": "total_logical_bytes", "type": "INTEGER"},
    {"name": "active_logical_bytes", "type": "INTEGER"},
    {"name": "long_term_logical_bytes", "type": "INTEGER"},
    {"name": "total_physical_bytes", "type": "INTEGER"},
    {"name": "deleted", "type": "BOOLEAN"},
    {"name": "table_type", "type": "STRING"},
]

BQ_COLUMNS_LAYOUT = {  # what INFORMATION_SCHEMA.COLUMNS says per table: (columns, partitioned, clustered)
    "sales.orders": (14, True, True),
    "sales.customers": (22, False, False),
    "web.events": (48, True, False),
    "web.sessions": (17, True, True),
    "marts.fct_orders": (31, True, False),
    "marts.dim_customers": (19, False, True),
    "staging.stg_events": (45, False, False),
    "raw.gcs_landing": (9, False, False),
}
_TABLE_SIZES = {
    "sales.orders": (182_400_000, 412 << 30),
    "sales.customers": (3_100_000, 2 << 30),
    "web.events": (9_800_000_000, 21 << 40),
    "web.sessions": (640_000_000, 780 << 30),
    "marts.fct_orders": (182_000_000, 95 << 30),
    "marts.dim_customers": (3_000_000, 3 << 30),
    "staging.stg_events": (1_200_000_000, 2 << 40),
    "raw.gcs_landing": (50_000_000, 40 << 30),
}


def _us(t: dt.datetime) -> int:
    return int(t.timestamp()) * 1_000_000 + t.microsecond


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _ref(table: str) -> dict:
    dataset, name = table.split(".")
    return {"project_id": PROJECT, "dataset_id": dataset, "table_id": name}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _job(rng: random.Random, created: dt.datetime, **fields: object) -> dict:
    queued = dt.timedelta(microseconds=rng.randint(20_000, 900_000))
    run = dt.timedelta(microseconds=int(fields.pop("run_s", 5.0) * 1e6) + rng.randint(0, 999_999))  # type: ignore[arg-type]
    created = created + dt.timedelta(microseconds=rng.randint(0, 999_999))
    job = {
        "creation_time": _us(created),
        "project_id": PROJECT,
        "project_number": 482915033117,
        "user_email": "analyst@acme.com",
        "job_id": f"bquxjob_{_hex(rng, 8)}_{_hex(rng, 11)}",
        "job_type": "QUERY",
        "statement_type": "SELECT",
        "priority": "INTERACTIVE",
        "start_time": _us(created + queued),
        "end_time": _us(created + queued + run),
        "query": None,
        "state": "DONE",
        "reservation_id": None,
        "total_bytes_processed": 0,
        "total_slot_ms": 0,
        "error_result": None,
        "cache_hit": False,
        "destination_table": None,
        "referenced_tables": [],
        "labels": [],
        "parent_job_id": None,
        "total_bytes_billed": 0,
        "query_info": None,
        "edition": None,
    }
    job.update(fields)
    if job["query"] and job["state"] == "DONE" and not job["cache_hit"] and not job["error_result"]:
        normalized = "".join(c for c in str(job["query"]) if not c.isdigit())
        job["query_info"] = {
            "resource_warning": None,
            "query_hashes": {"normalized_literals": _hash(normalized)},
        }
    return job


def _billed(processed: int) -> int:
    """On-demand billing: rounded up to the MB, 10 MB minimum."""
    mb = 1 << 20
    return max(10 * mb, -(-processed // mb) * mb) if processed else 0


def bigquery_jobs() -> list[dict]:
    """The canonical jobs: Python values, timestamps as epoch µs."""
    rng = random.Random(20240506)
    jobs: list[dict] = []
    for day in range(7):
        date = WEEK + dt.timedelta(days=day)
        for hour, cached in ((8, False), (13, True)):
            query = (
                "SELECT region, SUM(amount) AS revenue FROM `acme-analytics.sales.orders` "
                f"WHERE order_date = '2024-05-{6 + day:02d}' GROUP BY region"
            )
            processed = 0 if cached else rng.randint(900, 1400) << 20
            jobs.append(
                _job(
                    rng,
                    date + dt.timedelta(hours=hour),
                    run_s=0.2 if cached else 3.5,
                    user_email="looker-sa@acme-analytics.iam.gserviceaccount.com",
                    query=query,
                    cache_hit=cached,
                    total_bytes_processed=processed,
                    total_bytes_billed=_billed(processed),
                    total_slot_ms=0 if cached else rng.randint(20_000, 60_000),
                    referenced_tables=[] if cached else [_ref("sales.orders")],
                    labels=[{"key": "looker_dashboard", "value": "sales_daily"}],
                )
            )
    for day in (0, 1, 3, 4, 4):
        processed = rng.randint(14, 22) << 40
        user = f"u-{rng.randint(1, 999)}"
        jobs.append(
            _job(
                rng,
                WEEK + dt.timedelta(days=day, hours=10 + day),
                run_s=95.0,
                query=f"SELECT * FROM `acme-analytics.web.events` WHERE user_id = '{user}'\nLIMIT 100",
                total_bytes_processed=processed,
                total_bytes_billed=_billed(processed),
                total_slot_ms=rng.randint(8_000_000, 14_000_000),
                referenced_tables=[_ref("web.events")],
            )
        )
    for day in (1, 3, 5):
        jobs.extend(_dbt_script(rng, WEEK + dt.timedelta(days=day, hours=2)))
    jobs.extend(_odd_jobs(rng))
    jobs.sort(key=lambda j: (j["creation_time"], j["job_id"]))
    return jobs


def _dbt_script(rng: random.Random, created: dt.datetime) -> list[dict]:
    reservation = "acme-admin:US.etl-prod"
    labels = [{"key": "dbt_invocation", "value": _hex(rng, 8)}, {"key": "team", "value": "data-eng"}]
    parent = _job(
        rng,
        created,
        run_s=420.0,
        user_email="dbt-runner@acme-analytics.iam.gserviceaccount.com",
        job_id=f"script_job_{_hex(rng, 32)}",
        statement_type="SCRIPT",
        reservation_id=reservation,
        query=(
            "BEGIN\n  CREATE OR REPLACE TABLE marts.fct_orders AS SELECT ...;\n"
            "  MERGE marts.dim_customers ...;\nEND"
        ),
        cache_hit=None,
        labels=labels,
        edition="ENTERPRISE",
    )
    children = []
    for i, (stmt, target, sources) in enumerate(
        (
            ("CREATE_TABLE_AS_SELECT", "marts.fct_orders", ["sales.orders", "sales.customers"]),
            ("MERGE", "marts.dim_customers", ["sales.customers", "staging.stg_events"]),
        )
    ):
        processed = rng.randint(60, 240) << 30
        children.append(
            _job(
                rng,
                created + dt.timedelta(seconds=2 + 200 * i),
                run_s=180.0,
                user_email=parent["user_email"],
                job_id=f"{parent['job_id']}_{i}",
                statement_type=stmt,
                reservation_id=reservation,
                parent_job_id=parent["job_id"],
                labels=labels,
                edition="ENTERPRISE",
                query=f"{stmt.replace('_', ' ')} {target} AS SELECT * FROM {sources[0]} -- step {i}",
                total_bytes_processed=processed,
                total_bytes_billed=_billed(processed),
                total_slot_ms=rng.randint(3_000_000, 9_000_000),
                referenced_tables=[_ref(s) for s in sources],
                destination_table=_ref(target),
            )
        )
    for key in ("total_bytes_processed", "total_bytes_billed", "total_slot_ms"):
        parent[key] = sum(c[key] for c in children)  # a SCRIPT parent repeats its children's totals
    return [parent, *children]


def _odd_jobs(rng: random.Random) -> list[dict]:
    err = {
        "reason": "invalidQuery",
        "location": "query",
        "debug_info": "",
        "message": "Unrecognized name: revenu at [1:8]",
    }
    stopped = {
        "reason": "stopped",
        "location": None,
        "debug_info": "",
        "message": "Job execution was cancelled: User requested cancellation",
    }
    load = {
        "job_type": "LOAD",
        "statement_type": None,
        "user_email": "airflow@acme-analytics.iam.gserviceaccount.com",
        "destination_table": _ref("raw.gcs_landing"),
        "total_bytes_processed": None,
        "total_bytes_billed": None,
        "total_slot_ms": 41_000,
    }
    end_day = WEEK + dt.timedelta(days=6)
    return [
        _job(
            rng,
            WEEK + dt.timedelta(days=2, hours=11),
            run_s=0.4,
            query="SELECT revenu FROM sales.orders",
            error_result=err,
        ),
        _job(
            rng,
            WEEK + dt.timedelta(days=2, hours=15),
            run_s=61.0,
            error_result=stopped,
            query="SELECT * FROM `acme-analytics.web.sessions`",
            total_bytes_processed=88 << 30,
            total_bytes_billed=88 << 30,
            total_slot_ms=2_400_000,
            referenced_tables=[_ref("web.sessions")],
        ),
        _job(rng, WEEK + dt.timedelta(days=1, hours=1), run_s=30.0, **load),
        _job(rng, WEEK + dt.timedelta(days=4, hours=1), run_s=25.0, **load),
        _job(
            rng,
            end_day + dt.timedelta(hours=23, minutes=50),
            state="RUNNING",
            end_time=None,
            query="SELECT COUNT(*) FROM `acme-analytics.web.events` WHERE event_date >= '2024-01-01'",
            reservation_id="acme-admin:US.adhoc",
            total_slot_ms=None,
            total_bytes_processed=None,
            total_bytes_billed=None,
        ),
        _job(
            rng,
            end_day + dt.timedelta(hours=23, minutes=58),
            state="PENDING",
            start_time=None,
            end_time=None,
            query="SELECT 1",
            total_slot_ms=None,
            total_bytes_processed=None,
            total_bytes_billed=None,
        ),
    ]


def bigquery_table_storage() -> list[dict]:
    rng = random.Random(7)
    rows = []
    for table, (count, size) in _TABLE_SIZES.items():
        dataset, name = table.split(".")
        long_term = size // rng.randint(2, 5)
        rows.append(
            {
                "project_id": PROJECT,
                "project_number": 482915033117,
                "table_catalog": PROJECT,
                "table_schema": dataset,
                "table_name": name,
                "creation_time": _us(WEEK - dt.timedelta(days=400)),
                "total_rows": count,
                "total_partitions": 900 if BQ_COLUMNS_LAYOUT[table][1] else 0,
                "total_logical_bytes": size,
                "active_logical_bytes": size - long_term,
                "long_term_logical_bytes": long_term,
                "total_physical_bytes": size // 6,
                "deleted": False,
                "table_type": "BASE TABLE",
            }
        )
    rows.append({**rows[0], "table_name": "orders_backup_2023", "deleted": True})
    return rows


def _bq_console_time(us: int) -> str:
    t = dt.datetime.fromtimestamp(us // 1_000_000, dt.UTC).replace(microsecond=us % 1_000_000)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _bq_console_value(value: object, field: dict) -> object:
    """A value as the console's JSONL download gives it (INT64 as a string)."""
    if value is None:
        return None
    if field["type"] == "TIMESTAMP":
        return _bq_console_time(value)  # type: ignore[arg-type]
    if field["type"] == "INTEGER":
        return str(value)
    return value


def _bq_cli_value(value: object, field: dict) -> object:
    """A value as ``bq query --format=prettyjson`` gives it: every scalar a string."""
    if value is None:
        return None
    if field["type"] == "RECORD":
        sub = {f["name"]: f for f in field["fields"]}
        convert = lambda rec: {k: _bq_cli_value(v, sub[k]) for k, v in rec.items()}  # noqa: E731
        return [convert(v) for v in value] if field.get("mode") == "REPEATED" else convert(value)  # type: ignore
    if field["type"] == "TIMESTAMP":
        return repr(value / 1e6)  # type: ignore[operator]  # epoch seconds
    if field["type"] == "BOOLEAN":
        return "true" if value else "false"
    return str(value)


def _bq_csv_value(value: object, field: dict) -> str:
    if value is None:
        return ""
    if field["type"] == "RECORD":
        return json.dumps(value, separators=(",", ":"))
    if field["type"] == "TIMESTAMP":
        return _bq_console_time(value)  # type: ignore[arg-type]
    if field["type"] == "BOOLEAN":
        return "true" if value else "false"
    return str(value)


def arrow_type(field: dict) -> pa.DataType:
    """The Arrow type of a BigQuery schema field (as a Parquet export stores it)."""
    base = {
        "STRING": pa.string(),
        "INTEGER": pa.int64(),
        "BOOLEAN": pa.bool_(),
        "FLOAT": pa.float64(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    }
    kind = (
        pa.struct([pa.field(f["name"], arrow_type(f)) for f in field["fields"]])
        if field["type"] == "RECORD"
        else base[field["type"]]
    )
    return pa.list_(kind) if field.get("mode") == "REPEATED" else kind


def _arrow_table(rows: list[dict], schema: list[dict]) -> pa.Table:
    arrays = {}
    for field in schema:
        values = [r[field["name"]] for r in rows]
        kind = arrow_type(field)
        cast = pa.types.is_timestamp(kind)  # epoch µs → timestamp
        arrays[field["name"]] = pa.array(values, pa.int64()).cast(kind) if cast else pa.array(values, kind)
    return pa.table(arrays)


def write_bigquery() -> None:
    jobs, storage = bigquery_jobs(), bigquery_table_storage()
    (HERE / "bigquery_jobs.schema.json").write_text(json.dumps(BQ_JOBS_SCHEMA, indent=1) + "\n")
    (HERE / "bigquery_table_storage.schema.json").write_text(json.dumps(BQ_STORAGE_SCHEMA, indent=1) + "\n")
    with open(HERE / "bigquery_jobs.jsonl", "w") as out:
        for job in jobs:
            out.write(
                json.dumps({f["name"]: _bq_console_value(job[f["name"]], f) for f in BQ_JOBS_SCHEMA}) + "\n"
            )
    cli = [{f["name"]: _bq_cli_value(job[f["name"]], f) for f in BQ_JOBS_SCHEMA} for job in jobs]
    (HERE / "bigquery_jobs.json").write_text(json.dumps(cli, indent=2) + "\n")
    _write_csv(
        HERE / "bigquery_jobs.csv",
        [f["name"] for f in BQ_JOBS_SCHEMA],
        [[_bq_csv_value(j[f["name"]], f) for f in BQ_JOBS_SCHEMA] for j in jobs],
    )
    pq.write_table(_arrow_table(jobs, BQ_JOBS_SCHEMA), HERE / "bigquery_jobs.parquet")
    _write_csv(
        HERE / "bigquery_table_storage.csv",
        [f["name"] for f in BQ_STORAGE_SCHEMA],
        [[_bq_csv_value(r[f["name"]], f) for f in BQ_STORAGE_SCHEMA] for r in storage],
    )


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --- Snowflake -----------------------------------------------------------------------------

SF_QUERY_COLUMNS = [  # (column, Snowflake type) in ACCOUNT_USAGE.QUERY_HISTORY order
    ("QUERY_ID", "VARCHAR"),
    ("QUERY_TEXT", "VARCHAR"),
    ("DATABASE_NAME", "VARCHAR"),
    ("SCHEMA_NAME", "VARCHAR"),
    ("QUERY_TYPE", "VARCHAR"),
    ("SESSION_ID", "NUMBER"),
    ("USER_NAME", "VARCHAR"),
    ("ROLE_NAME", "VARCHAR"),
    ("WAREHOUSE_ID", "NUMBER"),
    ("WAREHOUSE_NAME", "VARCHAR"),
    ("WAREHOUSE_SIZE", "VARCHAR"),
    ("WAREHOUSE_TYPE", "VARCHAR"),
    ("CLUSTER_NUMBER", "NUMBER"),
    ("QUERY_TAG", "VARCHAR"),
    ("EXECUTION_STATUS", "VARCHAR"),
    ("ERROR_CODE", "VARCHAR"),
    ("ERROR_MESSAGE", "VARCHAR"),
    ("START_TIME", "TIMESTAMP_LTZ"),
    ("END_TIME", "TIMESTAMP_LTZ"),
    ("TOTAL_ELAPSED_TIME", "NUMBER"),
    ("BYTES_SCANNED", "NUMBER"),
    ("PERCENTAGE_SCANNED_FROM_CACHE", "FLOAT"),
    ("BYTES_WRITTEN", "NUMBER"),
    ("ROWS_PRODUCED", "NUMBER"),
    ("PARTITIONS_SCANNED", "NUMBER"),
    ("PARTITIONS_TOTAL", "NUMBER"),
    ("BYTES_SPILLED_TO_LOCAL_STORAGE", "NUMBER"),
    ("BYTES_SPILLED_TO_REMOTE_STORAGE", "NUMBER"),
    ("COMPILATION_TIME", "NUMBER"),
    ("EXECUTION_TIME", "NUMBER"),
    ("QUEUED_PROVISIONING_TIME", "NUMBER"),
    ("QUEUED_REPAIR_TIME", "NUMBER"),
    ("QUEUED_OVERLOAD_TIME", "NUMBER"),
    ("TRANSACTION_BLOCKED_TIME", "NUMBER"),
    ("CREDITS_USED_CLOUD_SERVICES", "FLOAT"),
    ("QUERY_LOAD_PERCENT", "NUMBER"),
    ("QUERY_HASH", "VARCHAR"),
    ("QUERY_PARAMETERIZED_HASH", "VARCHAR"),
]
SF_METERING_COLUMNS = [
    ("START_TIME", "TIMESTAMP_LTZ"),
    ("END_TIME", "TIMESTAMP_LTZ"),
    ("WAREHOUSE_ID", "NUMBER"),
    ("WAREHOUSE_NAME", "VARCHAR"),
    ("CREDITS_USED", "FLOAT"),
    ("CREDITS_USED_COMPUTE", "FLOAT"),
    ("CREDITS_USED_CLOUD_SERVICES", "FLOAT"),
    ("CREDITS_ATTRIBUTED_COMPUTE_QUERIES", "FLOAT"),
]
SF_WAREHOUSES = {  # name: (id, size, type, credits/hour)
    "BI_WH": (101, "Small", "STANDARD", 2),
    "ETL_WH": (102, "Large", "STANDARD", 8),
    "ML_WH": (103, "Medium", "SNOWPARK-OPTIMIZED", 6),
}


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


def _sf_query(
    rng: random.Random, start: dt.datetime, warehouse: str | None, text: str, **fields: object
) -> dict:
    start = start + dt.timedelta(milliseconds=rng.randint(0, 59_999))
    compile_ms, queued = rng.randint(40, 400), int(fields.pop("queued_overload", 0))  # type: ignore[call-overload]
    provisioning = int(fields.pop("queued_provisioning", 0))  # type: ignore[call-overload]
    execution = int(fields.pop("execution", rng.randint(300, 9000)))  # type: ignore[call-overload]
    elapsed = compile_ms + queued + provisioning + execution
    wid, size, kind, _ = SF_WAREHOUSES.get(warehouse or "", (None, None, None, 0))
    normalized = "".join(c for c in text if not c.isdigit())
    row = {
        "QUERY_ID": f"01b4{_hex(rng, 4)}-0000-{_hex(rng, 4)}-0000-{_hex(rng, 12)}",
        "QUERY_TEXT": text,
        "DATABASE_NAME": "ANALYTICS",
        "SCHEMA_NAME": "PUBLIC",
        "QUERY_TYPE": "SELECT",
        "SESSION_ID": rng.randint(10**13, 10**14),
        "USER_NAME": "LOOKER",
        "ROLE_NAME": "REPORTER",
        "WAREHOUSE_ID": wid,
        "WAREHOUSE_NAME": warehouse,
        "WAREHOUSE_SIZE": size,
        "WAREHOUSE_TYPE": kind,
        "CLUSTER_NUMBER": 1 if warehouse else None,
        "QUERY_TAG": "",
        "EXECUTION_STATUS": "SUCCESS",
        "ERROR_CODE": None,
        "ERROR_MESSAGE": None,
        "START_TIME": _ms(start),
        "END_TIME": _ms(start) + elapsed,
        "TOTAL_ELAPSED_TIME": elapsed,
        "BYTES_SCANNED": rng.randint(1, 900) << 20 if warehouse else 0,
        "PERCENTAGE_SCANNED_FROM_CACHE": round(rng.random(), 4) if warehouse else 0.0,
        "BYTES_WRITTEN": 0,
        "ROWS_PRODUCED": rng.randint(1, 5000),
        "PARTITIONS_SCANNED": rng.randint(1, 40) if warehouse else 0,
        "PARTITIONS_TOTAL": rng.randint(40, 400) if warehouse else 0,
        "BYTES_SPILLED_TO_LOCAL_STORAGE": 0,
        "BYTES_SPILLED_TO_REMOTE_STORAGE": 0,
        "COMPILATION_TIME": compile_ms,
        "EXECUTION_TIME": execution,
        "QUEUED_PROVISIONING_TIME": provisioning,
        "QUEUED_REPAIR_TIME": 0,
        "QUEUED_OVERLOAD_TIME": queued,
        "TRANSACTION_BLOCKED_TIME": 0,
        "CREDITS_USED_CLOUD_SERVICES": round(compile_ms * 2.7e-6, 9),
        "QUERY_LOAD_PERCENT": 100 if warehouse else None,
        "QUERY_HASH": _hash(text),
        "QUERY_PARAMETERIZED_HASH": _hash(normalized),
    }
    row.update(fields)
    return row


def snowflake_queries() -> list[dict]:
    """The canonical QUERY_HISTORY rows: Python values, timestamps as epoch ms."""
    rng = random.Random(1789)
    rows = []
    for day in range(7):
        date = WEEK + dt.timedelta(days=day)
        for hour in (15, 16, 21):  # BI dashboards in US business hours
            date_literal = f"'2024-05-{6 + day:02d}'"
            text = f"select region, sum(amount) from orders where order_date = {date_literal} group by 1"
            rows.append(
                _sf_query(
                    rng,
                    date + dt.timedelta(hours=hour),
                    "BI_WH",
                    text,
                    queued_provisioning=rng.choice((0, 0, 1450)),
                    QUERY_TAG='{"dashboard":"sales"}',
                )
            )
        rows.append(
            _sf_query(
                rng,
                date + dt.timedelta(hours=3),
                "ETL_WH",
                "insert into marts.fct_orders select o.*, c.segment "
                "from raw.orders o join raw.customers c using (id)",
                QUERY_TYPE="INSERT",
                USER_NAME="DBT",
                ROLE_NAME="TRANSFORMER",
                execution=rng.randint(300_000, 900_000),
                BYTES_SCANNED=rng.randint(200, 400) << 30,
                BYTES_SPILLED_TO_LOCAL_STORAGE=rng.randint(10, 40) << 30,
                BYTES_SPILLED_TO_REMOTE_STORAGE=(rng.randint(1, 9) << 30) if day % 2 else 0,
                PARTITIONS_SCANNED=11800,
                PARTITIONS_TOTAL=12000,
                ROWS_PRODUCED=rng.randint(10**6, 10**7),
                QUERY_TAG='{"dbt_model":"fct_orders"}',
            )
        )
    rows.extend(_sf_odd_queries(rng))
    rows.sort(key=lambda r: (r["START_TIME"], r["QUERY_ID"]))
    return rows


def _sf_odd_queries(rng: random.Random) -> list[dict]:
    tue = WEEK + dt.timedelta(days=1)
    return [
        _sf_query(
            rng,
            tue + dt.timedelta(hours=16),
            "BI_WH",
            "select * from events",
            queued_overload=48_200,
            CLUSTER_NUMBER=2,
            USER_NAME="ANALYST_JO",
            BYTES_SCANNED=84 << 30,
            PARTITIONS_SCANNED=9000,
            PARTITIONS_TOTAL=9000,
        ),
        _sf_query(
            rng,
            tue + dt.timedelta(hours=17),
            "BI_WH",
            "select revenu from orders",
            EXECUTION_STATUS="FAILED_WITH_ERROR",
            ERROR_CODE="000904",
            ERROR_MESSAGE="SQL compilation error: invalid identifier 'REVENU'",
            execution=0,
            ROWS_PRODUCED=0,
        ),
        _sf_query(
            rng,
            tue + dt.timedelta(hours=18),
            "ETL_WH",
            "delete from raw.events where true",
            QUERY_TYPE="DELETE",
            EXECUTION_STATUS="FAILED_WITH_ERROR",
            ERROR_CODE="000604",
            ERROR_MESSAGE="SQL execution canceled",
            execution=125_000,
        ),
        _sf_query(
            rng,
            tue + dt.timedelta(hours=19),
            None,
            "show tables in schema analytics.public",
            QUERY_TYPE="SHOW",
            execution=45,
            ROWS_PRODUCED=31,
        ),
        _sf_query(
            rng,
            tue + dt.timedelta(days=2, hours=20),
            "ML_WH",
            "call train_churn_model('2024-05')",
            QUERY_TYPE="CALL",
            USER_NAME="DS_SVC",
            execution=1_900_000,
            BYTES_SPILLED_TO_LOCAL_STORAGE=3 << 30,
        ),
        _sf_query(
            rng,
            WEEK + dt.timedelta(days=6, hours=23, minutes=58),
            "ETL_WH",
            "copy into raw.events from @landing",
            QUERY_TYPE="COPY",
            EXECUTION_STATUS="RUNNING",
            execution=0,
            ROWS_PRODUCED=None,
        ),
    ]


def snowflake_metering(queries: list[dict]) -> list[dict]:
    """Hourly WAREHOUSE_METERING_HISTORY for every hour a warehouse ran (plus idle tails)."""
    busy: dict[tuple[str, int], int] = {}
    for q in queries:
        if q["WAREHOUSE_NAME"] and q["EXECUTION_STATUS"] != "RUNNING":
            hour = q["START_TIME"] // 3_600_000
            busy[(q["WAREHOUSE_NAME"], hour)] = busy.get((q["WAREHOUSE_NAME"], hour), 0) + q["EXECUTION_TIME"]
    rows = []
    for (name, hour), exec_ms in sorted(busy.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        wid, _, _, rate = SF_WAREHOUSES[name]
        running_s = max(600 + exec_ms / 1000, 60)  # auto-suspend 600 s keeps it up after the last query
        compute = round(min(running_s, 3600) / 3600 * rate, 6)
        cloud = round(exec_ms * 1.1e-8 + 0.0004, 6)
        rows.append(
            {
                "START_TIME": hour * 3_600_000,
                "END_TIME": (hour + 1) * 3_600_000,
                "WAREHOUSE_ID": wid,
                "WAREHOUSE_NAME": name,
                "CREDITS_USED": round(compute + cloud, 6),
                "CREDITS_USED_COMPUTE": compute,
                "CREDITS_USED_CLOUD_SERVICES": cloud,
                "CREDITS_ATTRIBUTED_COMPUTE_QUERIES": round(min(exec_ms / 1000, 3600) / 3600 * rate, 6),
            }
        )
    return rows


def _sf_local_time(ms: int) -> str:
    """Snowsight's CSV style: the account's local time with a numeric offset."""
    t = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(microsecond=(ms % 1000) * 1000).astimezone(PDT)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d} " + t.strftime("%z")


def _sf_iso(ms: int) -> str:
    t = dt.datetime.fromtimestamp(ms // 1000, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _sf_csv(value: object, kind: str) -> str:
    if value is None:
        return ""
    return _sf_local_time(value) if kind == "TIMESTAMP_LTZ" else str(value)  # type: ignore[arg-type]


def _sf_json(value: object, kind: str) -> object:
    return _sf_iso(value) if kind == "TIMESTAMP_LTZ" and value is not None else value  # type: ignore[arg-type]


def snowflake_arrow(rows: list[dict], columns: list[tuple[str, str]]) -> pa.Table:
    kinds = {
        "VARCHAR": pa.string(),
        "NUMBER": pa.int64(),
        "FLOAT": pa.float64(),
        "TIMESTAMP_LTZ": pa.timestamp("ms", tz="UTC"),
    }
    arrays = {}
    for name, kind in columns:
        values = [r[name] for r in rows]
        arrow = kinds[kind]
        arrays[name] = (
            pa.array(values, pa.int64()).cast(arrow) if kind == "TIMESTAMP_LTZ" else pa.array(values, arrow)
        )
    return pa.table(arrays)


def write_snowflake() -> None:
    queries = snowflake_queries()
    metering = snowflake_metering(queries)
    for stem, rows, columns in (
        ("snowflake_query_history", queries, SF_QUERY_COLUMNS),
        ("snowflake_warehouse_metering", metering, SF_METERING_COLUMNS),
    ):
        names = [c for c, _ in columns]
        _write_csv(HERE / f"{stem}.csv", names, [[_sf_csv(r[c], k) for c, k in columns] for r in rows])
        pq.write_table(snowflake_arrow(rows, columns), HERE / f"{stem}.parquet")
        records = [{c: _sf_json(r[c], k) for c, k in columns} for r in rows]
        if stem == "snowflake_query_history":  # SnowSQL's output_format=json: one array
            (HERE / f"{stem}.json").write_text(json.dumps(records, indent=1) + "\n")
        else:
            (HERE / f"{stem}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    write_bigquery()
    write_snowflake()
