"""The stage rules: on real Spark logs with planted problems, and on hand-built models.

The logs in ``tests/data/scenarios/stage`` were written by ``tests/scenarios/stage_jobs.py``
(pyspark 4.3.0, local mode; see the README there). Each scenario is analysed through the
library API; the rules of other authors are disabled so that these tests judge only the
stage rules. The unit tests build small ``analyzer.core.model`` objects by hand and assert the
exact numbers of each rule's ``measure`` and the threshold boundaries.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from typing import Any

import pytest
from conftest import DATA

from analyzer.api import analyze_spark_logs, find_logs, read_logs
from analyzer.core.findings import SEVERITIES, Finding
from analyzer.core.model import (
    Application,
    Executor,
    Job,
    PlanNode,
    Quantiles,
    SqlExecution,
    Stage,
    StageMetrics,
    TaskDistributions,
)
from rules.config import parse_config
from rules.engine import RuleBase as Rule
from rules.registry import rules_by_id
from rules.spark import _stage_math as sm
from rules.spark import gc_pressure, oversized_partitions, skew, spill, task_failures, too_many_partitions
from rules.spark.common import GiB, MiB

SCENARIOS = DATA / "scenarios" / "stage"
STAGE_RULES = ("spark.skew", "spark.gc-pressure", "spark.too-many-partitions", "spark.oversized-partitions",
               "spark.task-failures", "spark.spill")


# -- helpers -----------------------------------------------------------------------------------

@functools.cache
def _analyze(scenario: str, overrides_json: str) -> tuple[Finding, ...]:
    rules: dict[str, Any] = {rid: {"enabled": False} for rid in rules_by_id() if rid not in STAGE_RULES}
    rules.update(json.loads(overrides_json))
    report = analyze_spark_logs([str(SCENARIOS / scenario)], rules_config=parse_config({"rules": rules}))
    assert not report.errors, report.errors
    assert len(report.applications) == 1
    assert report.applications[0].name == f"deanalyze-stage-{scenario}"
    return report.findings


def findings(scenario: str, overrides: dict[str, Any] | None = None,
             rule_id: str | None = None) -> list[Finding]:
    """The stage rules' findings on one scenario log (optionally of one rule)."""
    found = _analyze(scenario, json.dumps(overrides or {}, sort_keys=True))
    return [f for f in found if rule_id is None or f.rule_id == rule_id]


@functools.cache
def scenario_app(scenario: str) -> Application:
    sources, errors = find_logs([str(SCENARIOS / scenario)])
    assert not errors and len(sources) == 1
    app = read_logs(sources)[0]
    assert isinstance(app, Application)
    return app


def at_least(severity: str, floor: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)


def early_warning_of(f: Finding) -> dict[str, Any]:
    """The early-warning evidence of an ``info`` finding (what damped it, what it measured)."""
    assert f.severity == "info" and f.estimated_savings_usd == 0 and not f.avoidable_usage
    ew = f.evidence["early_warning"]
    assert isinstance(ew, dict) and ew["scale_factor"] == 100
    return ew


def q(lo: float, p25: float, p50: float, p75: float, hi: float) -> Quantiles:
    return Quantiles(lo, p25, p50, p75, hi)


def make_stage(stage_id: int = 1, *, status: str = "COMPLETE", tasks: int = 100, seconds: float = 60.0,
               duration: Quantiles | None = None, shuffle_read: Quantiles | None = None,
               input_bytes: Quantiles | None = None, shuffle_write: Quantiles | None = None,
               metrics: StageMetrics | None = None, durations: tuple[int, ...] = (), failed: int = 0,
               killed: int = 0, failed_time_ms: int = 0, causes: tuple[tuple[str, int], ...] = (),
               failure_reason: str | None = None, job_ids: tuple[int, ...] = (0,)) -> Stage:
    """A stage attempt with just the fields the stage rules read."""
    dist = TaskDistributions(
        count=tasks, duration_ms=duration or q(100, 100, 100, 100, 100), executor_run_time_ms=None,
        jvm_gc_time_ms=None, input_bytes=input_bytes, shuffle_read_bytes=shuffle_read,
        shuffle_write_bytes=shuffle_write, memory_bytes_spilled=None, disk_bytes_spilled=None,
    )
    return Stage(
        stage_id=stage_id, attempt_id=0, name=f"stage {stage_id}", status=status, num_tasks=tasks,
        num_complete_tasks=tasks, num_failed_tasks=failed, num_killed_tasks=killed, num_speculative_tasks=0,
        submission_time_ms=1_000, first_task_launched_time_ms=1_000,
        completion_time_ms=1_000 + int(seconds * 1000), failure_reason=failure_reason, parent_stage_ids=(),
        job_ids=job_ids, metrics=metrics or StageMetrics(),
        tasks=dist, task_durations_ms=durations, failure_causes=causes, failed_task_time_ms=failed_time_ms,
    )


def make_app(*stages: Stage, cores: int = 4, executors: int = 2, props: dict[str, str] | None = None,
             master: str = "yarn", jobs: tuple[Job, ...] = (),
             sql: tuple[SqlExecution, ...] = ()) -> Application:
    """A finished cluster application with ``executors`` executors of ``cores`` cores."""
    execs = tuple(Executor(str(i), "host", cores, add_time_ms=0) for i in range(executors))
    return Application(
        app_id="app-1", attempt_id=None, name="hand-built", user=None, spark_version="3.5.1", master=master,
        start_time_ms=0, end_time_ms=3_600_000, complete=True, source="test", properties=props or {},
        executors=(Executor("driver", "host", 0, add_time_ms=0), *execs), jobs=jobs, stages=stages,
        sql_executions=sql,
    )


