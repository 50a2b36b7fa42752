"""Small generators of warehouse query histories: one week, each with one planted problem.

Rows use the vendors' semantics (Snowflake QUERY_HISTORY times in ms, WAREHOUSE_METERING_HISTORY
hourly credits; BigQuery JOBS bytes billed and slot-ms). Metering is simulated here on its
own, independently of analyzer.core.warehouse_cost: a warehouse resumes at a query, suspends
AUTO_SUSPEND seconds after the last one, and bills by the second with 60 s per resume.
"""

from __future__ import annotations

from collections.abc import Iterable

from analyzer.core.warehouse_model import (
    MeteringHour,
    QueryRecord,
    TableStorage,
    WarehouseHistory,
    WarehouseSettings,
)

T0 = 1_793_577_600_000  # Monday 2026-11-02 00:00 UTC
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
GiB = 1024**3
TiB = 1024**4
RATE = {"X-Small": 1, "Small": 2, "Medium": 4, "Large": 8, "X-Large": 16}


def sf_query(qid: str, warehouse: str, size: str, start: int, exec_ms: int, text: str = "select 1",
             **kw: object) -> QueryRecord:
    """A successful Snowflake query: compile and queue times precede execution, as in QUERY_HISTORY."""
    compile_ms = int(kw.pop("compilation_ms", 0))  # type: ignore[call-overload]
    queued = int(kw.pop("queued_overload_ms", 0))  # type: ignore[call-overload]
    end = start + compile_ms + queued + exec_ms
    fields: dict[str, object] = dict(
        vendor="snowflake", query_id=qid, start_time_ms=start, end_time_ms=end, status="SUCCESS",
        query_text=text, statement_type="SELECT", warehouse=warehouse, warehouse_size=size,
        warehouse_type="STANDARD", execution_ms=exec_ms, compilation_ms=compile_ms, queued_overload_ms=queued,
        queued_provisioning_ms=0, total_elapsed_ms=end - start, user="ANALYST")
    fields.update(kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


def bq_job(jid: str, project: str, start: int, duration_ms: int, bytes_billed: int, slot_ms: int,
           text: str = "select 1", tables: tuple[str, ...] = (), **kw: object) -> QueryRecord:
    """A successful BigQuery query job (on demand unless ``warehouse`` names a reservation)."""
    fields: dict[str, object] = dict(
        vendor="bigquery", query_id=jid, start_time_ms=start, end_time_ms=start + duration_ms, status="DONE",
        query_text=text, statement_type="SELECT", project=project, bytes_scanned=bytes_billed,
        bytes_billed=bytes_billed, slot_ms=slot_ms, referenced_tables=tables, job_type="QUERY",
        total_elapsed_ms=duration_ms)
    fields.update(kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


def metering(queries: Iterable[QueryRecord], warehouse: str, size: str, auto_suspend_s: int,
             cs_per_hour: float = 0.0) -> tuple[MeteringHour, ...]:
    """Hourly WAREHOUSE_METERING_HISTORY rows for a single-cluster warehouse running ``queries``."""
    spans = sorted((q.end_time_ms - (q.execution_ms or 0), q.end_time_ms) for q in queries  # type: ignore[operator]
                   if q.warehouse == warehouse)
    periods: list[list[int]] = []
    for lo, hi in spans:
        if periods and lo <= periods[-1][1]:
            periods[-1][1] = max(periods[-1][1], hi + auto_suspend_s * SECOND)
        else:
            periods.append([lo, hi + auto_suspend_s * SECOND])
    busy: list[list[int]] = []
    for lo, hi in spans:
        if busy and lo <= busy[-1][1]:
            busy[-1][1] = max(busy[-1][1], hi)
        else:
            busy.append([lo, hi])
    running: dict[int, float] = {}
    used: dict[int, float] = {}
    for target, rows in ((running, periods), (used, busy)):
        for lo, hi in rows:
            if target is running and hi - lo < MINUTE:
                hi = lo + MINUTE
            t = lo
            while t < hi:
                hour = t - (t - T0) % HOUR
                step = min(hi, hour + HOUR) - t
                target[hour] = target.get(hour, 0.0) + step / HOUR * RATE[size]
                t += step
    return tuple(MeteringHour(warehouse=warehouse, start_time_ms=h, end_time_ms=h + HOUR,
                              credits_used=running[h] + cs_per_hour, credits_compute=running[h],
                              credits_cloud_services=cs_per_hour, credits_attributed_queries=used.get(h, 0.0))
                 for h in sorted(running))


def snowflake_history(queries: list[QueryRecord], warehouse: str, size: str, auto_suspend_s: int,
                      tables: tuple[TableStorage, ...] = ()) -> WarehouseHistory:
    """A week of one Snowflake warehouse, with its metering and settings."""
    return WarehouseHistory(
        vendor="snowflake", source=f"snowflake:{warehouse}", window_start_ms=T0, window_end_ms=T0 + WEEK,
        queries=tuple(queries), metering=metering(queries, warehouse, size, auto_suspend_s), tables=tables,
        warehouses=(WarehouseSettings(name=warehouse, size=size, auto_suspend_s=auto_suspend_s,
                                      min_cluster_count=1, max_cluster_count=1),))


def bigquery_history(queries: list[QueryRecord], tables: tuple[TableStorage, ...] = ()) -> WarehouseHistory:
    """A week of BigQuery jobs."""
    return WarehouseHistory(vendor="bigquery", source="bigquery:region-us", window_start_ms=T0,
                            window_end_ms=T0 + WEEK, queries=tuple(queries), tables=tables)


# --- Planted problems --------------------------------------------------------------------

ORDERS = TableStorage(table="SALES.PUBLIC.ORDERS", total_logical_bytes=10**12, total_rows=8_000_000_000,
                      clustered=False, column_count=18)


def snowflake_full_scan_week() -> WarehouseHistory:
    """A daily lookup by customer scans 9,990 of 10,000 micro-partitions of a 1 TB table."""
    text = "SELECT order_id, amount FROM sales.public.orders WHERE customer_id = 4711 -- ticket 99"
    queries = [sf_query(f"fs-{d}", "ANALYTICS_WH", "Large", T0 + d * DAY + 9 * HOUR, 600 * SECOND, text,
                        bytes_scanned=10**12, partitions_scanned=9_990, partitions_total=10_000,
                        referenced_tables=("SALES.PUBLIC.ORDERS",)) for d in range(7)]
    return snowflake_history(queries, "ANALYTICS_WH", "Large", 60, (ORDERS,))


EVENTS = TableStorage(table="acme-analytics.web.events", total_logical_bytes=TiB, partitioned=True,
                      clustered=False, column_count=40)


def bigquery_full_scan_week() -> WarehouseHistory:
    """A daily job reads 98 % of a 1 TiB date-partitioned table without a partition filter."""
    text = "SELECT user_id, event_type FROM `acme-analytics.web.events` WHERE user_id = 'u-42'"
    jobs = [bq_job(f"bfs-{d}", "acme-analytics", T0 + d * DAY + 6 * HOUR, 120 * SECOND, int(0.98 * TiB),
                   3_600_000, text, ("acme-analytics.web.events",)) for d in range(7)]
    return bigquery_history(jobs, (EVENTS,))


CUSTOMERS = TableStorage(table="acme-bi.crm.customers", total_logical_bytes=200 * GiB, partitioned=False,
                         column_count=120)


def select_star_week() -> WarehouseHistory:
    """Analysts look at a 120-column, 200 GiB table with SELECT * … LIMIT 100, 20 times a week."""
    jobs = [bq_job(f"ss-{i}", "acme-bi", T0 + i * 8 * HOUR, 30 * SECOND, 200 * GiB, 600_000,
                   "SELECT * FROM `acme-bi.crm.customers` WHERE country = 'FR' LIMIT 100",
                   ("acme-bi.crm.customers",)) for i in range(20)]
    return bigquery_history(jobs, (CUSTOMERS,))


def dashboard_week() -> WarehouseHistory:
    """A dashboard tile runs the same aggregate every 15 minutes, all week (672 paid runs)."""
    text = ("select region, sum(amount) from sales.public.daily_sales "
            "where day >= '2026-10-01' and region in ('EU', 'US') group by region")
    queries = [sf_query(f"db-{i}", "BI_WH", "Small", T0 + i * 15 * MINUTE, 20 * SECOND, text,
                        bytes_scanned=2 * GiB, partitions_scanned=40, partitions_total=400)
               for i in range(672)]
    return snowflake_history(queries, "BI_WH", "Small", 600)


def oversized_week() -> WarehouseHistory:
    """An X-Large warehouse serves 2-second lookups, 30 an hour from 08:00 to 20:00."""
    queries = [sf_query(f"ov-{d}-{h}-{k}", "APP_WH", "X-Large", T0 + d * DAY + h * HOUR + k * 2 * MINUTE,
                        2 * SECOND, f"select * from app.public.accounts where id = {d * 1000 + h * 30 + k}",
                        bytes_scanned=50 * 1024**2, partitions_scanned=1, partitions_total=2_000)
               for d in range(7) for h in range(8, 20) for k in range(30)]
    return snowflake_history(queries, "APP_WH", "X-Large", 60)


def undersized_week() -> WarehouseHistory:
    """A Small warehouse runs an hourly batch of 8 heavy queries that spill remotely and queue."""
    queries = []
    for d in range(7):
        for h in range(24):
            for k in range(8):
                heavy = k < 4
                queries.append(sf_query(
                    f"un-{d}-{h}-{k}", "TRANSFORM_WH", "Small", T0 + d * DAY + h * HOUR, 20 * MINUTE,
                    f"insert into mart.t{k} select * from raw.events_{k} join raw.users_{k} using (id)",
                    statement_type="INSERT", bytes_scanned=40 * GiB, partitions_scanned=100,
                    partitions_total=1_000, spilled_local_bytes=16 * GiB if heavy else 0,
                    spilled_remote_bytes=24 * GiB if heavy else 0,
                    queued_overload_ms=0 if k < 4 else 10 * MINUTE))
    return snowflake_history(queries, "TRANSFORM_WH", "Small", 60)


def idle_week() -> WarehouseHistory:
    """A Medium warehouse works 15 minutes each hour and idles 45 with AUTO_SUSPEND = 3600."""
    queries = [sf_query(f"id-{h}-{k}", "REPORTING_WH", "Medium", T0 + h * HOUR + k * MINUTE, 55 * SECOND,
                        f"select count(*) from rpt.public.kpi_{k} where hour = {h}",
                        bytes_scanned=200 * 1024**2, partitions_scanned=2, partitions_total=50)
               for h in range(7 * 24) for k in range(15)]
    return snowflake_history(queries, "REPORTING_WH", "Medium", 3600)


def on_demand_heavy_week() -> WarehouseHistory:
    """A project scans 0.5 TiB every 5 minutes on demand, using about 440 slots around the clock."""
    jobs = [bq_job(f"od-{i}", "acme-etl", T0 + i * 5 * MINUTE, 5 * MINUTE, TiB // 2, 132_000_000,
                   f"insert into `acme-etl.mart.sessions` select * from `acme-etl.raw.hits` "
                   f"where batch = {i}",
                   ("acme-etl.raw.hits",), statement_type="INSERT") for i in range(7 * 24 * 12)]
    return bigquery_history(jobs)


# --- Healthy -------------------------------------------------------------------------------

def healthy_snowflake_week() -> WarehouseHistory:
    """A Medium ETL warehouse busy 08:00-18:00 with 2-minute pruned loads, AUTO_SUSPEND = 60."""
    queries = [sf_query(f"ok-{d}-{i}", "ETL_WH", "Medium", T0 + d * DAY + 8 * HOUR + i * 130 * SECOND,
                        120 * SECOND,
                        f"insert into mart.facts_{i % 7} select a, b from raw.src where day = {d}",
                        statement_type="INSERT", bytes_scanned=5 * GiB, partitions_scanned=100,
                        partitions_total=1_000, compilation_ms=300)
               for d in range(7) for i in range(276)]
    return snowflake_history(queries, "ETL_WH", "Medium", 60)


def healthy_bigquery_week() -> WarehouseHistory:
    """A project's analysts run a few pruned, column-listing queries a day on demand."""
    jobs = [bq_job(f"hb-{d}-{k}", "acme-adhoc", T0 + d * DAY + (9 + k) * HOUR, 40 * SECOND, 30 * GiB,
                   20_000_000, f"SELECT user_id, event_type FROM `acme-analytics.web.events` "
                   f"WHERE event_date = '2026-11-0{d + 2}' AND country = 'c{k}'",
                   ("acme-analytics.web.events",)) for d in range(7) for k in range(6)]
    return bigquery_history(jobs, (EVENTS,))
