"""Warehouse rules: one planted-problem week per rule, a healthy week, and each measure() exactly."""

from __future__ import annotations

import json
import math

import pytest
import warehouse_history_factory as wf
from warehouse_history_factory import HOUR, MINUTE, SECOND, T0, GiB, TiB, bq_job, sf_query

from analyzer.core.catalog import load_catalog
from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, TableStorage
from rules.registry import rules_by_id, run_warehouse_rules
from rules.warehouse import (
    bigquery_pricing_model,
    full_scan,
    repeated_query,
    select_star,
    snowflake_idle,
    snowflake_oversized,
    snowflake_undersized,
)

CATALOG = load_catalog("generic")
WAREHOUSE_RULES = {"warehouse.full-scan", "warehouse.select-star", "warehouse.repeated-query",
                   "snowflake.oversized-warehouse", "snowflake.undersized-warehouse",
                   "snowflake.idle-warehouse", "bigquery.pricing-model"}
LEVELS = [None, "low", "medium", "high", "critical"]


def analyze(history) -> list[Finding]:
    """Run every rule and price the findings, as the report will."""
    return assign_warehouse_savings(run_warehouse_rules([history]), price_history(history, CATALOG))


def only(findings: list[Finding], rule_id: str, **subject: object) -> Finding:
    matches = [f for f in findings if f.rule_id == rule_id
               and all(f.subject.get(k) == v for k, v in subject.items())]
    assert len(matches) == 1, [(f.rule_id, f.subject) for f in findings]
    return matches[0]


def test_every_warehouse_rule_is_registered() -> None:
    assert {r for r, cls in rules_by_id().items() if cls.kind == "warehouse"} == WAREHOUSE_RULES


# --- Planted problems ------------------------------------------------------------------------

def test_snowflake_full_scan_recommends_clustering_on_the_filter_column() -> None:
    history = wf.snowflake_full_scan_week()
    f = only(analyze(history), "warehouse.full-scan")
    assert f.severity == "critical"  # 9,990 / 10,000 partitions
    assert f.subject == {"vendor": "snowflake", "warehouse": "ANALYTICS_WH", "table": "SALES.PUBLIC.ORDERS"}
    assert f.recommendation.startswith("ALTER TABLE SALES.PUBLIC.ORDERS CLUSTER BY (customer_id);")
    assert f.evidence["queries"] == 7 and f.evidence["scan_fraction_median"] == 0.999
    assert f.evidence["example_sql"] == (
        "SELECT order_id, amount FROM sales.public.orders WHERE customer_id = ?")  # literal and comment gone
    fraction = 1 - 0.1 / 0.999
    paid = f.evidence["paid_credits"]
    assert f.avoidable_usage["credits"] == pytest.approx(paid * fraction, rel=1e-6)
    assert f.estimated_savings_usd == pytest.approx(paid * fraction * 3.0, abs=0.01)
    bill = price_history(history, CATALOG).warehouses["ANALYTICS_WH"].usd
    assert paid * 3.0 == pytest.approx(bill, rel=1e-6)  # the only queries: they carry the whole bill


def test_bigquery_full_scan_recommends_require_partition_filter() -> None:
    f = only(analyze(wf.bigquery_full_scan_week()), "warehouse.full-scan")
    assert f.severity == "high"  # 0.98 of the table
    assert f.subject["table"] == "acme-analytics.web.events" and f.subject["project"] == "acme-analytics"
    assert ("ALTER TABLE `acme-analytics.web.events` SET OPTIONS (require_partition_filter = TRUE);"
            in f.recommendation)
    assert "--clustering_fields=user_id" in f.recommendation
    assert f.avoidable_usage["tib_billed"] == pytest.approx(7 * 0.98 * (1 - 0.1 / 0.98), rel=1e-5)
    assert "u-42" not in json.dumps(dict(f.evidence)) + f.title + f.recommendation