def check(rule_cls: type[Rule], app: Application, **config: Any) -> list[Finding]:
    conf = dataclasses.replace(rule_cls.default_config(), **config)
    return list(rule_cls().check(app, conf))


# -- real logs: the planted problems are found, with concrete recommendations --------------------

def test_scenario_logs_are_small_and_present() -> None:
    names = {p.name for p in SCENARIOS.iterdir() if p.is_dir()}
    assert names == {"skew-aqe-off", "skew-aqe-on", "many-tiny-tasks", "task-retries", "spill", "gc-heavy",
                     "oversized-partitions", "balanced"}
    for folder in SCENARIOS.iterdir():
        if folder.is_dir():
            (log,) = list(folder.iterdir())
            assert log.stat().st_size < 2 * MiB


def test_skew_without_aqe_is_reported_with_aqe_settings_computed_from_the_stage() -> None:
    (f,) = findings("skew-aqe-off", rule_id="spark.skew")
    ev: dict[str, Any] = dict(f.evidence)
    assert at_least(f.severity, "medium")
    assert ev["read_kind"] == "shuffle read" and ev["shuffle_join"] is True and ev["aqe_enabled"] is False
    assert ev["time_ratio"] >= 4 and ev["data_ratio"] >= 4
    aqe = "--conf spark.sql.adaptive.enabled=true --conf spark.sql.adaptive.skewJoin.enabled=true"
    assert aqe in f.recommendation
    # the hot partition is ~4.8x the median, below Spark's factor 5: the factor and threshold are lowered
    factor = min(5, max(2, math.floor(ev["data_ratio"] / 2)))
    assert f"skewedPartitionFactor={factor}" in f.recommendation
    threshold = re.search(r"skewedPartitionThresholdInBytes=(\d+)k", f.recommendation)
    assert threshold and int(threshold.group(1)) == math.ceil(ev["read_p50_bytes"] * factor / 1024)
    assert int(threshold.group(1)) * 1024 < ev["read_max_bytes"]  # the hot partition qualifies
    expected = re.search(r"would take about ([\d,]+) s instead of ([\d,]+) s", f.recommendation)
    assert expected and float(expected.group(1)) == pytest.approx(ev["expected_stage_seconds"], abs=0.51)
    assert ev["expected_stage_seconds"] < ev["stage_seconds"] / 2
    tail_ms = ev["task_duration_max_ms"] - ev["task_duration_p75_ms"]
    assert f.avoidable_core_hours == pytest.approx(tail_ms * ev["idle_slots"] / 3_600_000)


def test_skew_split_by_aqe_is_not_reported_even_with_lowered_thresholds() -> None:
    assert findings("skew-aqe-on", rule_id="spark.skew") == []
    app = scenario_app("skew-aqe-on")
    # the join stage: 8 shuffle partitions, the hot one split in 4 (11 tasks)
    (joined,) = [s for s in app.stages if s.status == "COMPLETE" and s.num_tasks > 8]
    m = skew.measure(joined, sm.slot_count(app))
    assert m is not None and m.time_ratio >= 2 and m.data_ratio > 1.1 and m.straggler_seconds > 0
    assert sm.aqe_split_skew(sm.sql_execution_of(app, joined))
    lowered = {"spark.skew": {"data_ratio": {"low": 1.1}, "min_stage_seconds": 0, "min_straggler_seconds": 0}}
    assert findings("skew-aqe-on", lowered, rule_id="spark.skew") == []


def test_many_tiny_tasks_recommend_aqe_coalescing_and_a_partition_count() -> None:
    # 400 tasks < DataFlint's 5000: an early warning at the defaults, saying the overhead is per task
    (early,) = findings("many-tiny-tasks", rule_id="spark.too-many-partitions")
    ew = early_warning_of(early)
    assert ew["damped_by"] == ["400 tasks (the lowest threshold is 5,000)"] and ew["graded_severity"] is None
    assert ew["measured_avoidable"]["core_hours"] > 0 and early.avoidable_core_hours == 0
    assert "The count does not shrink with the data: at 100× the data the same 400 tasks" in early.scale_note
    assert "--conf spark.sql.shuffle.partitions=2 (" in early.recommendation
    tasks = {"low": 300, "medium": 400, "high": 1000, "critical": 2000}
    lowered = {"spark.too-many-partitions": {"tasks": tasks}}
    (f,) = findings("many-tiny-tasks", lowered, rule_id="spark.too-many-partitions")
    assert f.severity == "medium"
    ev: dict[str, Any] = dict(f.evidence)
    assert ev["num_tasks"] == 400 and ev["recommended_partitions"] == 2
    assert ev["median_task_ms"] < 500
    assert ("--conf spark.sql.adaptive.enabled=true "
            "--conf spark.sql.adaptive.coalescePartitions.enabled=true "
            "--conf spark.sql.adaptive.advisoryPartitionSizeInBytes=128m") in f.recommendation
    assert "--conf spark.sql.shuffle.partitions=2 (" in f.recommendation
    per_task = ev["overhead_per_task_ms"]
    assert 0 < per_task < ev["median_task_ms"]
    assert f.avoidable_core_hours == pytest.approx(per_task * (400 - 2) / 3_600_000, rel=0.01)


