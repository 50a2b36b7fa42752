"""Independent oracles for Spark savings: what each finding claims of its run's waste ledger.

Why: ``analyzer.core.spark_savings`` decides which bucket a finding draws on, how large a
stage's part of the task time is (attempts summed, scaled when tasks outran the cores held)
and how a saving is rounded. Each case prices a small hand-built run at $0.10 per core-hour
(no memory price) and works out in the comments what each claim counts, never with a helper
of the code under test.
"""

from __future__ import annotations

import pytest

from analyzer.core.catalog import parse_catalog
from analyzer.core.cost import CostSettings, price_report
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Job, Stage, StageMetrics, TaskDistributions

H = 3_600_000
CATALOG = parse_catalog({"name": "flat", "as_of": "2026", "source": "t", "vcpu_hour": 0.10, "gib_hour": 0.0},
                        "flat")


def stage(stage_id: int, durations: tuple[int, ...], attempt: int = 0, failed_ms: int = 0) -> Stage:
    dist = TaskDistributions(len(durations), None, None, None, None, None, None, None, None)
    return Stage(stage_id=stage_id, attempt_id=attempt, name=f"s{stage_id}", status="COMPLETE",
                 num_tasks=len(durations), num_complete_tasks=len(durations), num_failed_tasks=0,
                 num_killed_tasks=0, num_speculative_tasks=0, submission_time_ms=0,
                 first_task_launched_time_ms=0, completion_time_ms=H, failure_reason=None,
                 parent_stage_ids=(), job_ids=(0,), metrics=StageMetrics(), tasks=dist,
                 task_durations_ms=durations, failed_task_time_ms=failed_ms)


# Stage 0 ran twice: attempt 0 two 1-hour tasks (one failed: 1 core-hour of failed work), attempt 1 one;
# stage 1 two 1-hour tasks. Task time 5 core-hours: 4 useful, 1 failed.
STAGES = (stage(0, (H, H), failed_ms=H), stage(0, (H,), attempt=1), stage(1, (H, H)))


def app(**changes: object) -> Application:
    """Two 4-core executors for 4 hours (32 core-hours), one job for the first two."""
    fields: dict[str, object] = dict(
        app_id="app-1", attempt_id=None, name="etl", user=None, spark_version="3.5", master="yarn",
        start_time_ms=0, end_time_ms=4 * H, complete=True, source="hand",
        executors=(Executor("1", "h", 4, 0, 4 * H), Executor("2", "h", 4, 0, 4 * H)),
        jobs=(Job(0, "SUCCEEDED", 0, 2 * H, (0, 1)),), stages=STAGES)
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


def finding(rule: str, core_hours: float, attempt: str | None = None, **subject: object) -> Finding:
    return Finding(rule_id=rule, severity="high",
                   subject={"app_id": "app-1", "attempt_id": attempt, **subject}, title="t",
                   evidence={}, recommendation="r", avoidable_core_hours=core_hours)


def priced(run: Application, *findings: Finding) -> list[Finding]:
    _, out = price_report([run], list(findings), CostSettings(catalog=CATALOG))
    return out


def test_each_rule_claims_its_own_bucket_of_its_own_run() -> None:
    # Ledger: useful 4, failed 1; held while no job runs (2-4 h) 2 h x 8 = 16 driver-only; idle 27 - 16 = 11,
    # of which the skew finding's 1 is the skew tail.
    out = priced(app(attempt_id="2"), *(finding(rule, 1.0, "2") for rule in (
        "spark.skew", "spark.oversized-cluster", "spark.driver-bound", "spark.task-failures", "spark.spill")))
    claims = [(f.savings_bucket, f.claim.resource if f.claim else None, f.claim.unit if f.claim else None)
              for f in out]
    assert claims == [("skew_tail", "application app-1/2 (skew tail)", "core_hours"),
                      ("idle_cores", "application app-1/2 (idle cores)", "core_hours"),
                      ("driver_only", "application app-1/2 (driver-only time)", "core_hours"),
                      ("failed_work", "application app-1/2 (failed work)", "core_hours"),
                      ("useful", "application app-1/2 (task time)", "core_hours")]
    assert [f.estimated_savings_usd for f in out] == [pytest.approx(0.10)] * 5  # 1 core-hour x $0.10 each
    assert all(f.claim is not None and f.claim.usd_per_unit == pytest.approx(0.10) for f in out)
    (alone,) = priced(app(), finding("spark.spill", 1.0))
    assert alone.claim is not None and alone.claim.resource == "application app-1 (task time)"


