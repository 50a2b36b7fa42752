"""Warehouse usage (credits, TiB, slot-hours) of hand-built histories, computed by hand.

Each expected number is a literal with its arithmetic beside it: what
dbt-snowflake-monitoring's ``cost_per_query`` would attribute (metered hourly compute shared by
execution milliseconds in the hour, execution starting after queueing and compilation) and
what BigQuery bills on demand (bytes billed, 10 MiB minimum per table referenced; cache hits,
failed jobs and SCRIPT parents free). They pin the edge cases the mutation run
(tests/mutation/run.py, target ``money_warehouse``) found unchecked: partly reported timings,
a 1 ms piece of an hour, touching intervals, a job without a status or a project.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyzer.core.catalog import load_catalog
from analyzer.core.query_table import QueryTable
from analyzer.core.sql_text import text_fingerprint
from analyzer.core.warehouse_cost import price_history
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, WarehouseHistory
from analyzer.core.warehouse_usage import (
    UNITS,
    billed_seconds,
    billed_seconds_of,
    busy_ms,
    execution_intervals,
    history_usage,
    merged,
    query_fingerprints,
    slot_hours,
    tib_billed,
)

T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC
S, M, H = 1_000, 60_000, 3_600_000
TIB, MIB = 1024**4, 1024**2
nan = math.nan
GENERIC = load_catalog("generic")  # $3.00/credit, $6.25/TiB, $0.04/slot-hour


def sfq(qid: str, start: int | None, end: int | None, *, warehouse: str = "WH", size: str | None = "X-Small",
        kind: str = "STANDARD", **kw: object) -> QueryRecord:
    """A Snowflake query whose timing parts are None (not reported) unless given."""
    fields: dict[str, object] = dict(vendor="snowflake", query_id=qid, start_time_ms=start, end_time_ms=end,
                                     status="SUCCESS", warehouse=warehouse, warehouse_size=size,
                                     warehouse_type=kind, **kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


def hour(start: int, compute: float, warehouse: str = "WH") -> MeteringHour:
    return MeteringHour(warehouse=warehouse, start_time_ms=start, end_time_ms=start + H, credits_used=compute,
                        credits_compute=compute, credits_cloud_services=0.0)


def snowflake(queries: list[QueryRecord], metering: list[MeteringHour] = ()) -> WarehouseHistory:  # type: ignore[assignment]
    return WarehouseHistory(vendor="snowflake", source="hand", window_start_ms=T0, window_end_ms=T0 + 24 * H,
                            queries=tuple(queries), metering=tuple(metering))  # type: ignore[arg-type]


# --- execution intervals: where a query's execution starts ----------------------------------------


def test_execution_starts_after_whichever_waiting_times_are_reported() -> None:
    queries = [
        # only the queue reported; execution_ms 20 s although 50 s remain (transaction blocked):
        # execution starts after the 10 s queue, not 20 s before the end
        sfq("queue", T0, T0 + 60 * S, queued_overload_ms=10 * S, execution_ms=20 * S),
        sfq("compile", T0 + 2 * M, T0 + 3 * M, compilation_ms=5 * S),  # only compilation: + 5 s
        sfq("provision", T0 + 4 * M, T0 + 5 * M, queued_provisioning_ms=7 * S),  # only provisioning: + 7 s
        sfq("all", T0 + 5 * M, T0 + 6 * M, queued_overload_ms=1 * S, compilation_ms=2 * S,
            queued_provisioning_ms=3 * S),  # + 1 + 2 + 3 = 6 s
        sfq("exec_only", T0 + 6 * M, T0 + 7 * M, execution_ms=30 * S),  # no parts: end − 30 s
        sfq("no_parts", T0 + 8 * M, T0 + 9 * M),  # nothing reported: from the start
        sfq("overlong", T0 + 10 * M, T0 + 11 * M, queued_overload_ms=90 * S),  # waited past its end: empty
        sfq("no_start", None, T0 + 12 * M, execution_ms=10 * S),  # unknown times: no interval
        sfq("no_end", T0 + 13 * M, None, compilation_ms=S),
    ]
    lo, hi = execution_intervals(QueryTable.from_records(queries))
    np.testing.assert_array_equal(lo, [T0 + 10 * S, T0 + 2 * M + 5 * S, T0 + 4 * M + 7 * S,
                                       T0 + 5 * M + 6 * S, T0 + 7 * M - 30 * S, T0 + 8 * M, T0 + 11 * M,
                                       nan, nan])
    np.testing.assert_array_equal(hi, [T0 + 60 * S, T0 + 3 * M, T0 + 5 * M, T0 + 6 * M, T0 + 7 * M,
                                       T0 + 9 * M, T0 + 11 * M, nan, nan])
    # Unmetered Medium (4 credits/h): credits = execution ms × 4 / 3,600,000.
    parts = ("queued_overload_ms", "compilation_ms", "queued_provisioning_ms", "execution_ms")
    medium = [sfq(q.query_id, q.start_time_ms, q.end_time_ms, size="Medium",
                  **{k: getattr(q, k) for k in parts}) for q in queries[:2]]
    cost = price_history(snowflake(medium), GENERIC)
    assert cost.queries["queue"].compute_credits == pytest.approx(50 * S * 4 / H)  # 0.0556
    assert cost.queries["compile"].compute_credits == pytest.approx(55 * S * 4 / H)  # 0.0611


# --- merged intervals and per-second billing -------------------------------------------------------


def test_merged_spans_chain_overlaps_and_drop_unknown_times() -> None:
    # [0,10] and [5,20] overlap, [12,25] overlaps the second (not the first): one span [0,25].
    starts, ends = merged(np.array([0.0, 5.0, 12.0, nan, nan]), np.array([10.0, 20.0, 25.0, 30.0, nan]))
    assert starts.tolist() == [0.0] and ends.tolist() == [25.0]
    assert busy_ms(np.array([0.0, 5.0, 12.0]), np.array([10.0, 20.0, 25.0])) == 25.0
    # touching intervals are one running period
    starts, ends = merged(np.array([0.0, 10.0]), np.array([10.0, 20.0]))
    assert starts.tolist() == [0.0] and ends.tolist() == [20.0]


def test_billed_seconds_by_hand() -> None:
    # 1 s queries with AUTO_SUSPEND 1 s: the first keeps the warehouse up to 2 s, when the second
    # starts: one resume of 4 s, billed the 60 s minimum once (not twice).
    assert billed_seconds([(0, S), (2 * S, 3 * S)], 1) == 60.0
    assert billed_seconds([(0, S)], 1, minimum_s=0) == 2.0  # 1 s running + 1 s before suspending
    assert billed_seconds_of(np.array([0.0]), np.array([1000.0]), 1) == 60.0  # the default minimum
    # never suspends: first start to last end, 310 s, whatever the epoch
    assert billed_seconds([(T0, T0 + 10 * S), (T0 + 300 * S, T0 + 310 * S)], None) == 310.0


# --- Snowflake credits per query -------------------------------------------------------------------


def test_snowpark_optimized_rate_prices_unmetered_time() -> None:
    q = sfq("sp", T0, T0 + 10 * M, size="Medium", kind="SNOWPARK-OPTIMIZED", execution_ms=10 * M)
    cost = price_history(snowflake([q]), GENERIC)
    assert cost.queries["sp"].compute_credits == pytest.approx(1.0)  # 6 credits/h × 10 min


def test_cloud_services_only_queries_take_no_share_of_a_metered_hour() -> None:
    busy = sfq("busy", T0, T0 + 30 * M, execution_ms=30 * M)
    show = sfq("show", T0 + 10 * M, T0 + 20 * M, size=None, execution_ms=10 * M)  # ran in cloud services
    cost = price_history(snowflake([busy, show], [hour(T0, 2.0)]), GENERIC)
    assert cost.queries["busy"].compute_credits == pytest.approx(2.0)  # the whole hour
    assert cost.queries["show"].compute_credits == 0.0
    assert not cost.queries["show"].estimated and not cost.queries["busy"].estimated


def test_a_one_millisecond_piece_of_an_hour_takes_that_hour() -> None:
    # In each warehouse one query runs from the last millisecond of hour 0 to 00:30 of hour 1.
    # A and B: hour 0 metered 0.5 credits (the query alone in it: all 0.5), hour 1 metered 1.0.
    # C: only hour 1 is metered; the 1 ms before it is priced at X-Small's 1 credit/h (estimated).
    queries = [sfq(f"q{w}", T0 + H - 1, T0 + H + 30 * M, warehouse=w, execution_ms=30 * M + 1) for w in "ABC"]
    metering = [hour(T0, 0.5, "A"), hour(T0 + H, 1.0, "A"), hour(T0, 0.5, "B"), hour(T0 + H, 1.0, "B"),
                hour(T0 + H, 2.0, "C")]
    cost = price_history(snowflake(queries, metering), GENERIC)
    assert cost.queries["qA"].compute_credits == pytest.approx(1.5, abs=1e-12)  # 0.5 + 1.0
    assert cost.queries["qB"].compute_credits == pytest.approx(1.5, abs=1e-12)
    assert not cost.queries["qA"].estimated and not cost.queries["qB"].estimated
    assert cost.queries["qC"].compute_credits == pytest.approx(2.0 + 1 / H, abs=1e-12)  # 2.0 + 1 ms × 1/h
    assert cost.queries["qC"].estimated


def test_history_usage_of_snowflake_is_credits_only() -> None:
    q = sfq("q", T0, T0 + 30 * M, execution_ms=30 * M)
    usage = history_usage(snowflake([q], [hour(T0, 2.0)]))
    assert [UNITS[u] for u in usage.unit] == ["credits"]
    assert usage.billed.tolist() == [2.0] and usage.credits.tolist() == [2.0]
    assert usage.tib_billed.tolist() == [0.0] and usage.slot_hours.tolist() == [0.0]
    assert usage.script.tolist() == [False] and usage.pool.tolist() == ["WH"]


# --- BigQuery: TiB on demand, slot-hours on a reservation -------------------------------------------


def bq(jid: str, billed: int | None, *, scanned: int = 0, tables: int = 1, slot_ms: int = 0,
       **kw: object) -> QueryRecord:
    fields: dict[str, object] = dict(
        vendor="bigquery", query_id=jid, start_time_ms=T0, end_time_ms=T0 + M, status="DONE",
        query_text=f"select {jid}", statement_type="SELECT", project="proj", bytes_scanned=scanned,
        bytes_billed=billed, slot_ms=slot_ms, referenced_tables=tuple(f"d.t{i}" for i in range(tables)))
    fields.update(kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


JOBS = [
    bq("plain", 2 * TIB, slot_ms=2 * H),  # 2 TiB, 2 slot-hours
    bq("script", 3 * TIB, slot_ms=5 * H, statement_type="script"),  # a SCRIPT parent: nothing
    bq("untyped", TIB, slot_ms=H, statement_type=None),  # no statement type: billed as a query
    bq("estimated", None, scanned=TIB),  # bytes billed not reported: the bytes scanned, 1 TiB
    bq("ddl", 0, tables=0),  # 0 bytes billed: free, no 10 MiB minimum
    bq("one_byte", 1, tables=0),  # 1 byte, no table: the 10 MiB minimum
    bq("error", TIB, status="ERROR"),  # failed: free
    bq("no_status", TIB, status=None),  # status not exported: billed
    bq("reserved", TIB, slot_ms=3 * H, warehouse="admin:US.etl"),  # editions: 3 slot-hours
    bq("orphan", TIB, project=None),  # no project, no reservation
]
# plain, script, untyped, estimated, ddl, one_byte, error, no_status, reserved, orphan
EXPECTED_TIB = [2.0, 0.0, 1.0, 1.0, 0.0, 10 * MIB / TIB, 0.0, 1.0, 1.0, 1.0]
EXPECTED_SLOT_HOURS = [2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0]


def test_bigquery_tib_and_slot_hours_by_hand() -> None:
    table = QueryTable.from_records(JOBS)
    assert tib_billed(table).tolist() == EXPECTED_TIB  # SCRIPT parents found without being told
    assert slot_hours(table).tolist() == EXPECTED_SLOT_HOURS


def test_bigquery_history_usage_by_hand() -> None:
    history = WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + H,
                               queries=tuple(JOBS))  # type: ignore[arg-type]
    usage = history_usage(history)
    units = [UNITS[u] for u in usage.unit]
    assert units == ["tib_billed"] * 8 + ["slot_hours", "tib_billed"]
    # what each job is billed in its unit: TiB on demand, slot-hours for the reserved job
    assert usage.billed.tolist() == EXPECTED_TIB[:8] + [3.0, 1.0]
    assert usage.tib_billed.tolist() == EXPECTED_TIB and usage.slot_hours.tolist() == EXPECTED_SLOT_HOURS
    assert usage.credits.tolist() == [0.0] * 10
    assert usage.script.tolist() == [False, True] + [False] * 8
    assert usage.estimated.tolist() == [False, False, False, True] + [False] * 6  # bytes billed missing
    assert usage.pool.tolist() == ["proj"] * 8 + ["admin:US.etl", "(unknown project)"]
    cost = price_history(history, GENERIC)
    assert cost.warehouses["(unknown project)"].usd == pytest.approx(6.25)
    assert cost.projects["(unknown project)"].on_demand_usd == pytest.approx(6.25)
    assert cost.queries["estimated"].estimated and not cost.queries["plain"].estimated


def test_a_free_job_without_bytes_billed_is_not_an_estimate() -> None:
    # bytes billed not reported: a cache hit (free) is not estimated, a job priced from its
    # 1 TiB scanned is
    jobs = (bq("hit", None, scanned=TIB, cache_hit=True), bq("scan", None, scanned=TIB))
    history = WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + H,
                               queries=jobs)  # type: ignore[arg-type]
    usage = history_usage(history)
    assert usage.tib_billed.tolist() == [0.0, 1.0] and usage.estimated.tolist() == [False, True]


# --- fingerprints: runs of one query -------------------------------------------------------------


def test_fingerprints_group_runs_that_differ_only_in_literals() -> None:
    def run(qid: str, text: str, vendor: str = "bigquery", query_hash: str | None = None) -> QueryRecord:
        return QueryRecord(vendor=vendor, query_id=qid, start_time_ms=T0, end_time_ms=T0 + S, status="DONE",
                           query_text=text, query_hash=query_hash)

    # BigQuery: "..." is a string literal, so the two runs are one query.
    bigquery = QueryTable.from_records([
        run("a", 'select x from t where name = "bob"'), run("b", 'select x from t where name = "alice"'),
        run("c", "select y from t where id = 1"), run("d", "whatever", query_hash="vendor-hash-1"),
        run("e", "")])
    prints = query_fingerprints(bigquery)
    assert prints[0] == prints[1] != prints[2]
    assert prints[3] == "vendor-hash-1"  # the vendor's parameterized hash wins
    assert prints[4] == text_fingerprint("")
    # Snowflake: "..." is an identifier; different columns, different queries.
    snowflake_table = QueryTable.from_records([
        run("a", 'select x from t where "bob" = 1', "snowflake"),
        run("b", 'select x from t where "alice" = 1', "snowflake")])
    prints = query_fingerprints(snowflake_table)
    assert prints[0] != prints[1]
