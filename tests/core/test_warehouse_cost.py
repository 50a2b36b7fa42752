"""Warehouse cost attribution on hand-built histories: every number checked exactly."""

from __future__ import annotations

import pytest
from warehouse_history_factory import HOUR, MINUTE, SECOND, T0, bq_job, sf_query

from analyzer.core.catalog import load_catalog
from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory
from analyzer.core.warehouse_usage import (
    MIB,
    TIB,
    billed_seconds,
    credits_per_hour,
    resize,
    size_index,
    tib_billed,
)

CATALOG = load_catalog("generic")  # $3.00/credit, $6.25/TiB, $0.04/slot-hour (standard)
DAY = 24 * HOUR


def hour(start: int, compute: float, cs: float = 0.0, attributed: float | None = None,
         warehouse: str = "WH") -> MeteringHour:
    return MeteringHour(warehouse=warehouse, start_time_ms=start, end_time_ms=start + HOUR,
                        credits_used=compute + cs, credits_compute=compute, credits_cloud_services=cs,
                        credits_attributed_queries=attributed)


def snowflake(queries, metering=()) -> WarehouseHistory:
    return WarehouseHistory(vendor="snowflake", source="t", window_start_ms=T0, window_end_ms=T0 + DAY,
                            queries=tuple(queries), metering=tuple(metering))


# --- Sizes and per-second billing ---------------------------------------------------------

@pytest.mark.parametrize(("size", "kind", "credits"), [
    ("X-Small", None, 1), ("XSMALL", None, 1), ("x-small", "STANDARD", 1), ("Small", None, 2),
    ("Medium", None, 4), ("LARGE", None, 8), ("X-Large", None, 16), ("2X-Large", None, 32),
    ("XXLARGE", None, 32),
    ("X4LARGE", None, 128), ("6X-Large", None, 512), ("Medium", "SNOWPARK-OPTIMIZED", 6),
    ("6X-Large", "SNOWPARK-OPTIMIZED", 768), ("X-Small", "SNOWPARK-OPTIMIZED", None), ("Huge", None, None),
    (None, None, None),
])
def test_credits_per_hour_by_size(size, kind, credits) -> None:
    assert credits_per_hour(size, kind) == credits


def test_resize_steps_and_clamps() -> None:
    assert resize("X-Large", -3).name == "Small"
    assert resize("X-Large", -3).ddl == "SMALL"
    assert resize("Small", 2).ddl == "LARGE"
    assert resize("Small", -5).name == "X-Small"
    assert resize("5X-Large", 4).name == "6X-Large"
    assert resize("nope", 1) is None
    assert size_index("2XLARGE") == size_index("X2LARGE") == 5


def test_billed_seconds_has_a_60_second_minimum_per_resume() -> None:
    assert billed_seconds([(0, 10 * SECOND)], 60) == 70  # runs 10 s, suspends 60 s later
    assert billed_seconds([(0, 1 * SECOND)], 1) == 60  # 2 s running still bills the minimum
    # two queries 5 minutes apart: two resumes with AUTO_SUSPEND 60, one long period with 600
    spans = [(0, 10 * SECOND), (300 * SECOND, 310 * SECOND)]
    assert billed_seconds(spans, 60) == 140
    assert billed_seconds(spans, 600) == 910
    assert billed_seconds(spans, None) == 310  # never suspends: first start to last end
    assert billed_seconds([], 60) == 0
    # Snowflake's own example: X-Small 61 s = 0.017 credits
    assert round(billed_seconds([(0, 1 * SECOND)], 60) / 3600 * 1, 3) == 0.017


# --- Snowflake cost per query ------------------------------------------------------------

def test_an_hour_is_shared_by_execution_time_excluding_queue_and_compile() -> None:
    q1 = sf_query("q1", "WH", "X-Small", T0 + 10 * MINUTE, 30 * SECOND, compilation_ms=5_000)
    q2 = sf_query("q2", "WH", "X-Small", T0 + 20 * MINUTE, 90 * SECOND, queued_overload_ms=60_000)
    cost = price_history(snowflake([q1, q2], [hour(T0, 1.0, attributed=0.04)]), CATALOG)
    assert cost.queries["q1"].compute_credits == pytest.approx(0.25)
    assert cost.queries["q2"].compute_credits == pytest.approx(0.75)
    assert cost.queries["q1"].usd == pytest.approx(0.75)
    wh = cost.warehouses["WH"]
    assert wh.compute_credits == 1.0 and wh.query_credits == pytest.approx(1.0)
    assert wh.idle_credits == pytest.approx(0.96)  # metered 1.0 − attributed 0.04
    assert wh.idle_usd == pytest.approx(2.88)
    assert cost.total_usd == pytest.approx(3.0)
    assert not cost.queries["q1"].estimated