def test_retried_tasks_are_reported_with_their_cause_and_exact_wasted_time() -> None:
    (f,) = findings("task-retries", rule_id="spark.task-failures")
    app = scenario_app("task-retries")
    stage = next(s for s in app.stages if s.num_failed_tasks)
    assert f.evidence["failed_attempts"] == 8 and f.evidence["completed_tasks"] == 5
    assert f.evidence["categories"] == {"task exception": 8}
    assert f.evidence["wasted_ms"] == stage.failed_task_time_ms > 0
    assert "org.apache.spark.api.python.PythonException" in f.recommendation
    assert "spark.task.maxFailures=4" in f.recommendation and "retries succeeded" in f.recommendation
    # 9 s of lost work, below min_wasted_seconds: an early warning of a critical failure rate
    assert f.severity == "info" and f.estimated_savings_usd == 0 and f.avoidable_core_hours == 0
    ew = early_warning_of(f)
    assert ew["graded_severity"] == "critical" and ew["measured_avoidable"]["core_hours"] == pytest.approx(
        stage.failed_task_time_ms / 3_600_000, abs=1e-6)
    assert "At 100× the data and the same failure rate" in f.scale_note
    (undamped,) = findings("task-retries", {"spark.task-failures": {"min_wasted_seconds": 0}},
                           rule_id="spark.task-failures")
    assert undamped.severity == "critical"  # 8 of 12 attempts failed: rate 0.67 >= 0.5


def test_spill_recommends_partitions_and_restoring_memory_fraction() -> None:
    (f,) = findings("spill", rule_id="spark.spill")
    ev: dict[str, Any] = dict(f.evidence)
    assert ev["disk_spilled_bytes"] >= 100 * MiB and at_least(f.severity, "high")
    growth = 1 + ev["spill_per_task_bytes"] / ev["execution_memory_per_task_bytes"]
    partitions = math.ceil(4 * growth / 2) * 2  # 4 shuffle partitions, local[2]
    assert f"--conf spark.sql.shuffle.partitions={partitions} (from 4)" in f.recommendation
    assert "--conf spark.memory.fraction=0.6 (from 0.05)" in f.recommendation
    # local mode: the heap that runs tasks is the driver's (512m, 2 cores, fraction 0.05)
    assert ev["execution_memory_per_task_bytes"] == int((512 - 300) * MiB * 0.05 / 2)
    assert re.search(r"--conf spark\.driver\.memory=\d+m \(from 512m\)", f.recommendation)


def test_gc_heavy_app_gets_memory_and_gc_flag_advice() -> None:
    (early,) = findings("gc-heavy", rule_id="spark.gc-pressure")  # < 5 min of task time: an early warning
    assert early.severity == "info" and early.subject.get("stage_id") is None
    assert early_warning_of(early)["graded_severity"] == "medium"  # 11 % of task time
    assert early_warning_of(early)["damped_by"][0].endswith("s of task run time (min_app_run_seconds 300)")
    lowered = {"spark.gc-pressure": {"min_app_run_seconds": 5}}
    (f,) = findings("gc-heavy", lowered, rule_id="spark.gc-pressure")
    ev: dict[str, Any] = dict(f.evidence)
    assert ev["gc_share"] == pytest.approx(ev["gc_time_ms"] / ev["executor_run_time_ms"], abs=1e-4)
    assert f.severity == gc_pressure.GcPressure.Config().share.severity(ev["gc_share"])
    assert "--conf spark.driver.memory=1g (from 512m)" in f.recommendation
    assert '-XX:+UseG1GC' in f.recommendation and "drop -Xmn2m" in f.recommendation
    assert f.avoidable_core_hours == pytest.approx(
        (ev["gc_time_ms"] - 0.05 * ev["executor_run_time_ms"]) / 3_600_000)


def test_oversized_partition_gets_a_partition_count_from_its_bytes() -> None:
    # one shuffle partition of 25.7 MiB: below 1 GiB, but 2.5 GiB at 100x the data over the same partition
    (early,) = findings("oversized-partitions", rule_id="spark.oversized-partitions")
    assert early.severity == "info" and early.evidence["max_task_kind"] == "shuffle read"
    assert "At 100× the data over the same 1 partition(s) the largest task would read 2.5 GiB" in (
        early.scale_note)
    lowered = {"spark.oversized-partitions": {
        "task_bytes": {"low": 8 * MiB, "medium": 16 * MiB, "high": GiB, "critical": 2 * GiB},
        "target_partition_bytes": 4 * MiB}}
    (f,) = findings("oversized-partitions", lowered, rule_id="spark.oversized-partitions")
    ev: dict[str, Any] = dict(f.evidence)
    assert ev["num_tasks"] == 1 and ev["max_task_kind"] == "shuffle read" and f.severity == "medium"
    expected = math.ceil(math.ceil(ev["stage_data_bytes"] / (4 * MiB)) / 2) * 2
    assert ev["recommended_partitions"] == expected
    assert f"--conf spark.sql.shuffle.partitions={expected} (from 1)" in f.recommendation
    assert ev["idle_slots"] == 1 and f.avoidable_core_hours > 0