def test_select_star_over_a_wide_table() -> None:
    findings = analyze(wf.select_star_week())
    f = only(findings, "warehouse.select-star")
    assert f.severity == "high"  # 1 − 10/120 = 0.917
    assert f.subject == {"vendor": "bigquery", "project": "acme-bi", "table": "acme-bi.crm.customers"}
    assert "FROM `acme-bi.crm.customers` (the table has 120 columns)" in f.recommendation
    assert "SELECT * EXCEPT" in f.recommendation and "table preview" in f.recommendation
    tib = 20 * 200 / 1024
    assert f.evidence["paid_tib_billed"] == pytest.approx(tib)
    assert f.avoidable_usage["tib_billed"] == pytest.approx(tib * (1 - 10 / 120), rel=1e-5)
    assert f.evidence["example_sql"] == "SELECT * FROM `acme-bi.crm.customers` WHERE country = ? LIMIT ?"
    # the table is not partitioned and LIMIT does not stop the scan: a full scan too, with partitioning DDL
    scan = only(findings, "warehouse.full-scan")
    assert scan.severity == "critical" and "PARTITION BY DATE(<timestamp column>) CLUSTER BY country" in (
        scan.recommendation)
    bill = price_history(wf.select_star_week(), CATALOG).warehouses["acme-bi"].usd
    # one ledger: both fixes cut the same scans (the whole bill); SELECT * (110/120 of the bytes, the
    # larger) is counted first, the scan fix on the TiB it leaves: together 1 − (1 − a)(1 − b) of the bill
    a, b = scan.avoidable_usage["tib_billed"] / tib, 1 - 10 / 120
    assert f.estimated_savings_usd == pytest.approx(bill * b, abs=0.01)
    assert f.estimated_savings_usd + scan.estimated_savings_usd == pytest.approx(
        bill * (1 - (1 - a) * (1 - b)), abs=0.02)  # each saving rounded down to the cent
    assert scan.claim.overlaps_with == ("warehouse.select-star · acme-bi.crm.customers",)


def test_dashboard_on_a_timer_is_a_repeated_query() -> None:
    history = wf.dashboard_week()
    findings = analyze(history)
    f = only(findings, "warehouse.repeated-query")
    assert f.severity == "high"  # 96 runs a day
    assert f.evidence["paid_runs"] == 672 and f.evidence["timer_detected"] is True
    assert f.evidence["median_interval_s"] == 900.0 and f.evidence["regular_share"] == 1.0
    assert f.evidence["needed_runs"] == 168  # hourly refresh over 167.75 h
    assert "on a timer" in f.title and "every 15 min" in f.title
    assert "CREATE DYNAMIC TABLE" in f.recommendation
    assert "TARGET_LAG = '60 minutes' WAREHOUSE = BI_WH" in f.recommendation
    bill = price_history(history, CATALOG).warehouses["BI_WH"].usd
    assert f.evidence["paid_usd"] == pytest.approx(bill, abs=0.01)  # the dashboard is the whole bill
    assert f.avoidable_usage["credits"] == pytest.approx(f.evidence["paid_credits"] * 0.75, rel=1e-5)
    # after each 20-s run the warehouse idles 600 s before it suspends: both findings share the bill
    idle = only(findings, "snowflake.idle-warehouse")
    assert "SET AUTO_SUSPEND = 60;" in idle.recommendation and "880 s apart" in idle.recommendation
    # one ledger: idle time counted first; the dashboard's 75 % counted on the credits idle left
    assert f.estimated_savings_usd == pytest.approx(0.75 * (bill - idle.estimated_savings_usd), abs=0.02)
    assert f.estimated_savings_usd + idle.estimated_savings_usd <= bill
    assert "2026-10-01" not in json.dumps(dict(f.evidence)) + f.title


def test_x_large_warehouse_running_two_second_queries_is_oversized() -> None:
    history = wf.oversized_week()
    f = only(analyze(history), "snowflake.oversized-warehouse")
    assert f.severity == "critical"  # 2 s × 2^4 ≤ 60 s: four steps possible
    assert f.recommendation.startswith("ALTER WAREHOUSE APP_WH SET WAREHOUSE_SIZE = 'SMALL';")
    assert "16 → 2 credits/h" in f.recommendation
    metered = sum(m.credits_compute for m in history.metering)
    assert f.evidence["compute_credits"] == pytest.approx(metered, abs=1e-4)
    assert f.avoidable_usage["credits"] == pytest.approx(metered * 0.875, rel=1e-6)
    assert f.estimated_savings_usd == pytest.approx(metered * 0.875 * 3.0, abs=0.01)