def test_idle_is_estimated_from_busy_time_when_attribution_is_not_reported() -> None:
    q1 = sf_query("q1", "WH", "X-Small", T0 + 10 * MINUTE, 30 * SECOND)
    q2 = sf_query("q2", "WH", "X-Small", T0 + 10 * MINUTE, 90 * SECOND)  # overlaps q1: 90 s busy
    cost = price_history(snowflake([q1, q2], [hour(T0, 1.0)]), CATALOG)
    assert cost.warehouses["WH"].idle_credits == pytest.approx(1.0 - 90 / 3600)


def test_a_query_across_an_hour_boundary_takes_a_share_of_both_hours() -> None:
    q = sf_query("q", "WH", "X-Small", T0 + 59 * MINUTE, 2 * MINUTE)
    other = sf_query("o", "WH", "X-Small", T0 + HOUR + 30 * MINUTE, 1 * MINUTE)
    cost = price_history(snowflake([q, other], [hour(T0, 1.0), hour(T0 + HOUR, 0.5)]), CATALOG)
    assert cost.queries["q"].compute_credits == pytest.approx(1.0 + 0.25)
    assert cost.queries["o"].compute_credits == pytest.approx(0.25)


def test_hours_without_queries_stay_unattributed() -> None:
    q = sf_query("q", "WH", "X-Small", T0, 1 * MINUTE)
    cost = price_history(snowflake([q], [hour(T0, 0.5), hour(T0 + HOUR, 1.0)]), CATALOG)
    assert cost.queries["q"].compute_credits == pytest.approx(0.5)
    wh = cost.warehouses["WH"]
    assert wh.compute_credits == 1.5 and wh.query_credits == pytest.approx(0.5)


def test_without_metering_credits_are_estimated_from_execution_time_and_size() -> None:
    q = sf_query("q", "WH", "Medium", T0, 15 * MINUTE)
    cost = price_history(snowflake([q]), CATALOG)
    assert cost.queries["q"].compute_credits == pytest.approx(1.0)  # 4 credits/h × 0.25 h
    assert cost.queries["q"].estimated
    assert cost.warehouses["WH"].idle_credits is None and not cost.warehouses["WH"].metered
    assert any("no metering rows" in n and "4 credits/h" in n for n in cost.notes)


def test_cloud_services_are_billed_only_above_ten_percent_of_daily_compute() -> None:
    a = sf_query("a", "WH", "X-Small", T0, MINUTE, credits_cloud_services=1.0)
    b = sf_query("b", "WH", "X-Small", T0 + MINUTE, MINUTE, credits_cloud_services=0.5)
    c = sf_query("c", "WH", "X-Small", T0 + DAY, MINUTE, credits_cloud_services=0.5)
    metering = [hour(T0, 10.0, cs=1.5), hour(T0 + DAY, 10.0, cs=0.5)]
    cost = price_history(snowflake([a, b, c], metering), CATALOG)
    assert cost.cloud_services_billed_credits == pytest.approx(0.5)  # day 1: 1.5 − 1.0; day 2: 0
    assert cost.queries["a"].cloud_services_credits == pytest.approx(1 / 3)
    assert cost.queries["b"].cloud_services_credits == pytest.approx(1 / 6)
    assert cost.queries["c"].cloud_services_credits == 0.0
    assert cost.warehouses["WH"].cloud_services_credits == pytest.approx(0.5)
    assert cost.total_credits == pytest.approx(20.5)
    assert cost.total_usd == pytest.approx(61.5)


def test_cloud_services_only_queries_get_no_compute() -> None:
    show = sf_query("s", "WH", "X-Small", T0, 100, warehouse_size=None, credits_cloud_services=0.2)
    cost = price_history(snowflake([show]), CATALOG)
    assert cost.queries["s"].compute_credits == 0.0
    assert cost.queries["s"].pool == "CLOUD_SERVICES_ONLY"
    assert cost.queries["s"].cloud_services_credits == pytest.approx(0.2)  # no compute that day


# --- BigQuery -------------------------------------------------------------------------------

def bigquery(jobs) -> WarehouseHistory:
    return WarehouseHistory(vendor="bigquery", source="t", window_start_ms=T0, window_end_ms=T0 + DAY,
                            queries=tuple(jobs))


def test_on_demand_bills_at_least_10_mib_per_table_referenced() -> None:
    job = bq_job("j", "p", T0, SECOND, 5 * MIB, 1000, tables=("p.d.a", "p.d.b"))
    assert tib_billed(QueryTable.from_records([job]))[0] == 20 * MIB / TIB
    cost = price_history(bigquery([job]), CATALOG)
    assert cost.queries["j"].usd == pytest.approx(20 * MIB / TIB * 6.25)
    big = bq_job("k", "p", T0, SECOND, 3 * TIB, 1000, tables=("p.d.a",))
    assert tib_billed(QueryTable.from_records([big]))[0] == 3.0