@pytest.mark.parametrize("scenario, expected", [
    ("balanced", set()),
    ("skew-aqe-off", {"spark.skew"}),
    ("skew-aqe-on", set()),
    ("many-tiny-tasks", set()),
    ("task-retries", set()),
    ("spill", {"spark.spill"}),
    ("gc-heavy", set()),
    ("oversized-partitions", set()),
])
def test_only_planted_problems_reach_medium_severity(scenario: str, expected: set[str]) -> None:
    loud = {f.rule_id for f in findings(scenario) if at_least(f.severity, "medium")}
    assert loud == expected


# -- skew ------------------------------------------------------------------------------------------

def skewed_stage(**kw: Any) -> Stage:
    base: dict[str, Any] = dict(
        tasks=100, seconds=60, duration=q(500, 800, 1000, 1500, 20_000),
        shuffle_read=q(0, 8 * MiB, 10 * MiB, 12 * MiB, 200 * MiB),
        metrics=StageMetrics(shuffle_read_bytes=2 * GiB),
    )
    base.update(kw)
    return make_stage(**base)


def test_skew_measure_exact_numbers() -> None:
    m = skew.measure(skewed_stage(), slots=8)
    assert m is not None
    assert (m.time_ratio, m.data_ratio, m.read_kind) == (20.0, 20.0, "shuffle read")
    assert (m.tail_ms, m.idle_slots, m.avoidable_core_ms) == (18_500, 7, 129_500)
    assert m.straggler_seconds == 19.0
    assert m.expected_stage_seconds == pytest.approx(60 - 18.5)
    few = skew.measure(skewed_stage(tasks=3), slots=8)
    assert few is not None and few.idle_slots == 2  # fewer tasks than slots


@pytest.mark.parametrize("max_ms, max_bytes, severity", [
    (19_999, 200 * MiB, None),       # time ratio 1.9999
    (20_000, 200 * MiB, "low"),      # ratios 2 and 20: the milder wins
    (60_000, 19 * MiB, None),        # data ratio 1.9
    (60_000, 20 * MiB, "low"),       # ratios 6 and 2
    (60_000, 40 * MiB, "medium"),    # 6 and 4
    (80_000, 80 * MiB, "high"),      # 8 and 8
    (160_000, 160 * MiB, "critical"),
])
def test_skew_thresholds_at_their_boundaries(max_ms: int, max_bytes: int, severity: str | None) -> None:
    stage = skewed_stage(seconds=200, duration=q(5000, 8000, 10_000, 10_000, max_ms),
                         shuffle_read=q(0, 10 * MiB, 10 * MiB, 10 * MiB, max_bytes))
    found = check(skew.StageSkew, make_app(stage))
    assert [f.severity for f in found] == ([severity] if severity else [])


@pytest.mark.parametrize("seconds, straggler_ms, tasks, severity, graded, damped", [
    (9.99, 20_000, 100, "info", "critical", ["the stage ran 9.99 s (min_stage_seconds 10)"]),
    (10.0, 20_000, 100, "critical", None, []),
    (60.0, 5_999, 100, "info", "medium",
     ["the slowest task ran 5.00 s longer than the median (min_straggler_seconds 5)"]),  # 4.999 s
    (60.0, 6_000, 100, "medium", None, []),   # time ratio 6, data ratio 20; the straggler exactly 5 s
    (60.0, 20_000, 3, "info", "critical", ["3 tasks (min_tasks 4)"]),
    (60.0, 20_000, 4, "critical", None, []),
])
def test_skew_damping_boundaries_between_info_and_a_grade(seconds: float, straggler_ms: int, tasks: int,
                                                          severity: str, graded: str | None,
                                                          damped: list[str]) -> None:
    stage = skewed_stage(seconds=seconds, tasks=tasks, duration=q(0, 1000, 1000, 1000, straggler_ms))
    (f,) = check(skew.StageSkew, make_app(stage))
    assert f.severity == severity and f.confidence == "high"
    if severity == "info":
        ew = early_warning_of(f)
        assert ew["damped_by"] == damped and ew["graded_severity"] == graded
        assert f.avoidable_core_hours == 0 and ew["measured_avoidable"]["core_hours"] > 0
        assert f.scale_note.startswith("Small in this run: ") and "at 100× the data" in f.scale_note
    else:
        assert "early_warning" not in f.evidence and f.scale_note == "" and f.avoidable_core_hours > 0


def test_skew_damping_configurable_back_to_a_grade() -> None:
    app = make_app(skewed_stage(seconds=9.99))
    assert [f.severity for f in check(skew.StageSkew, app, min_stage_seconds=9.0)] == ["critical"]
    straggler = make_app(skewed_stage(duration=q(0, 1000, 1000, 1000, 5999)))
    assert [f.severity for f in check(skew.StageSkew, straggler, min_straggler_seconds=4.999)] == ["medium"]


def aqe_query(reader: PlanNode) -> SqlExecution:
    join = PlanNode(0, "SortMergeJoin", "SortMergeJoin [k]", {}, {}, (1,))
    return SqlExecution(7, "q", 0, 1, "", (join, dataclasses.replace(reader, node_id=1)), (0,))