def test_small_warehouse_spilling_and_queueing_is_undersized() -> None:
    findings = analyze(wf.undersized_week())
    spill = only(findings, "snowflake.undersized-warehouse", cause="spill")
    assert spill.severity == "critical"  # half the execution time is in remote-spilling queries
    assert spill.recommendation.startswith("ALTER WAREHOUSE TRANSFORM_WH SET WAREHOUSE_SIZE = 'LARGE';")
    assert spill.evidence["remote_spilled_bytes"] == 7 * 24 * 4 * 24 * GiB
    assert spill.evidence["extra_credits_per_hour"] == 6.0 and spill.estimated_savings_usd == 0.0
    queue = only(findings, "snowflake.undersized-warehouse", cause="queueing")
    assert queue.severity == "high"  # 40 of 200 minutes elapsed were queued: 0.2
    assert "MAX_CLUSTER_COUNT = 3 SCALING_POLICY = 'STANDARD'" in queue.recommendation
    assert "Enterprise" in queue.recommendation
    assert not [f for f in findings if f.rule_id == "warehouse.select-star"]  # INSERT … SELECT * copies rows


def test_warehouse_idle_45_minutes_an_hour_gets_a_short_auto_suspend() -> None:
    history = wf.idle_week()
    f = only(analyze(history), "snowflake.idle-warehouse")
    assert f.severity == "high"
    assert f.recommendation.startswith("ALTER WAREHOUSE REPORTING_WH SET AUTO_SUSPEND = 60;")
    assert f.evidence["auto_suspend_s"] == 3600 and f.evidence["p90_gap_within_bursts_s"] == 5.0
    busy_h = 15 * 55 / 3600  # per hour
    metered = f.evidence["metered_credits"]
    assert f.evidence["idle_share"] == pytest.approx(1 - busy_h * 4 * 168 / metered, abs=1e-4)
    # with AUTO_SUSPEND = 60 each hour bills 14 min 55 s of work + 60 s: 15 min 55 s
    assert f.evidence["simulated_billed_s_recommended"] == 168 * (15 * 60 - 5 + 60)
    saved = (f.evidence["simulated_billed_s_current"] - 168 * 955) / 3600 * 4
    assert f.avoidable_usage["credits"] == pytest.approx(saved, rel=1e-6)
    assert f.savings_bucket == "idle" and f.estimated_savings_usd == pytest.approx(saved * 3.0, abs=0.01)


def test_steady_on_demand_project_is_told_to_buy_a_reservation() -> None:
    f = only(analyze(wf.on_demand_heavy_week()), "bigquery.pricing-model")
    assert f.severity == "high"
    assert f.subject == {"vendor": "bigquery", "project": "acme-etl"}
    assert "slot_capacity = 450" in f.recommendation and "autoscale_max_slots = 0" in f.recommendation
    assert "assignee = 'projects/acme-etl'" in f.recommendation
    on_demand_tib, reservation_slot_hours = 2016 * 0.5, 450 * 168
    assert f.evidence["tib_billed"] == on_demand_tib
    assert f.evidence["reservation_slot_hours"] == reservation_slot_hours
    fraction = 1 - reservation_slot_hours / (on_demand_tib * 156.25)
    assert f.evidence["savings_fraction"] == pytest.approx(fraction, abs=1e-4)
    assert f.evidence["monthly_tib_billed"] == pytest.approx(on_demand_tib * 30.44 / 7, abs=0.01)
    assert f.estimated_savings_usd == pytest.approx(on_demand_tib * 6.25 - reservation_slot_hours * 0.04)


@pytest.mark.parametrize("make", [wf.healthy_snowflake_week, wf.healthy_bigquery_week])
def test_healthy_warehouse_has_no_finding_of_medium_or_higher(make) -> None:
    assert [(f.rule_id, f.severity) for f in analyze(make()) if f.severity_rank >= 1] == []


@pytest.mark.parametrize("make", [wf.snowflake_full_scan_week, wf.bigquery_full_scan_week,
                                  wf.select_star_week, wf.dashboard_week, wf.oversized_week,
                                  wf.undersized_week, wf.idle_week, wf.on_demand_heavy_week])
def test_savings_never_exceed_the_bill_and_no_literal_leaks(make) -> None:
    history = make()
    cost = price_history(history, CATALOG)
    findings = assign_warehouse_savings(run_warehouse_rules([history]), cost)
    assert sum(f.estimated_savings_usd for f in findings) <= cost.total_usd + 0.01 * len(findings)
    for f in findings:
        text = json.dumps(dict(f.evidence)) + f.title
        assert "4711" not in text and "'FR'" not in text and "'EU'" not in text


