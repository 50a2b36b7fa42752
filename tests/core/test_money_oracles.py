"""Independent oracles for money: bills, waste ledgers, savings and per-query credits by hand.

Why: the cost tests of the modules themselves share their formulas with the code, and a
golden file only says "something changed". Here every expected figure is worked out in
the test from the billing rules (an executor core-hour priced as vCPU plus its memory
share; Snowflake hourly credits shared by execution milliseconds, as
dbt-snowflake-monitoring does; cloud services billed above 10 % of the day's compute;
BigQuery on-demand bytes with a 10 MiB minimum per table), with comments that show the
arithmetic, and no helper of the code under test is called to compute an expectation.
Property tests then check the invariants that must hold whatever the implementation:
ledger buckets add up to the bill, no bucket is negative, savings never exceed the bill,
and metered credits are neither lost nor created when shared between queries.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from analyzer.core.catalog import load_catalog, parse_catalog
from analyzer.core.cost import CostSettings, price_report
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Job, Quantiles, Stage, StageMetrics, TaskDistributions
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, WarehouseHistory

# Under mutation testing (tests/mutation/run.py) each mutant reruns these tests: fewer examples
# keep one mutant to seconds; the full count runs in the suite.
FEWER = 4 if os.environ.get("DEANALYZE_MUTATION") else 1
if FEWER > 1:  # a failing example is enough to kill a mutant: no time spent shrinking it
    settings.register_profile("deanalyze-mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate))
    settings.load_profile("deanalyze-mutation")
H = 3_600_000  # ms per hour
M = 60_000  # ms per minute
T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC, a day boundary
VCPU, GIB = 0.04, 0.005
CATALOG = parse_catalog({"name": "oracle", "as_of": "2026-01-01", "source": "test", "vcpu_hour": VCPU,
                         "gib_hour": GIB}, "oracle")
# 8g heap + max(384 MiB, 10 %) overhead = 8.8 GiB per 4-core executor: 2.2 GiB per core.
CORE_HOUR = VCPU + 8.8 / 4 * GIB  # 0.051 $
# Driver: 1 core, 4g heap + 0.4 GiB overhead.
DRIVER_HOUR = VCPU + 4.4 * GIB  # 0.062 $
BUCKETS = ("useful", "failed_work", "driver_only", "skew_tail", "idle_cores", "driver")


# --- Spark: one hand-built application -----------------------------------------------------------


def stage(stage_id: int, durations_ms: tuple[int, ...], failed_ms: int = 0) -> Stage:
    q = Quantiles(0, 0, 0, 0, 0)
    dist = TaskDistributions(len(durations_ms), q, q, q, q, q, q, q, q)
    return Stage(stage_id=stage_id, attempt_id=0, name=f"s{stage_id}", status="COMPLETE",
                 num_tasks=len(durations_ms), num_complete_tasks=len(durations_ms), num_failed_tasks=0,
                 num_killed_tasks=0, num_speculative_tasks=0, submission_time_ms=T0 + H,
                 first_task_launched_time_ms=T0 + H, completion_time_ms=T0 + 2 * H, failure_reason=None,
                 parent_stage_ids=(), job_ids=(0,), metrics=StageMetrics(), tasks=dist,
                 task_durations_ms=durations_ms, failed_task_time_ms=failed_ms)


def application(**changes: object) -> Application:
    """Two 4-core executors held for the whole 4-hour run; jobs at 1h-2h and 2.5h-3h.

    Task time: 10 tasks x 30 min = 5 core-hours, of which 1 core-hour failed attempts.
    """
    fields: dict[str, object] = dict(
        app_id="app-1", attempt_id=None, name="nightly", user="u", spark_version="3.5.1", master="yarn",
        start_time_ms=T0, end_time_ms=T0 + 4 * H, complete=True, source="hand-built",
        properties={"spark.executor.memory": "8g", "spark.driver.memory": "4g"},
        executors=(Executor("driver", "d", 0, T0), Executor("1", "a", 4, T0, T0 + 4 * H),
                   Executor("2", "b", 4, T0, T0 + 4 * H)),
        jobs=(Job(0, "SUCCEEDED", T0 + H, T0 + 2 * H, (0,)),
              Job(1, "SUCCEEDED", T0 + 5 * H // 2, T0 + 3 * H, (1,))),
        stages=(stage(0, (30 * M,) * 6, failed_ms=60 * M), stage(1, (30 * M,) * 4)),
    )
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


def finding(rule_id: str, core_hours: float, app_id: str = "app-1") -> Finding:
    return Finding(rule_id=rule_id, severity="high", subject={"app_id": app_id, "attempt_id": None},
                   title=rule_id, evidence={}, recommendation="r", avoidable_core_hours=core_hours)


def priced(app: Application, *findings: Finding):  # type: ignore[no-untyped-def]
    costs, out = price_report([app], list(findings), CostSettings(catalog=CATALOG))
    assert len(costs) == 1
    return costs[0], {f.rule_id: f for f in out}


def test_the_bill_of_a_run_by_hand() -> None:
    cost, _ = priced(application())
    # 2 executors x 4 cores x 4 h = 32 core-hours; the driver runs 4 h.
    assert cost.executor_core_hours == pytest.approx(32)
    assert cost.executor_usd == pytest.approx(32 * CORE_HOUR)  # 1.632
    assert cost.driver_usd == pytest.approx(4 * DRIVER_HOUR)  # 0.248
    assert cost.total_usd == pytest.approx(1.88)


def test_the_waste_ledger_by_hand() -> None:
    cost, _ = priced(application())
    # useful: 5 core-hours of tasks minus 1 of failed attempts; idle: 32 - 5 = 27.
    # Gaps between job groups: 0-1 h, 2-2.5 h, 3-4 h = 2.5 h x 8 cores = 20 core-hours driver-only.
    expected = {"useful": 4.0, "failed_work": 1.0, "driver_only": 20.0, "skew_tail": 0.0, "idle_cores": 7.0}
    for bucket, core_hours in expected.items():
        assert cost.ledger_core_hours[bucket] == pytest.approx(core_hours), bucket
        assert cost.ledger_usd[bucket] == pytest.approx(core_hours * CORE_HOUR), bucket
    assert cost.ledger_usd["driver"] == pytest.approx(4 * DRIVER_HOUR)
    assert sum(cost.ledger_usd[b] for b in BUCKETS) == pytest.approx(cost.total_usd)


def test_skew_tail_takes_from_idle_and_is_capped_by_it() -> None:
    cost, found = priced(application(), finding("spark.skew", 3.0))
    assert cost.ledger_core_hours["skew_tail"] == pytest.approx(3.0)
    assert cost.ledger_core_hours["idle_cores"] == pytest.approx(4.0)  # 7 - 3
    assert found["spark.skew"].estimated_savings_usd == pytest.approx(3 * CORE_HOUR, abs=1e-4)
    # 10 core-hours of skew claimed, but only 7 idle core-hours are left after driver-only time.
    cost, found = priced(application(), finding("spark.skew", 10.0))
    assert cost.ledger_core_hours["skew_tail"] == pytest.approx(7.0)
    assert cost.ledger_core_hours["idle_cores"] == pytest.approx(0.0, abs=1e-12)
    assert min(cost.ledger_usd.values()) >= 0
    assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd)
    assert found["spark.skew"].estimated_savings_usd == pytest.approx(7 * CORE_HOUR, abs=1e-4)


def test_savings_are_capped_by_their_bucket_and_never_exceed_the_bill() -> None:
    cost, found = priced(application(), finding("spark.driver-bound", 25.0),
                         finding("spark.oversized-cluster", 3.0), finding("spark.task-failures", 5.0))
    assert found["spark.driver-bound"].estimated_savings_usd == pytest.approx(20 * CORE_HOUR, abs=1e-4)
    assert found["spark.oversized-cluster"].estimated_savings_usd == pytest.approx(3 * CORE_HOUR, abs=1e-4)
    assert found["spark.task-failures"].estimated_savings_usd == pytest.approx(1 * CORE_HOUR, abs=1e-4)
    assert sum(f.estimated_savings_usd for f in found.values()) <= cost.total_usd


def test_findings_of_an_application_not_priced_keep_no_bucket_money() -> None:
    _, found = priced(application(), finding("spark.skew", 2.0, app_id="other"))
    assert found["spark.skew"].estimated_savings_usd == 0.0


def test_busy_cluster_with_more_task_time_than_allocation_is_all_useful() -> None:
    # Clocks can disagree: 40 core-hours of tasks on 32 allocated. Useful is scaled to 32, no idle.
    app = application(stages=(stage(0, (4 * H,) * 10),))
    cost, _ = priced(app)
    assert cost.ledger_core_hours["useful"] == pytest.approx(32.0)
    assert cost.ledger_core_hours["idle_cores"] == pytest.approx(0.0, abs=1e-9)
    assert cost.ledger_core_hours["driver_only"] == pytest.approx(0.0, abs=1e-9)


# --- Spark: invariants over generated applications ---------------------------------------------


@st.composite
def applications(draw: st.DrawFn) -> tuple[Application, float]:
    end = draw(st.integers(1, 10)) * H // 2
    executors = [Executor("driver", "d", 0, T0)]
    for i in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, end))
        executors.append(Executor(str(i + 1), "h", draw(st.integers(1, 8)), T0 + start,
                                  T0 + draw(st.integers(start, end))))
    jobs = []
    for j in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, end))
        jobs.append(Job(j, "SUCCEEDED", T0 + start, T0 + draw(st.integers(start, end)), (j,)))
    durations = tuple(draw(st.lists(st.integers(0, 2 * H), max_size=12)))
    failed = draw(st.integers(0, sum(durations)))
    app = application(end_time_ms=T0 + end, executors=tuple(executors), jobs=tuple(jobs),
                      stages=(stage(0, durations, failed),) if durations else ())
    return app, draw(st.floats(0, 50))


@settings(max_examples=200 // FEWER, deadline=None, derandomize=True, database=None)
@given(applications(), st.floats(0, 50), st.floats(0, 50))
def test_ledger_invariants_on_generated_runs(case: tuple[Application, float], idle: float,
                                            failed: float) -> None:
    app, skew = case
    findings = [finding("spark.skew", skew), finding("spark.oversized-cluster", idle),
                finding("spark.task-failures", failed), finding("spark.driver-bound", idle)]
    cost, found = priced(app, *findings)
    assert all(v >= -1e-9 for v in cost.ledger_usd.values()), cost.ledger_usd
    assert all(v >= -1e-9 for v in cost.ledger_core_hours.values()), cost.ledger_core_hours
    assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd, abs=1e-9)
    assert sum(cost.ledger_core_hours.values()) == pytest.approx(cost.executor_core_hours, abs=1e-9)
    savings = [f.estimated_savings_usd for f in found.values()]
    assert all(s >= 0 for s in savings)
    assert sum(savings) <= cost.total_usd + 1e-3  # savings are rounded to 1/10000 $


# --- Snowflake: one hand-built history -------------------------------------------------------------

PER_CREDIT = 3.00  # the generic catalog's $ per credit
GENERIC = load_catalog("generic")


def sf(qid: str, warehouse: str, size: str, start_min: float, end_min: float, cs: float = 0.1) -> QueryRecord:
    start, end = T0 + int(start_min * M), T0 + int(end_min * M)
    return QueryRecord(vendor="snowflake", query_id=qid, start_time_ms=start, end_time_ms=end,
                       status="SUCCESS", query_text="select 1", warehouse=warehouse, warehouse_size=size,
                       warehouse_type="STANDARD", execution_ms=end - start, compilation_ms=0,
                       queued_overload_ms=0, queued_provisioning_ms=0,
                       credits_cloud_services=cs)


def metered(hour: int, compute: float, cs: float, attributed: float | None,
            warehouse: str = "WH1") -> MeteringHour:
    return MeteringHour(warehouse=warehouse, start_time_ms=T0 + hour * H, end_time_ms=T0 + (hour + 1) * H,
                        credits_used=compute + cs, credits_compute=compute, credits_cloud_services=cs,
                        credits_attributed_queries=attributed)


QUERIES = (
    sf("q1", "WH1", "X-Small", 10, 40),  # 30 min in hour 0
    sf("q2", "WH1", "X-Small", 20, 30),  # 10 min in hour 0
    sf("q3", "WH1", "X-Small", 50, 70),  # 10 min in hour 0, 10 min in hour 1
    sf("q5", "WH2", "Small", 120, 126),  # WH2 has no metering rows: 6 min x 2 credits/h
)


def snowflake(metering: tuple[MeteringHour, ...],
              queries: tuple[QueryRecord, ...] = QUERIES) -> WarehouseHistory:
    return WarehouseHistory(vendor="snowflake", source="hand", window_start_ms=T0, window_end_ms=T0 + 24 * H,
                            queries=queries, metering=metering)  # type: ignore[arg-type]


METERING = (metered(0, 0.8, 0.3, 0.5), metered(1, 1.0, 0.1, None))


def test_per_query_credits_by_hand() -> None:
    cost = price_history(snowflake(METERING), GENERIC)
    q = cost.queries
    # Hour 0: 0.8 credits over 30 + 10 + 10 = 50 execution minutes; hour 1: 1.0 credit, q3 alone.
    assert q["q1"].compute_credits == pytest.approx(0.8 * 30 / 50)  # 0.48
    assert q["q2"].compute_credits == pytest.approx(0.8 * 10 / 50)  # 0.16
    assert q["q3"].compute_credits == pytest.approx(0.8 * 10 / 50 + 1.0)  # 1.16
    assert q["q5"].compute_credits == pytest.approx(6 / 60 * 2)  # 0.2, estimated from the size
    assert (q["q1"].estimated, q["q3"].estimated, q["q5"].estimated) == (False, False, True)
    # Cloud services of the day: 0.4 credits, 10 % of 1.8 compute free -> 0.22 billed, 55 % of each query's.
    for qid in ("q1", "q2", "q3", "q5"):
        assert q[qid].cloud_services_credits == pytest.approx(0.1 * 0.55)
    assert q["q1"].usd == pytest.approx((0.48 + 0.055) * PER_CREDIT)
    assert q["q5"].usd == pytest.approx((0.2 + 0.055) * PER_CREDIT)


def test_warehouse_bills_and_idle_by_hand() -> None:
    cost = price_history(snowflake(METERING), GENERIC)
    wh1, wh2 = cost.warehouses["WH1"], cost.warehouses["WH2"]
    assert wh1.compute_credits == pytest.approx(1.8)
    assert wh1.query_credits == pytest.approx(1.8)  # every metered hour had queries: all shared out
    assert wh1.cloud_services_credits == pytest.approx(0.22)
    assert wh1.usd == pytest.approx((1.8 + 0.22) * PER_CREDIT)
    # Hour 1 does not report credits attributed to queries, so Snowflake's idle figure is estimated
    # for the whole warehouse from busy time: 10-40 and 50-70 min = 50 min at 1 credit/h.
    assert wh1.idle_credits == pytest.approx(1.8 - 50 / 60)
    assert wh1.idle_usd == pytest.approx((1.8 - 50 / 60) * PER_CREDIT)
    assert (wh1.metered, wh2.metered, wh2.idle_credits) == (True, False, None)
    assert wh2.compute_credits == pytest.approx(0.2) and wh2.usd == pytest.approx(0.6)
    assert cost.total_credits == pytest.approx(1.8 + 0.2 + 0.22)
    assert cost.total_usd == pytest.approx(2.22 * PER_CREDIT)
    assert sum(q.usd for q in cost.queries.values()) == pytest.approx(cost.total_usd)


def test_idle_uses_snowflake_attribution_only_when_every_hour_reports_it() -> None:
    reported = (metered(0, 0.8, 0.3, 0.5), metered(1, 1.0, 0.1, 0.7))
    assert price_history(snowflake(reported), GENERIC).warehouses["WH1"].idle_credits == pytest.approx(0.6)
    none_reported = (metered(0, 0.8, 0.3, None), metered(1, 1.0, 0.1, None))
    assert price_history(snowflake(none_reported), GENERIC).warehouses["WH1"].idle_credits == \
        pytest.approx(1.8 - 50 / 60)


def test_cloud_services_under_ten_percent_are_free() -> None:
    cheap = (metered(0, 0.8, 0.05, 0.5), metered(1, 1.0, 0.1, 0.7))  # 0.15 <= 0.18
    cost = price_history(snowflake(cheap), GENERIC)
    assert cost.cloud_services_billed_credits == 0.0
    assert all(q.cloud_services_credits == 0.0 for q in cost.queries.values())


def test_warehouse_savings_capped_by_pool_bill_and_idle_cost() -> None:
    cost = price_history(snowflake(METERING), GENERIC)
    bill = (1.8 + 0.22) * PER_CREDIT  # 6.06 $
    idle = (1.8 - 50 / 60) * PER_CREDIT  # 2.9 $

    def wh_finding(rule: str, credits: float, bucket: str | None = None) -> Finding:
        return Finding(rule_id=rule, severity="low", subject={"warehouse": "WH1"}, title=rule, evidence={},
                       recommendation="r", avoidable_usage={"credits": credits}, savings_bucket=bucket)

    one = assign_warehouse_savings([wh_finding("snowflake.oversized-warehouse", 0.5)], cost)
    assert one[0].estimated_savings_usd == pytest.approx(1.5)
    capped = assign_warehouse_savings([wh_finding("snowflake.idle-warehouse", 2.0, "idle")], cost)
    assert capped[0].estimated_savings_usd == pytest.approx(idle, abs=0.01)
    both = assign_warehouse_savings([wh_finding("a.rule", 1.5), wh_finding("b.rule", 1.0)], cost)
    # Two whole-warehouse claims on 2.02 billed credits (1.8 compute + 0.22 cloud services):
    # the larger counts whole, the other its fraction (1.0 / 2.02) of the 0.52 credits left.
    assert [f.estimated_savings_usd for f in both] == pytest.approx(
        [1.5 * PER_CREDIT, 1.0 / 2.02 * (2.02 - 1.5) * PER_CREDIT], abs=0.01)
    assert sum(f.estimated_savings_usd for f in both) <= bill + 0.01
    greedy = assign_warehouse_savings([wh_finding("a.rule", 5.0), wh_finding("b.rule", 4.0)], cost)
    assert sum(f.estimated_savings_usd for f in greedy) <= bill + 0.01


# --- Snowflake: credits conserved on generated histories --------------------------------------------


def hand_credits(queries: list[QueryRecord], metering: list[MeteringHour]) -> dict[str, float]:
    """The dbt-snowflake-monitoring share, written as plain loops: each metered hour's compute
    credits split by execution ms inside it; execution outside metered hours at the size's rate."""
    rate = {"X-Small": 1.0, "Small": 2.0, "Medium": 4.0}
    credits: dict[str, float] = defaultdict(float)
    covered: dict[str, float] = defaultdict(float)
    for hour in metering:
        pieces = {}
        for q in queries:
            if q.warehouse != hour.warehouse:
                continue
            assert q.start_time_ms is not None and q.end_time_ms is not None
            ms = min(q.end_time_ms, hour.end_time_ms) - max(q.start_time_ms, hour.start_time_ms)
            if ms > 0:
                pieces[q.query_id] = ms
        total = sum(pieces.values())
        for qid, ms in pieces.items():
            credits[qid] += hour.credits_compute * ms / total
            covered[qid] += ms
    for q in queries:
        assert q.start_time_ms is not None and q.end_time_ms is not None
        rest = q.end_time_ms - q.start_time_ms - covered[q.query_id]
        if rest > 0:
            credits[q.query_id] += rest * rate[q.warehouse_size or ""] / H
    return credits


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[QueryRecord], list[MeteringHour]]:
    sizes = {"WH1": draw(st.sampled_from(["X-Small", "Small"])),
             "WH2": draw(st.sampled_from(["Small", "Medium"]))}
    queries = []
    for i in range(draw(st.integers(1, 8))):
        wh = draw(st.sampled_from(["WH1", "WH2"]))
        start = draw(st.integers(0, 4 * 60))
        queries.append(sf(f"q{i}", wh, sizes[wh], start, start + draw(st.integers(1, 90))))
    hours = draw(st.lists(st.tuples(st.sampled_from(["WH1", "WH2"]), st.integers(0, 5)), unique=True,
                          max_size=8))
    metering = [metered(h, draw(st.floats(0, 4)), draw(st.floats(0, 0.5)), None, wh) for wh, h in hours]
    return queries, metering