@pytest.mark.parametrize("reader, reported", [
    (PlanNode(1, "AQEShuffleRead", "AQEShuffleRead coalesced and skewed", {}, {}), False),
    (PlanNode(1, "CustomShuffleReader", "CustomShuffleReader", {}, {"number of skewed partitions": 2}),
     False),
    (PlanNode(1, "AQEShuffleRead", "AQEShuffleRead coalesced", {}, {"number of skewed partitions": 0}), True),
])
def test_skew_trusts_stages_that_aqe_split(reader: PlanNode, reported: bool) -> None:
    job = Job(0, "SUCCEEDED", 0, 1, (1,), sql_execution_id=7)
    app = make_app(skewed_stage(), jobs=(job,), sql=(aqe_query(reader),))
    found = check(skew.StageSkew, app)
    assert bool(found) is reported
    if found:
        assert found[0].evidence["shuffle_join"] is True


def test_skew_recommendations_follow_the_kind_of_skew() -> None:
    join_app = make_app(skewed_stage(), props={"spark.sql.adaptive.enabled": "false"},
                        jobs=(Job(0, "SUCCEEDED", 0, 1, (1,), sql_execution_id=7),),
                        sql=(aqe_query(PlanNode(1, "Exchange", "Exchange", {}, {})),))
    (f,) = check(skew.StageSkew, join_app)
    # data ratio 20 -> Spark's factor 5 applies; 10 MiB x 5 = 50 MiB < 256 MiB default threshold
    assert "skewedPartitionFactor" not in f.recommendation
    assert "--conf spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes=50m" in f.recommendation
    assert "--conf spark.sql.adaptive.advisoryPartitionSizeInBytes=12m" in f.recommendation
    assert "salt the hot join key with 8 buckets" in f.recommendation  # min(8 slots, 200/12 MiB)
    on = dataclasses.replace(join_app, properties={"spark.sql.adaptive.enabled": "true"})
    (f_on,) = check(skew.StageSkew, on)
    assert f_on.recommendation.startswith("AQE's skew join is on but did not split this partition")
    (agg,) = check(skew.StageSkew, make_app(skewed_stage()))  # no SQL plan: not a join
    assert "AQE's skew join cannot split" in agg.recommendation and "floor(rand() * 8)" in agg.recommendation
    inp = skewed_stage(shuffle_read=None, input_bytes=q(0, 8 * MiB, 10 * MiB, 12 * MiB, 900 * MiB),
                       metrics=StageMetrics(input_bytes=10 * GiB))
    (f_in,) = check(skew.StageSkew, make_app(inp))
    assert "not splittable" in f_in.recommendation and ".repartition(80)" in f_in.recommendation


# -- gc pressure -------------------------------------------------------------------------------------

def gc_stage(stage_id: int, run_s: float, gc_s: float) -> Stage:
    return make_stage(stage_id, metrics=StageMetrics(executor_run_time_ms=int(run_s * 1000),
                                                     jvm_gc_time_ms=int(gc_s * 1000)))


def test_gc_measure_exact_numbers() -> None:
    m = gc_pressure.measure([gc_stage(1, 60, 9), gc_stage(2, 40, 3)], healthy_share=0.05)
    assert (m.run_time_ms, m.gc_time_ms, m.share, m.avoidable_ms) == (100_000, 12_000, 0.12, 7_000)
    assert gc_pressure.measure([gc_stage(1, 100, 1)], 0.05).avoidable_ms == 0


@pytest.mark.parametrize("gc_s, severity", [(79.9, None), (80, "low"), (100, "medium"), (150, "high"),
                                            (199.9, "high"), (200, "critical")])
def test_gc_thresholds_at_their_boundaries(gc_s: float, severity: str | None) -> None:
    found = check(gc_pressure.GcPressure, make_app(gc_stage(1, 1000, gc_s)))
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_gc_damping_and_stage_level_findings() -> None:
    small = make_app(gc_stage(1, 299, 100))  # 33 % of 299 s: an early warning of the whole application
    (early,) = check(gc_pressure.GcPressure, small)
    assert early.severity == "info" and "stage_id" not in early.subject
    assert early_warning_of(early)["graded_severity"] == "critical"
    measured = early_warning_of(early)["measured_avoidable"]["core_hours"]
    assert measured == pytest.approx((100 - 0.05 * 299) / 3600, abs=1e-6)
    assert "the same share would be 2.8 h of garbage collection per run" in early.scale_note
    assert check(gc_pressure.GcPressure, small, min_app_run_seconds=299)[0].severity == "critical"
    # the app as a whole is healthy (4 %), one big stage is not: a stage-level finding
    mixed = make_app(gc_stage(1, 400, 60), gc_stage(2, 5000, 150))
    (f,) = check(gc_pressure.GcPressure, mixed)
    assert f.subject["stage_id"] == 1 and f.severity == "high"