def test_a_stage_part_sums_its_attempts_and_includes_failed_work() -> None:
    # Stage 0's part of the task time: 2 + 1 core-hours over its two attempts = 3 (failed work included:
    # the 4 useful + 1 failed core-hours in the ledger are all the 5 of task time, nothing to scale).
    (spill,) = priced(app(), finding("spark.spill", 3.0, stage_id=0))
    assert spill.claim is not None and spill.claim.counted == pytest.approx(3.0)
    assert spill.claim.part == "stage 0" and spill.claim.note == ""
    assert spill.estimated_savings_usd == pytest.approx(0.30)
    # Asked 6 of stage 0's 3: capped at the stage.
    (spill,) = priced(app(), finding("spark.spill", 6.0, stage_id=0))
    assert spill.claim is not None and spill.claim.counted == pytest.approx(3.0)
    # Two fixes of stage 1 (2 core-hours): spill 1.5 of 2, then GC 1 of 2 = half of the 0.5 left.
    spill, gc = priced(app(), finding("spark.spill", 1.5, stage_id=1),
                       finding("spark.gc-pressure", 1.0, stage_id=1))
    assert spill.estimated_savings_usd == pytest.approx(0.15)
    assert gc.estimated_savings_usd == pytest.approx(0.025)
    assert gc.claim is not None and gc.claim.overlaps_with == ("spark.spill · stage 1",)


def test_stage_parts_shrink_with_task_time_that_outran_the_cores() -> None:
    # One 4-core executor for 2 h holds 8 core-hours, but tasks ran 12 (stage 0) + 4 (stage 1) = 16:
    # task time is scaled by 8/16 into the ledger (useful 8) and each stage with it (stage 0: 6, stage 1: 2).
    busy = app(end_time_ms=2 * H, executors=(Executor("1", "h", 4, 0, 2 * H),),
               stages=(stage(0, (3 * H,) * 4), stage(1, (H,) * 4)))
    # 3 of stage 0's 6 = half of it = 3 core-hours.
    (spill,) = priced(busy, finding("spark.spill", 3.0, stage_id=0))
    assert spill.claim is not None and spill.claim.counted == pytest.approx(3.0)
    (spill,) = priced(busy, finding("spark.spill", 9.0, stage_id=0))  # capped at stage 0's 6
    assert spill.claim is not None and spill.claim.counted == pytest.approx(6.0)


def test_labels_name_the_stage_the_query_or_the_application() -> None:
    # Task time 4 core-hours. Stage 9 is not in the run: its part is what it asks, 0.5, counted first (parts
    # first). Then by saving: GC's 2 of 4 = half of the 3.5 left = 1.75. SQL execution 0 (a proportional part)
    # and "other" (a stage id that is not a number: the whole run) both save $0.10 and go by label: the query
    # 1 x 1.75/4 left = 0.4375, then "other" 1/4 of the 1.3125 left = 0.328125.
    out = priced(app(), finding("spark.spill", 0.5, stage_id=9),
                 finding("spark.full-scan", 1.0, sql_execution_id=0),
                 finding("spark.gc-pressure", 2.0), finding("spark.other", 1.0, stage_id="0"))
    spill, scan, gc, other = (f.claim for f in out)
    assert spill is not None and scan is not None and gc is not None and other is not None
    assert (spill.part, scan.part, gc.part, other.part) == ("stage 9", "SQL execution 0", "", "")
    assert [c.counted for c in (spill, scan, gc, other)] == [
        pytest.approx(0.5), pytest.approx(0.4375), pytest.approx(1.75), pytest.approx(0.328125)]
    assert other.overlaps_with == ("spark.spill · stage 9", "spark.gc-pressure · app-1",
                                   "spark.full-scan · SQL execution 0")


def test_savings_keep_six_decimals_rounded_down_and_negative_estimates_claim_nothing() -> None:
    # 0.123456789 core-hours x $0.10 = $0.0123456789: $0.012345 at six decimals.
    (gc,) = priced(app(), finding("spark.gc-pressure", 0.123456789))
    assert gc.estimated_savings_usd == pytest.approx(0.012345, abs=1e-12)
    (gc,) = priced(app(), finding("spark.gc-pressure", -2.0))
    assert gc.claim is not None and gc.claim.asked == 0.0 and gc.estimated_savings_usd == 0.0