@settings(max_examples=150 // FEWER, deadline=None, derandomize=True, database=None)
@given(histories())
def test_generated_histories_share_metered_credits_exactly(
        case: tuple[list[QueryRecord], list[MeteringHour]]) -> None:
    queries, metering = case
    cost = price_history(snowflake(tuple(metering), tuple(queries)), GENERIC)
    expected = hand_credits(queries, metering)
    for q in queries:
        assert cost.queries[q.query_id].compute_credits == pytest.approx(expected[q.query_id], abs=1e-9)
    for total in cost.warehouses.values():
        assert total.idle_credits is None or 0 <= total.idle_credits <= total.compute_credits + 1e-9
        assert total.usd >= 0
    assert cost.total_usd == pytest.approx(
        sum(t.usd for t in cost.warehouses.values()), abs=1e-9)


# --- BigQuery: on-demand bytes and editions slot-hours by hand ------------------------------------

TIB, MIB = 1024**4, 1024**2


def bq(jid: str, billed: int | None, *, tables: int = 1, slot_ms: int = 0, reservation: str | None = None,
       **kw: object) -> QueryRecord:
    fields: dict[str, object] = dict(
        vendor="bigquery", query_id=jid, start_time_ms=T0, end_time_ms=T0 + M, status="DONE",
        query_text="select 1", statement_type="SELECT", project="proj", warehouse=reservation,
        bytes_scanned=billed or 0, bytes_billed=billed, slot_ms=slot_ms, job_type="QUERY",
        referenced_tables=tuple(f"d.t{i}" for i in range(tables)))
    fields.update(kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


def test_bigquery_bill_by_hand() -> None:
    jobs = (bq("big", 2 * TIB), bq("tiny", MIB, tables=3), bq("cached", TIB, cache_hit=True),
            bq("failed", TIB, status="FAILED"), bq("script", TIB, statement_type="SCRIPT"),
            bq("reserved", TIB, slot_ms=2 * H, reservation="res1"))
    history = WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + H,
                               queries=jobs)  # type: ignore[arg-type]
    cost = price_history(history, GENERIC)
    q = cost.queries
    assert q["big"].usd == pytest.approx(2 * 6.25)
    assert q["tiny"].usd == pytest.approx(30 * MIB / TIB * 6.25)  # 3 tables: 10 MiB minimum each
    assert q["cached"].usd == 0.0 and q["failed"].usd == 0.0
    assert "script" not in q  # its children carry the bytes
    assert q["reserved"].usd == pytest.approx(2 * 0.04)  # 2 slot-hours at the standard edition
    assert q["reserved"].on_demand_usd == pytest.approx(6.25)  # what it would cost on demand
    assert cost.warehouses["proj"].usd == pytest.approx(12.5 + 30 * MIB / TIB * 6.25)
    assert cost.warehouses["res1"].usd == pytest.approx(0.08)
    assert cost.total_usd == pytest.approx(12.5 + 30 * MIB / TIB * 6.25 + 0.08)


def test_a_pricing_change_saves_its_bytes_minus_the_slots_it_buys() -> None:
    history = WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + H,
                               queries=(bq("big", 2 * TIB), bq("small", TIB // 2)))  # type: ignore[arg-type]
    cost = price_history(history, GENERIC)  # project proj: 2.5 TiB = 15.625 $

    def switch(tib: float, slot_hours: float) -> Finding:
        return Finding(rule_id="bigquery.pricing-model", severity="low", subject={"project": "proj"},
                       title="t", evidence={}, recommendation="r",
                       avoidable_usage={"tib_billed": tib, "slot_hours": -slot_hours})

    # All 2.5 TiB no longer billed (15.625 $) for 100 reserved slot-hours (4 $): 11.625 $ saved.
    assert assign_warehouse_savings([switch(2.5, 100)], cost)[0].estimated_savings_usd == pytest.approx(11.62,
                                                                                                      abs=0.01)
    # More TiB than billed cannot save more than the bill minus the change's cost.
    assert assign_warehouse_savings([switch(9.0, 100)], cost)[0].estimated_savings_usd <= 15.625 - 4 + 0.01
    # A change that costs more than it saves saves nothing (never negative).
    assert assign_warehouse_savings([switch(0.5, 1000)], cost)[0].estimated_savings_usd == 0.0


# --- claims of one application, by hand (each test kills mutants that once survived) ---------------


def stage_finding(rule_id: str, core_hours: float, **subject: object) -> Finding:
    return Finding(rule_id=rule_id, severity="high",
                   subject={"app_id": "app-1", "attempt_id": None, **subject},
                   title=rule_id, evidence={}, recommendation="r", avoidable_core_hours=core_hours)


def test_stage_then_sql_then_application_claims_on_task_time() -> None:
    # Useful task time: 4 core-hours (stage 0: 3 h of tasks, stage 1: 2 h, scaled to the 5 h of task time
    # in the ledger: unchanged). A stage-0 fix claims 2 of stage 0's 3; a SQL fix (proportional) then
    # 2 x (4 - 2) / 4 = 1; an application-wide fix last its fraction 2/4 of the 1 left = 0.5.
    _, found = priced(application(), stage_finding("spark.spill", 2.0, stage_id=0),
                      stage_finding("spark.full-scan", 2.0, sql_execution_id=7),
                      stage_finding("spark.gc-pressure", 2.0))
    assert found["spark.spill"].estimated_savings_usd == pytest.approx(2 * CORE_HOUR, abs=1e-4)
    assert found["spark.full-scan"].estimated_savings_usd == pytest.approx(1 * CORE_HOUR, abs=1e-4)
    assert found["spark.gc-pressure"].estimated_savings_usd == pytest.approx(0.5 * CORE_HOUR, abs=1e-4)
    parts = {rule: f.claim.part if f.claim else None for rule, f in found.items()}
    assert parts == {"spark.spill": "stage 0", "spark.full-scan": "SQL execution 7", "spark.gc-pressure": ""}


def test_a_stage_claim_outside_task_time_is_not_sized_by_the_stage() -> None:
    # Skew of stage 1 (2 core-hours of tasks) claims 3 idle core-hours of the skew tail, all there.
    cost, found = priced(application(), stage_finding("spark.skew", 3.0, stage_id=1))
    assert cost.ledger_core_hours["skew_tail"] == pytest.approx(3.0)
    assert found["spark.skew"].estimated_savings_usd == pytest.approx(3 * CORE_HOUR, abs=1e-4)


def test_small_claims_are_counted_as_they_are_and_capped_ones_say_so() -> None:
    _, found = priced(application(), stage_finding("spark.gc-pressure", 0.5))
    assert found["spark.gc-pressure"].estimated_savings_usd == pytest.approx(0.5 * CORE_HOUR, abs=1e-4)
    _, found = priced(application(), stage_finding("spark.task-failures", 5.0))
    claim = found["spark.task-failures"].claim
    assert claim is not None and claim.unit == "core_hours" and "core-hours" in claim.note


def test_findings_meet_their_own_attempt_only() -> None:
    app = application(attempt_id="2")
    _, found = priced(app, Finding(rule_id="spark.gc-pressure", severity="high",
                                   subject={"app_id": "app-1", "attempt_id": "2"}, title="t", evidence={},
                                   recommendation="r", avoidable_core_hours=1.0))
    assert found["spark.gc-pressure"].estimated_savings_usd == pytest.approx(CORE_HOUR, abs=1e-4)
    _, found = priced(app, finding("spark.gc-pressure", 1.0))  # attempt None: another run
    assert found["spark.gc-pressure"].estimated_savings_usd == 0.0


@pytest.mark.parametrize(("cores", "hour"), [("2", 2 * VCPU + 4.4 * GIB), ("", VCPU + 4.4 * GIB)])
def test_driver_cores_price_the_driver(cores: str, hour: float) -> None:
    props = {"spark.executor.memory": "8g", "spark.driver.memory": "4g", "spark.driver.cores": cores}
    cost, _ = priced(application(properties=props))
    assert cost.driver_usd == pytest.approx(4 * hour)


# --- warehouse claims: what each finding claims, by hand ---------------------------------------------


def bigquery_history() -> WarehouseHistory:
    jobs = (bq("big", 2 * TIB), bq("small", TIB // 2),
            bq("reserved", TIB, slot_ms=10 * H, reservation="res1"),
            bq("script", TIB, statement_type="SCRIPT"))
    return WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + H,
                            queries=jobs)  # type: ignore[arg-type]


def claim_of(f: Finding, cost) -> Finding:  # type: ignore[no-untyped-def]
    (out,) = assign_warehouse_savings([f], cost)
    return out


def wf(subject: dict[str, object], usage: dict[str, float], evidence: dict[str, object] | None = None,
       bucket: str | None = None, rule: str = "warehouse.full-scan") -> Finding:
    return Finding(rule_id=rule, severity="low", subject=subject, title="t", evidence=evidence or {},
                   recommendation="r", avoidable_usage=usage, savings_bucket=bucket)


def test_bigquery_pricing_tables_by_hand() -> None:
    cost = price_history(bigquery_history(), GENERIC)
    proj, res = cost.warehouses["proj"], cost.warehouses["res1"]
    assert (proj.kind, proj.query_count, proj.tib_billed) == ("project", 2, pytest.approx(2.5))
    assert (res.kind, res.query_count, res.slot_hours) == ("reservation", 1, pytest.approx(10.0))
    assert res.usd == pytest.approx(10 * 0.04) and res.tib_billed == pytest.approx(1.0)
    comparison = cost.projects["proj"]
    assert comparison.jobs == 3 and comparison.tib_billed == pytest.approx(3.5)
    assert comparison.slot_hours == pytest.approx(10.0)
    assert comparison.on_demand_usd == pytest.approx(3.5 * 6.25)
    assert comparison.editions_usd == pytest.approx(10 * 0.04)
    assert comparison.actual_usd == pytest.approx(2.5 * 6.25 + 0.4)
    assert cost.notes == (
        "on-demand: the first 1 TiB per month per billing account is free and not deducted here",
        "1 SCRIPT parent job(s) excluded: their child jobs carry the bytes and slots")
    assert len(cost.queries) == 3 and set(cost.queries) == {"big", "small", "reserved"}


def test_each_pool_is_claimed_in_the_unit_it_pays() -> None:
    cost = price_history(bigquery_history(), GENERIC)
    on_demand = claim_of(wf({"project": "proj"}, {}), cost).claim
    reserved = claim_of(wf({"reservation": "res1"}, {}), cost).claim
    nobody = claim_of(wf({}, {"tib_billed": 1.0}), cost).claim
    assert on_demand is not None and reserved is not None and nobody is not None
    assert (on_demand.unit, on_demand.resource) == ("tib_billed", "project proj (TiB billed)")
    assert (reserved.unit, reserved.resource) == ("slot_hours", "reservation res1 (slot-hours)")
    assert (nobody.resource, nobody.counted) == ("all of hand (TiB billed)", pytest.approx(1.0))
    snow = price_history(snowflake(METERING), GENERIC)
    sf = claim_of(wf({"warehouse": "WH1"}, {}), snow).claim
    assert sf is not None and (sf.unit, sf.resource) == ("credits", "warehouse WH1 (credits)")


def test_the_costliest_unit_of_a_finding_is_its_claim() -> None:
    cost = price_history(bigquery_history(), GENERIC)
    f = claim_of(wf({"project": "proj"}, {"tib_billed": 1.0, "slot_hours": 10.0}), cost)
    assert f.claim is not None and f.claim.unit == "tib_billed"  # 6.25 $ against 0.40 $
    g = claim_of(wf({"project": "proj"}, {"tib_billed": 0.01, "slot_hours": 10.0}), cost)
    assert g.claim is not None and g.claim.unit == "slot_hours"  # 0.0625 $ against 0.40 $


def test_table_scans_query_runs_and_idle_time_are_parts() -> None:
    cost = price_history(bigquery_history(), GENERIC)
    scans = claim_of(wf({"project": "proj", "table": "d.events"}, {"tib_billed": 1.0},
                        {"paid_tib_billed": 2.0}), cost)
    assert scans.claim is not None and scans.claim.part == "scans of d.events"
    assert scans.evidence["paid_usd"] == pytest.approx(12.5) and scans.savings_bucket == "compute"
    runs = claim_of(wf({"project": "proj", "query_hash": "0123456789abcdef"}, {"tib_billed": 1.0},
                       rule="warehouse.repeated-query"), cost)
    assert runs.claim is not None and runs.claim.part == "runs of query 0123456789ab"
    snow = price_history(snowflake(METERING), GENERIC)
    idle = claim_of(wf({"warehouse": "WH1"}, {"credits": 2.0}, bucket="idle"), snow)
    assert idle.claim is not None and idle.claim.part == "idle time"
    assert idle.claim.counted == pytest.approx(1.8 - 50 / 60) and idle.savings_bucket == "idle"


def test_a_claim_counted_after_another_names_it() -> None:
    cost = price_history(bigquery_history(), GENERIC)
    scans, switch = assign_warehouse_savings(
        [wf({"project": "proj", "table": "d.events"}, {"tib_billed": 2.0}, {"paid_tib_billed": 2.0}),
         wf({"project": "proj"}, {"tib_billed": 2.5}, rule="bigquery.pricing-model")], cost)
    assert scans.claim is not None and scans.claim.counted == pytest.approx(2.0)
    assert switch.claim is not None and switch.claim.counted == pytest.approx(0.5)  # 2.5 of 2.5, 2 taken
    assert "warehouse.full-scan · d.events" in switch.claim.note