@pytest.mark.parametrize("props, cores, master, expected", [
    ({"spark.executor.memory": "16g"}, 8, "yarn", "--conf spark.executor.cores=4 (from 8)"),
    ({"spark.executor.memory": "2g"}, 4, "yarn", "--conf spark.executor.memory=4g (from 2g)"),
    ({"spark.executor.memory": "6g"}, 4, "yarn", "--conf spark.executor.memory=9g (from 6g)"),
    ({"spark.executor.memory": "12g"}, 4, "yarn", "--conf spark.executor.cores=2 (from 4)"),
    ({"spark.executor.memory": "20g"}, 2, "yarn", "--conf spark.executor.memory=25g (from 20g)"),
    ({"spark.driver.memory": "3g"}, 8, "local[8]", "--conf spark.driver.memory=6g (from 3g)"),
])
def test_gc_recommendation_follows_dr_elephants_step(props: dict[str, str], cores: int, master: str,
                                                     expected: str) -> None:
    app = make_app(gc_stage(1, 1000, 150), cores=cores, props=props, master=master,
                   executors=0 if master.startswith("local") else 2)
    if master.startswith("local"):
        app = dataclasses.replace(app, executors=(Executor("driver", "host", cores, add_time_ms=0),))
    (f,) = check(gc_pressure.GcPressure, app)
    assert f.recommendation.startswith(expected)


# -- too many partitions ----------------------------------------------------------------------------

def tiny_stage(tasks: int = 6000, median_ms: float = 100, data: int = GiB) -> Stage:
    return make_stage(tasks=tasks, duration=q(50, 80, median_ms, 120, 300), durations=(100,) * tasks,
                      shuffle_read=q(0, 0, data / tasks, data / tasks, data / tasks),
                      metrics=StageMetrics(executor_run_time_ms=60 * tasks, shuffle_read_bytes=data))


def test_too_many_partitions_measure_exact_numbers() -> None:
    m = too_many_partitions.measure(tiny_stage(), slots=16, target_bytes=128 * MiB)
    assert m is not None
    assert (m.recommended_partitions, m.overhead_per_task_ms) == (16, 40.0)  # 1 GiB / 128 MiB = 8 -> 16 cores
    assert m.excess_ratio == 6000 / 16 and m.avoidable_core_ms == 40.0 * (6000 - 16)


@pytest.mark.parametrize("tasks, median_ms, severity", [
    (4999, 100, "info"), (5000, 100, "low"), (10_000, 100, "medium"), (50_000, 100, "critical"),
    (5000, 500, None), (5000, 499.9, "low"),
])
def test_too_many_partitions_thresholds(tasks: int, median_ms: float, severity: str | None) -> None:
    found = check(too_many_partitions.TooManyPartitions,
                  make_app(tiny_stage(tasks, median_ms), props={"spark.sql.adaptive.enabled": "false"}))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert "--conf spark.sql.shuffle.partitions=8 (" in found[0].recommendation  # 1 GiB -> 8 -> 2x4 cores


def test_too_many_partitions_needs_real_excess() -> None:
    # 600 GiB over 6000 tasks is ~100 MiB each: the count fits the data, nothing to report
    assert check(too_many_partitions.TooManyPartitions, make_app(tiny_stage(data=600 * GiB))) == []


# -- oversized partitions ---------------------------------------------------------------------------

def big_stage(max_bytes: float, median_ms: float = 30_000, tasks: int = 4) -> Stage:
    return make_stage(tasks=tasks, duration=q(0, median_ms, median_ms, median_ms, median_ms),
                      shuffle_read=q(0, 0, max_bytes, max_bytes, max_bytes),
                      metrics=StageMetrics(shuffle_read_bytes=int(max_bytes * tasks)))


def test_oversized_measure_exact_numbers() -> None:
    m = oversized_partitions.measure(big_stage(6 * GiB), slots=8, target_bytes=128 * MiB,
                                     target_task_ms=120_000)
    assert m is not None
    assert (m.max_task_kind, m.max_task_bytes, m.data_bytes) == ("shuffle read", 6 * GiB, 24 * GiB)
    assert m.recommended_partitions == 192 and m.idle_slots == 4  # 24 GiB / 128 MiB
    assert m.avoidable_core_ms == 4 * 30_000
    by_time = oversized_partitions.measure(big_stage(MiB, median_ms=600_000), 8, 128 * MiB, 120_000)
    # 4 tasks x 10 min / 2 min = 20 -> 24 (a multiple of 8 slots)
    assert by_time is not None and by_time.recommended_partitions == 24


@pytest.mark.parametrize("max_bytes, median_ms, severity", [
    (GiB - 1, 30_000, "info"), (GiB, 30_000, "low"), (5 * GiB, 30_000, "medium"),
    (20 * GiB, 30_000, "critical"),
    (MiB, 150_000, "low"), (MiB, 899_000, "high"), (2 * GiB, 600_000, "high"),
])
def test_oversized_thresholds(max_bytes: float, median_ms: float, severity: str | None) -> None:
    app = make_app(big_stage(max_bytes, median_ms), props={"spark.sql.shuffle.partitions": "4"})
    found = check(oversized_partitions.OversizedPartitions, app)
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        n = found[0].evidence["recommended_partitions"]
        assert f"--conf spark.sql.shuffle.partitions={n} (from 4)" in found[0].recommendation