def test_cache_hits_failed_jobs_and_script_parents_are_free() -> None:
    hit = bq_job("hit", "p", T0, SECOND, 0, 0, cache_hit=True)
    failed = bq_job("bad", "p", T0, SECOND, TIB, 1000, status="FAILED")
    parent = bq_job("script", "p", T0, SECOND, 2 * TIB, 7_200_000, statement_type="SCRIPT")
    child = bq_job("child", "p", T0, SECOND, 2 * TIB, 7_200_000, parent_id="script")
    cost = price_history(bigquery([hit, failed, parent, child]), CATALOG)
    assert cost.queries["hit"].usd == 0 and cost.queries["bad"].usd == 0
    assert "script" not in cost.queries
    assert cost.total_usd == pytest.approx(12.5)  # the child's 2 TiB only
    assert any("SCRIPT parent" in n for n in cost.notes)


def test_reservation_jobs_bill_slot_hours_and_both_models_are_compared() -> None:
    on_demand = bq_job("od", "p", T0, SECOND, 2 * TIB, 3_600_000)
    reserved = bq_job("rs", "p", T0, SECOND, TIB, 7_200_000, warehouse="admin:US.etl")
    cost = price_history(bigquery([on_demand, reserved]), CATALOG)
    assert cost.queries["od"].usd == pytest.approx(12.5)
    assert cost.queries["od"].editions_usd == pytest.approx(0.04)
    assert cost.queries["rs"].usd == pytest.approx(0.08)  # 2 slot-hours × $0.04
    assert cost.queries["rs"].on_demand_usd == pytest.approx(6.25)
    assert cost.warehouses["p"].kind == "project" and cost.warehouses["admin:US.etl"].kind == "reservation"
    project = cost.projects["p"]
    totals = (project.on_demand_usd, project.editions_usd, project.actual_usd)
    assert totals == pytest.approx((18.75, 0.12, 12.58))
    enterprise = price_history(bigquery([reserved]), CATALOG, edition="enterprise")
    assert enterprise.queries["rs"].usd == pytest.approx(0.12)


# --- Savings -------------------------------------------------------------------------------

def finding(usage, subject, bucket=None, **evidence) -> Finding:
    return Finding(rule_id="x", severity="high", subject=subject, title="t", evidence=evidence,
                   recommendation="r", savings_bucket=bucket, avoidable_usage=usage)


def test_savings_price_each_billing_unit() -> None:
    sf = price_history(snowflake([sf_query("q", "WH", "X-Small", T0, MINUTE)], [hour(T0, 100.0)]), CATALOG)
    [f] = assign_warehouse_savings([finding({"credits": 12.5}, {"warehouse": "WH"}, paid_credits=20.0)], sf)
    assert f.estimated_savings_usd == 37.5 and f.savings_bucket == "compute"
    assert f.evidence["paid_usd"] == 60.0
    bq = price_history(bigquery([bq_job("j", "p", T0, SECOND, 100 * TIB, 3_600_000_000)]), CATALOG)
    tib, slots, net = assign_warehouse_savings([
        finding({"tib_billed": 0.8}, {"project": "p"}), finding({"slot_hours": 40}, {"project": "p"}),
        finding({"tib_billed": 10, "slot_hours": -500}, {"project": "p"})], bq)
    # Ledger: both TiB claims are on the whole project (100 TiB). The larger standalone saving
    # (10 TiB × $6.25 − 500 slot-hours × $0.04 = $42.50) is counted first; the 0.8 TiB claim is
    # 0.8 % of what is left: 0.008 × 90 TiB = 0.72 TiB × $6.25 = $4.50. Slot-hours are another resource.
    assert net.estimated_savings_usd == 42.5
    assert tib.estimated_savings_usd == 4.5 and slots.estimated_savings_usd == 1.6
    assert tib.claim.overlaps_with == ("x · p",) and net.claim.change_cost_usd == 20.0


def test_savings_on_one_warehouse_never_exceed_its_bill() -> None:
    history = snowflake([sf_query("q", "WH", "X-Small", T0, MINUTE)], [hour(T0, 10.0, attributed=6.0)])
    cost = price_history(history, CATALOG)  # bill $30, idle 4 credits = $12
    out = assign_warehouse_savings([
        finding({"credits": 8.0}, {"warehouse": "WH"}), finding({"credits": 8.0}, {"warehouse": "WH"}),
        finding({"credits": 6.0}, {"warehouse": "WH"}, bucket="idle")], cost)
    # Bill 10 credits ($30); idle part 4 credits. The idle claim (6 credits) is a part claim,
    # counted first and capped at the 4 idle credits ($12). 6 credits are left: the two whole
    # claims of 8 credits (80 % of the bill each) take 80 % of what is left in turn:
    # 0.8 × 6 = 4.8 credits ($14.40), then 0.8 × 1.2 = 0.96 credits ($2.88).
    assert [f.estimated_savings_usd for f in out] == [14.4, 2.88, 12.0]
    assert sum(f.estimated_savings_usd for f in out) <= 30.0
    assert "capped" in out[2].claim.note and out[1].claim.overlaps_with
    lone = assign_warehouse_savings([finding({"credits": 6.0}, {"warehouse": "WH"}, bucket="idle")], cost)
    assert lone[0].estimated_savings_usd == 12.0
