"""The ledger of claims, by hand: each billed unit counted once, savings net of what changes cost.

Every expected figure below is worked out in the comments from the billing rules and the
ledger's documented order (narrow claims first, each on what earlier claims left; broad
claims on the remainder; the change's cost subtracted), never with a helper of the code.
A hypothesis test then checks the invariants on random claims: no resource counted beyond
its bill, nothing negative, nothing counted above what was asked.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warehouse_history_factory import MINUTE, SECOND, T0, bq_job, sf_query

from analyzer.core.catalog import load_catalog, parse_catalog
from analyzer.core.cost import CostSettings, price_report
from analyzer.core.findings import Finding
from analyzer.core.ledger import ClaimRequest, count_claims
from analyzer.core.model import Application, Executor, Job, Stage, StageMetrics, TaskDistributions
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, WarehouseHistory

CATALOG = load_catalog("generic")  # $3.00/credit, $6.25/TiB, $0.04/slot-hour (standard)
TIB = 1024**4
H = 3_600_000


def finding(rule: str, subject: dict, usage: dict, bucket: str | None = None, **evidence: object) -> Finding:
    return Finding(
        rule_id=rule,
        severity="high",
        subject=subject,
        title="t",
        evidence=evidence,
        recommendation="r",
        savings_bucket=bucket,
        avoidable_usage=usage,
    )


def test_bigquery_scan_fix_then_pricing_model_counts_each_tib_once() -> None:
    # One on-demand job of project p billed 100 TiB = $625.
    history = WarehouseHistory(
        "bigquery", "t", T0, T0 + H, queries=(bq_job("j", "p", T0, SECOND, 100 * TIB, 3_600_000_000),)
    )
    cost = price_history(history, CATALOG)
    assert cost.total_usd == pytest.approx(625.0)
    scan = finding(
        "warehouse.full-scan", {"project": "p", "table": "p.d.t"}, {"tib_billed": 80.0}, paid_tib_billed=100.0
    )
    pricing = finding(
        "bigquery.pricing-model",
        {"project": "p"},
        {"tib_billed": 100.0, "slot_hours": -500.0},
        bucket="pricing",
    )
    out = {f.rule_id: f for f in assign_warehouse_savings([pricing, scan], cost)}
    # The scan fix (a part: the table's scans) is counted first: 80 TiB x $6.25 = $500.
    assert out["warehouse.full-scan"].estimated_savings_usd == 500.0
    # The reservation then moves what is left, 20 TiB ($125), and costs 500 slot-hours x $0.04 = $20.
    assert out["bigquery.pricing-model"].estimated_savings_usd == 105.0
    claim = out["bigquery.pricing-model"].claim
    assert claim is not None and claim.counted == pytest.approx(20.0) and claim.change_cost_usd == 20.0
    assert claim.overlaps_with == ("warehouse.full-scan · p.d.t",) and "counted after" in claim.note
    assert claim.standalone_usd == pytest.approx(100 * 6.25 - 20)  # what it would save alone: $605
    # The union: $605 = the $625 bill less the $20 the reservation costs; never more.
    assert sum(f.estimated_savings_usd for f in out.values()) == pytest.approx(625 - 20)


def test_snowflake_idle_scan_and_resize_share_one_warehouse_bill() -> None:
    # WH metered 10 credits ($30) in one hour; queries were attributed 6, so 4 credits idle.
    history = WarehouseHistory(
        "snowflake",
        "t",
        T0,
        T0 + H,
        queries=(sf_query("q", "WH", "X-Small", T0, MINUTE),),
        metering=(MeteringHour("WH", T0, T0 + H, 10.0, 10.0, 0.0, 6.0),),
    )
    cost = price_history(history, CATALOG)
    idle = finding("snowflake.idle-warehouse", {"warehouse": "WH"}, {"credits": 3.0}, bucket="idle")
    scan = finding(
        "warehouse.full-scan", {"warehouse": "WH", "table": "t"}, {"credits": 5.0}, paid_credits=6.0
    )
    resize = finding("snowflake.oversized-warehouse", {"warehouse": "WH"}, {"credits": 5.0})
    out = {f.rule_id: f for f in assign_warehouse_savings([resize, idle, scan], cost)}
    # Parts first, larger first: the scan's 5 credits ($15), then 3 of the 4 idle credits ($9).
    assert out["warehouse.full-scan"].estimated_savings_usd == 15.0
    assert out["snowflake.idle-warehouse"].estimated_savings_usd == 9.0
    # The resize asks half the bill (5 of 10 credits): half of the 2 credits left = 1 credit, $3.
    assert out["snowflake.oversized-warehouse"].estimated_savings_usd == 3.0
    assert sum(f.estimated_savings_usd for f in out.values()) == 27.0  # below the $30 bill


def stage(stage_id: int, durations: tuple[int, ...]) -> Stage:
    dist = TaskDistributions(len(durations), None, None, None, None, None, None, None, None)
    return Stage(
        stage_id=stage_id,
        attempt_id=0,
        name=f"s{stage_id}",
        status="COMPLETE",
        num_tasks=len(durations),
        num_complete_tasks=len(durations),
        num_failed_tasks=0,
        num_killed_tasks=0,
        num_speculative_tasks=0,
        submission_time_ms=0,
        first_task_launched_time_ms=0,
        completion_time_ms=H,
        failure_reason=None,
        parent_stage_ids=(),
        job_ids=(0,),
        metrics=StageMetrics(),
        tasks=dist,
        task_durations_ms=durations,
    )


def test_spark_fixes_of_one_stage_compose_instead_of_adding_up() -> None:
    # 2 executors x 4 cores for 1 h = 8 core-hours; stage 0 ran 4 tasks of 1 h = 4 core-hours of task time.
    catalog = parse_catalog(
        {"name": "t", "as_of": "2026", "source": "t", "vcpu_hour": 0.10, "gib_hour": 0.0}, "t"
    )
    app = Application(
        app_id="a",
        attempt_id=None,
        name="etl",
        user=None,
        spark_version="3.5",
        master="yarn",
        start_time_ms=0,
        end_time_ms=H,
        complete=True,
        source="mem",
        executors=(Executor("1", "h", 4, 0, H), Executor("2", "h", 4, 0, H)),
        jobs=(Job(0, "SUCCEEDED", 0, H, (0,)),),
        stages=(stage(0, (H,) * 4),),
    )
    who = {"app_id": "a", "attempt_id": None, "app_name": "etl", "stage_id": 0}
    spill = Finding("spark.spill", "high", who, "t", {}, "r", avoidable_core_hours=3.0)
    gc = Finding("spark.gc-pressure", "medium", who, "t", {}, "r", avoidable_core_hours=2.0)
    idle = Finding(
        "spark.oversized-cluster",
        "high",
        {"app_id": "a", "attempt_id": None},
        "t",
        {},
        "r",
        avoidable_core_hours=10.0,
    )
    costs, priced = price_report([app], [spill, gc, idle], CostSettings(catalog=catalog))
    by_rule = {f.rule_id: f for f in priced}
    # $0.10 per core-hour (no memory price). Spill first: 3 of the stage's 4 core-hours = $0.30.
    assert by_rule["spark.spill"].estimated_savings_usd == pytest.approx(0.30)
    # GC asks 2 of 4 (half the stage); half of the 1 core-hour spill left = 0.5 core-hour = $0.05.
    assert by_rule["spark.gc-pressure"].estimated_savings_usd == pytest.approx(0.05)
    assert by_rule["spark.gc-pressure"].claim.overlaps_with == ("spark.spill · stage 0",)
    # Idle cores: 8 held - 4 used = 4 core-hours; asking 10 is capped at them ($0.40), and says so.
    assert by_rule["spark.oversized-cluster"].estimated_savings_usd == pytest.approx(0.40)
    assert "capped" in by_rule["spark.oversized-cluster"].claim.note
    assert costs[0].savings_usd == pytest.approx(0.75) and costs[0].savings_usd <= costs[0].total_usd


requests = st.lists(
    st.builds(
        ClaimRequest,
        label=st.sampled_from(["a", "b", "c", "d"]),
        resource=st.sampled_from(["r1", "r2"]),
        unit=st.just("credits"),
        asked=st.floats(0, 50),
        usd_per_unit=st.floats(0.01, 10),
        part=st.sampled_from(["", "", "t1", "t2", "idle"]),
        part_capacity=st.one_of(st.none(), st.floats(0, 60)),
        change_cost_usd=st.floats(0, 20),
        proportional=st.booleans(),
    ),
    max_size=12,
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(requests, st.floats(0, 100), st.floats(0, 100))
def test_the_union_of_claims_never_exceeds_the_bill(
    reqs: list[ClaimRequest], cap1: float, cap2: float
) -> None:
    capacity = {"r1": cap1, "r2": cap2}
    claims = count_claims(reqs, capacity)
    counted: dict[str, float] = defaultdict(float)
    for req, claim in zip(reqs, claims, strict=True):
        assert 0 <= claim.counted <= req.asked + 1e-9  # never negative, never more than asked
        counted[req.resource] += claim.counted
    for resource, units in counted.items():
        assert units <= capacity[resource] + 1e-6  # each unit of the bill counted at most once
    bill = sum(capacity[r.resource] * r.usd_per_unit for r in reqs) if reqs else 0.0
    saving = sum(max(0.0, c.counted * c.usd_per_unit - c.change_cost_usd) for c in claims)
    assert saving <= bill + 1e-6


def test_a_change_the_earlier_fixes_leave_nothing_for_becomes_an_early_warning() -> None:
    # Same $625 project; the scan fix now takes 97 of the 100 TiB ($606.25). The reservation would
    # move the 3 TiB left ($18.75) for 500 slot-hours ($20): it no longer pays for itself.
    history = WarehouseHistory(
        "bigquery", "t", T0, T0 + H, queries=(bq_job("j", "p", T0, SECOND, 100 * TIB, 3_600_000_000),)
    )
    cost = price_history(history, CATALOG)
    scan = finding(
        "warehouse.full-scan", {"project": "p", "table": "p.d.t"}, {"tib_billed": 97.0}, paid_tib_billed=100.0
    )
    pricing = finding("bigquery.pricing-model", {"project": "p"}, {"tib_billed": 100.0, "slot_hours": -500.0})
    out = {f.rule_id: f for f in assign_warehouse_savings([pricing, scan], cost)}
    assert out["warehouse.full-scan"].estimated_savings_usd == 606.25
    superseded = out["bigquery.pricing-model"]
    assert superseded.estimated_savings_usd == 0 and superseded.severity == "info"
    assert superseded.scale_note.startswith("Superseded: counted after warehouse.full-scan · p.d.t")
    assert "alone, it would save $605.00" in superseded.scale_note  # 100 TiB x $6.25 - $20