def test_oversized_input_recommends_smaller_splits_or_splittable_files() -> None:
    def input_stage(max_bytes: float) -> Stage:
        return make_stage(tasks=4, duration=q(0, 1, 200_000, 200_000, 200_000),
                          input_bytes=q(0, 0, max_bytes, max_bytes, max_bytes),
                          metrics=StageMetrics(input_bytes=int(4 * max_bytes)))
    (split,) = check(oversized_partitions.OversizedPartitions,
                     make_app(input_stage(GiB), props={"spark.sql.files.maxPartitionBytes": str(GiB)}))
    assert "--conf spark.sql.files.maxPartitionBytes=128m (from 1g)" in split.recommendation
    (gzip,) = check(oversized_partitions.OversizedPartitions, make_app(input_stage(3 * GiB)))
    assert "not splittable" in gzip.recommendation and ".repartition(96)" in gzip.recommendation


# -- task failures ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cause, category", [
    ("ExceptionFailure: java.lang.OutOfMemoryError", task_failures.HEAP_OOM),
    ("ExecutorLostFailure: Container killed by YARN for exceeding memory limits. 9.5 GB of 9.5 GB",
     task_failures.CONTAINER_MEMORY),
    ("ExecutorLostFailure: Executor Process Lost", task_failures.EXECUTOR_LOST),
    ("Resubmitted", task_failures.EXECUTOR_LOST),
    ("FetchFailed", task_failures.FETCH_FAILED),
    ("ExceptionFailure: com.nvidia.spark.rapids.jni.GpuSplitAndRetryOOM", task_failures.OTHER_OOM),
    ("ExceptionFailure: java.lang.RuntimeException", task_failures.APP_EXCEPTION),
    ("TaskResultLost", task_failures.OTHER),
])
def test_failure_cause_categories(cause: str, category: str) -> None:
    assert task_failures.cause_category(cause) == category


def test_failed_attempt_time_exact_estimated_and_bounded() -> None:
    exact = make_stage(failed=2, failed_time_ms=700, durations=(100, 200, 300, 400))
    assert sm.failed_attempt_time(exact) == sm.FailedTime(700, 700, 700)
    with_killed = make_stage(failed=1, killed=1, failed_time_ms=500, durations=(100, 200, 300, 400))
    assert sm.failed_attempt_time(with_killed) == sm.FailedTime(250, 100, 400)
    no_sum = make_stage(failed=2, durations=(100, 200, 300, 400))  # older models: mean estimate
    assert sm.failed_attempt_time(no_sum) == sm.FailedTime(500, 300, 700)


def failing_app(failed: int, completed: int = 100, wasted_s: float = 120, cause: str = "FetchFailed",
                props: dict[str, str] | None = None) -> Application:
    stage = make_stage(tasks=completed, failed=failed, failed_time_ms=int(wasted_s * 1000),
                       durations=(1000,) * (completed + failed), causes=((cause, failed),) if failed else ())
    return make_app(stage, props=props)


@pytest.mark.parametrize("failed, severity", [
    (5, None), (6, "low"), (12, "medium"), (43, "high"), (100, "critical"),
])
def test_task_failure_rate_thresholds(failed: int, severity: str | None) -> None:
    # rates 5/105 = 0.048, 6/106 = 0.057, 12/112 = 0.107, 43/143 = 0.301, 100/200 = 0.5
    found = check(task_failures.TaskFailures, failing_app(failed))
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_task_failures_damping_and_failed_stages() -> None:
    (early,) = check(task_failures.TaskFailures, failing_app(43, wasted_s=59))
    assert early.severity == "info" and early_warning_of(early)["graded_severity"] == "high"
    assert [f.severity for f in check(task_failures.TaskFailures, failing_app(43, wasted_s=60))] == ["high"]
    failed_stage = make_stage(2, status="FAILED", tasks=10, failure_reason="Job aborted due to stage failure")
    (f,) = check(task_failures.TaskFailures, make_app(failed_stage))
    assert f.severity == "critical" and f.evidence["stages"] == [
        {"stage_id": 2, "attempt_id": 0, "failed": 0, "rate": 0.0, "stage_failed": True, "recovered": False}]
    retried = make_stage(2, tasks=10)
    (g,) = check(task_failures.TaskFailures, make_app(failed_stage, retried))
    assert g.severity == "medium"
    cancelled = make_stage(2, status="FAILED",
                           failure_reason="Stage cancelled because SparkContext was shut down")
    assert check(task_failures.TaskFailures, make_app(cancelled)) == []


@pytest.mark.parametrize("cause, props, expected", [
    ("ExceptionFailure: java.lang.OutOfMemoryError", {"spark.executor.memory": "4g"},
     "--conf spark.executor.memory=6g (from 4g"),
    ("ExecutorLostFailure: Container killed by YARN for exceeding memory limits",
     {"spark.executor.memory": "8g"},
     "--conf spark.executor.memoryOverhead=1844m (from 820m"),
    ("FetchFailed", {"spark.shuffle.io.maxRetries": "6"},
     "--conf spark.shuffle.service.enabled=true --conf spark.shuffle.io.maxRetries=12 (from 6)"),
    ("ExecutorLostFailure: Executor Process Lost", {}, "--conf spark.decommission.enabled=true"),
])
def test_task_failure_recommendation_follows_the_dominant_cause(cause: str, props: dict[str, str],
                                                                expected: str) -> None:
    (f,) = check(task_failures.TaskFailures, failing_app(50, cause=cause, props=props))
    assert expected in f.recommendation
    assert f.avoidable_core_hours == pytest.approx(120 / 3600)


# -- spill and shared arithmetic --------------------------------------------------------------------