# --- measure() exactly, thresholds at their boundaries ------------------------------------------

def test_full_scan_measure() -> None:
    q = sf_query("q", "W", "Large", T0, SECOND, bytes_scanned=10, partitions_scanned=80, partitions_total=100)
    m = full_scan.measure(q, None, 0.1)
    assert (m.scan_fraction, m.avoidable_fraction) == (0.8, pytest.approx(0.875))
    t = TableStorage("p.d.t", total_logical_bytes=1000, partitioned=True)
    job = bq_job("j", "p", T0, SECOND, 500, 1)
    assert full_scan.measure(job, t, 0.1).scan_fraction == 0.5
    assert full_scan.measure(job, TableStorage("p.d.t", 1000, partitioned=False), 0.1).partitioned is False
    assert full_scan.measure(job, None, 0.1) is None  # table size unknown
    th = full_scan.FullScan.default_config().scan_fraction
    assert [th.severity(v) for v in (0.7999, 0.8, 0.9, 0.95, 0.9899, 0.99)] == [
        None, "low", "medium", "high", "high", "critical"]


def test_select_star_measure() -> None:
    job = bq_job("j", "p", T0, SECOND, 3 * GiB, 1)
    m = select_star.measure(job, "t", TableStorage("p.d.t", 10**12, column_count=40), 10)
    assert (m.column_count, m.scanned_bytes, m.avoidable_fraction) == (40, 3 * GiB, 0.75)
    assert select_star.measure(job, "t", None, 10).avoidable_fraction == 0.0
    th = select_star.SelectStar.default_config().avoidable_fraction
    assert [th.severity(v) for v in (0.49, 0.5, 0.7, 0.85, 0.95)] == LEVELS


def test_repeated_query_measure() -> None:
    starts = [T0 + i * 15 * MINUTE for i in range(8)] + [T0 + 8 * 15 * MINUTE + 30 * MINUTE]
    m = repeated_query.measure(starts, refresh_hours=1.0, tolerance=0.1)
    assert m.paid_runs == 9 and m.active_days == 1 and m.runs_per_day == 9.0  # per day with runs
    assert m.median_interval_s == 900.0 and m.regular_share == pytest.approx(7 / 8)
    assert m.span_hours == 2.5 and m.needed_runs == 3 and m.avoidable_fraction == pytest.approx(6 / 9)
    th = repeated_query.RepeatedQuery.default_config().runs_per_day
    assert [th.severity(v) for v in (3.9, 4, 24, 95.9, 96, 288)] == [None, "low", "medium", "medium", "high",
                                                                       "critical"]


def test_oversized_measure() -> None:
    queries = [sf_query(f"q{i}", "W", "X-Large", T0 + i * MINUTE, (i + 1) * SECOND, bytes_scanned=i)
               for i in range(20)]
    m = snowflake_oversized.measure(QueryTable.from_records(queries), "X-Large", 100.0, 60.0)
    assert m.p95_execution_s == 19.0 and m.p95_scanned_bytes == 18  # nearest rank 19 of 20
    assert m.steps_possible == 1  # 19 × 2 = 38 ≤ 60 < 19 × 4
    assert m.concurrency == 1.0
    two = QueryTable.from_records(queries[:2])
    assert snowflake_oversized.measure(two, "Small", 1.0, 60.0).steps_possible == 1  # one size below
    th = snowflake_oversized.OversizedWarehouse.default_config().steps_possible
    assert [th.severity(v) for v in (0, 1, 2, 3, 4)] == LEVELS


def test_undersized_measure() -> None:
    a = sf_query("a", "W", "Small", T0, 10 * MINUTE, spilled_local_bytes=GiB, spilled_remote_bytes=3 * GiB)
    b = sf_query("b", "W", "Small", T0, 30 * MINUTE, queued_overload_ms=10 * MINUTE)
    m = snowflake_undersized.measure(QueryTable.from_records([a, b]))
    assert m.remote_spill_queries == 1 and m.spill_time_share == 0.25 and m.p90_remote_to_local == 3.0
    assert m.overload_share == pytest.approx(10 / 50) and m.demand_ratio_p90 == pytest.approx(50 / 40)
    th = snowflake_undersized.UndersizedWarehouse.default_config().overload_share
    assert [th.severity(v) for v in (0.049, 0.05, 0.1, 0.2, 0.4)] == LEVELS