def test_spill_memory_per_task_uses_the_driver_heap_in_local_mode() -> None:
    local = dataclasses.replace(make_app(props={"spark.driver.memory": "2g", "spark.executor.memory": "8g"},
                                         master="local[4]"),
                                executors=(Executor("driver", "host", 4, add_time_ms=0),))
    assert spill.execution_memory_per_task(local) == (2048 - 300) * MiB * 0.6 / 4
    cluster = make_app(props={"spark.executor.memory": "8g"}, cores=4)
    assert spill.execution_memory_per_task(cluster) == (8192 - 300) * MiB * 0.6 / 4


def test_slot_count_sweeps_executor_lifetimes() -> None:
    execs = (Executor("driver", "h", 0, 0), Executor("1", "h", 4, 0, remove_time_ms=100),
             Executor("2", "h", 4, 100), Executor("3", "h", 8, 50, remove_time_ms=200))
    app = dataclasses.replace(make_app(), executors=execs)
    assert sm.slot_count(app) == 12  # 1 and 3 overlap (12); 2 replaces 1 at t=100 (12)
    local = dataclasses.replace(make_app(master="local[*]"), executors=(Executor("driver", "h", 12, 0),))
    assert sm.slot_count(local) == 12


@pytest.mark.parametrize("n, text", [(256 * 1024, "256k"), (1, "1k"), (MiB, "1m"), (1536 * MiB, "1536m"),
                                     (4 * GiB, "4g"), (4 * GiB + 1, "4097m")])
def test_size_conf(n: float, text: str) -> None:
    assert sm.size_conf(n) == text


def test_partitions_for_rounds_up_to_the_slots() -> None:
    assert sm.partitions_for(0, 128 * MiB, 8) == 8
    assert sm.partitions_for(129 * 128 * MiB, 128 * MiB, 8) == 136


def test_cores_alive_averages_executor_lifetimes_over_a_window() -> None:
    execs = (Executor("driver", "h", 0, 0), Executor("1", "h", 4, 0, remove_time_ms=1000),
             Executor("2", "h", 4, 500))
    app = dataclasses.replace(make_app(), executors=execs)
    assert sm.cores_alive(app, 0, 1000) == 6.0
    assert sm.cores_alive(app, 1000, 2000) == 4.0
    assert sm.cores_alive(app, None, 2000) == 8.0  # unknown window: the peak


def test_skew_counts_only_cores_alive_during_the_tail() -> None:
    # the stage runs 1 s .. 61 s; its 18.5 s tail starts at 42.5 s, when executor 1 is gone
    execs = (Executor("driver", "h", 0, 0), Executor("1", "h", 4, 0, remove_time_ms=40_000),
             Executor("2", "h", 4, 0))
    app = dataclasses.replace(make_app(skewed_stage()), executors=execs)
    (f,) = check(skew.StageSkew, app)
    assert f.evidence["idle_slots"] == 3
    assert f.avoidable_core_hours == pytest.approx(18_500 * 3 / 3_600_000)


def test_oversized_idle_slots_follow_the_cores_alive() -> None:
    m = oversized_partitions.measure(big_stage(6 * GiB), 8, 128 * MiB, 120_000, alive_slots=5)
    assert m is not None and (m.idle_slots, m.avoidable_core_ms, m.recommended_partitions) == (1, 30_000, 192)


def test_task_failures_measure_exact_numbers() -> None:
    a = make_stage(1, tasks=90, failed=10, failed_time_ms=30_000, durations=(3000,) * 100,
                   causes=(("ExceptionFailure: java.lang.OutOfMemoryError", 6), ("FetchFailed", 4)))
    b = make_stage(2, tasks=100, failed=0)
    m = task_failures.measure(make_app(a, b))
    assert (m.failed_attempts, m.completed_tasks, m.wasted_ms) == (10, 190, 30_000)
    assert m.rate == 10 / 200 and m.worst_stage_rate == 10 / 100
    assert m.categories == ((task_failures.HEAP_OOM, 6), (task_failures.FETCH_FAILED, 4))
    assert m.dominant_category == task_failures.HEAP_OOM and m.unrecovered_stages == ()


def test_spill_measure_and_recommendation_exact_numbers() -> None:
    stage = make_stage(tasks=10, metrics=StageMetrics(
        shuffle_read_bytes=2 * GiB, memory_bytes_spilled=GiB, disk_bytes_spilled=500 * MiB),
        shuffle_read=q(0, 0, 200 * MiB, 200 * MiB, 200 * MiB))
    m = spill.measure(stage, memory_per_task_bytes=100 * MiB)
    assert (m.ratio, m.spill_per_task_bytes, m.avoidable_seconds) == (0.5, GiB / 10, 10.0)
    app = make_app(stage, props={"spark.executor.memory": "8g", "spark.sql.shuffle.partitions": "10"})
    (f,) = check(spill.StageSpill, app)
    # 1183.8 MiB of execution memory per task, 102.4 MiB spilled: growth 1.09 -> 12 partitions (x4 cores);
    # heap = 300 MiB + (1183.8 + 102.4) MiB x 4 cores / 0.6 = 8874.7 MiB
    assert f.recommendation.startswith("--conf spark.sql.shuffle.partitions=12 (from 10), or "
                                       "--conf spark.executor.memory=8875m (from 8g)")
    assert f.severity == "medium"