def test_idle_measure() -> None:
    # two 5-minute bursts of queries 1 minute apart (30 s pauses), 2 hours apart; X-Small
    queries = [sf_query(f"q{b}{k}", "W", "X-Small", T0 + b * 2 * HOUR + k * MINUTE, 30 * SECOND)
               for b in range(2) for k in range(5)]
    rows = [MeteringHour("W", T0 + h * HOUR, T0 + (h + 1) * HOUR, 1.0, 1.0, 0.0, 150 / 3600) for h in (0, 2)]
    m = snowflake_idle.measure(QueryTable.from_records(queries), rows, 1.0, 3600, 900.0, (60, 600))
    assert m.metered_credits == 2.0 and m.attributed_credits == pytest.approx(300 / 3600)
    assert m.idle_share == pytest.approx(1 - 300 / 3600 / 2)
    assert m.gaps_within_bursts == 8 and m.p90_gap_s == 30.0 and m.recommended_auto_suspend_s == 60
    assert m.current_billed_s == 2 * (270 + 3600)  # each burst: 4.5 min of work, then the 1-hour tail
    assert m.recommended_billed_s == 2 * (270 + 60)
    # the saving is the metered compute above what the recommendation would bill (its 60 s tails
    # included), capped at the metered idle: it agrees with the metering, not with a simulated current bill
    assert m.avoidable_credits == pytest.approx(m.metered_credits - m.recommended_billed_s / 3600)
    assert m.avoidable_credits < m.idle_credits
    th = snowflake_idle.IdleWarehouse.default_config().idle_share
    assert [th.severity(v) for v in (0.19, 0.2, 0.4, 0.6, 0.8)] == LEVELS


def test_pricing_model_measure() -> None:
    jobs = [bq_job(f"j{h}", "p", T0 + h * HOUR, HOUR, TiB, 120 * 3_600_000) for h in range(24)]
    m = bigquery_pricing_model.measure(jobs, T0, 1.0, 156.25)
    assert m.tib_billed == 24 and m.slot_hours_used == 24 * 120
    assert (m.baseline_slots, m.max_slots, m.reservation_slot_hours) == (150, 150, 150 * 24)
    assert m.savings_fraction == pytest.approx(1 - 3600 / (24 * 156.25))
    assert bigquery_pricing_model.round_slots(0) == 0 and bigquery_pricing_model.round_slots(50.0) == 50
    assert bigquery_pricing_model.round_slots(50.1) == 100
    reserved = [bq_job("r", "p", T0, HOUR, TiB, 1000 * 3_600_000, warehouse="admin:US.r")]
    r = bigquery_pricing_model.measure(reserved, T0, 1.0, 156.25)
    assert r.current_model == "editions" and r.savings_fraction == pytest.approx(1 - 156.25 / 1000)
    th = bigquery_pricing_model.PricingModel.default_config().savings_fraction
    assert [th.severity(v) for v in (0.09, 0.1, 0.25, 0.4, 0.6)] == LEVELS
    assert math.isclose(m.days, 1.0)


def test_bigquery_full_scan_names_the_partition_and_clustering_columns() -> None:
    from rules.warehouse.full_scan import _bigquery_advice

    t = TableStorage("p.d.t", 10**12, partitioned=True, partition_column="order_date",
                     clustering_columns=("region",))
    advice, _ = _bigquery_advice("p.d.t", "customer_id", t)
    assert "partition column order_date of `p.d.t`" in advice
    assert "--clustering_fields=region,customer_id" in advice  # keeps the existing clustering first
    same, _ = _bigquery_advice("p.d.t", "order_date", t)
    assert "cannot prune" in same and "clustering_fields" not in same
    assert "clustering_fields" not in _bigquery_advice("p.d.t", "region", t)[0]  # already clustered by it
    unknown, _ = _bigquery_advice("p.d.t", None, None)
    assert "If the table is not partitioned" in unknown
    flat, _ = _bigquery_advice("p.d.t", "day", TableStorage("p.d.t", 10, partitioned=False, partitions=0))
    assert flat.startswith("Partition `p.d.t`") and "CLUSTER BY day" in flat
