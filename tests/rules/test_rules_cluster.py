"""spark.oversized-cluster, spark.driver-bound and the stage-DAG simulator behind them.

The scenario logs under tests/data/scenarios/cluster/ were written by real Spark 4.3.0 runs of
tests/scenarios/cluster_jobs.py (see the README there); no Spark runs at test time.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from analyzer.api import analyze_spark_logs, find_logs, read_logs
from analyzer.core import timeline as tl
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Job, Stage, StageMetrics, TaskDistributions
from rules.config import parse_config
from rules.spark import driver_bound as db
from rules.spark import oversized_cluster as oc
from rules.spark._simulate import (
    Calibration,
    SimStage,
    schedule_group,
    sim_groups,
    simulate_jobs,
    size_cluster,
)

SCENARIOS = Path(__file__).parents[1] / "data" / "scenarios" / "cluster"
OVERSIZED, DRIVER_BOUND = "spark.oversized-cluster", "spark.driver-bound"
MY_RULES = (OVERSIZED, DRIVER_BOUND)
# The scenario apps are seconds long: switch the production damping off, keep the thresholds.
SMALL_APPS = parse_config({"rules": {OVERSIZED: {"min_allocated_core_hours": 0.0},
                                     DRIVER_BOUND: {"min_driver_only_seconds": 10.0}}})
SEVERE = ("medium", "high", "critical")


def _findings(scenario: str, config=SMALL_APPS) -> list[Finding]:  # type: ignore[no-untyped-def]
    report = analyze_spark_logs([str(SCENARIOS / scenario)], rules_config=config)
    assert not report.errors and len(report.applications) == 1
    return [f for f in report.findings if f.rule_id in MY_RULES]


def _ev(finding: Finding, key: str) -> Any:
    """One evidence value (evidence is typed ``object`` in the report model)."""
    return finding.evidence[key]


def _conf_value(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1))


def _app(scenario: str) -> Application:
    sources, errors = find_logs([str(SCENARIOS / scenario)])
    assert not errors
    (app,) = read_logs(sources)
    assert isinstance(app, Application)
    return app


# -- the planted problems, from real Spark logs -------------------------------------------------

def test_oversized_scenario_recommends_fewer_than_four_executors() -> None:
    (finding,) = [f for f in _findings("oversized") if f.rule_id == OVERSIZED]
    assert finding.severity in SEVERE
    count = _conf_value(r"spark\.executor\.instances=(\d+)", finding.recommendation)
    assert 1 <= count < 4 and _ev(finding, "recommended_count") == count
    assert _ev(finding, "executors_observed") == 4
    assert f"spark.cores.max={count}" in finding.recommendation  # local-cluster is standalone
    assert _ev(finding, "model_error") <= 0.25
    assert _ev(finding, "idle_share_in_jobs") >= 0.5
    idle = _ev(finding, "allocated_core_hours_in_jobs") - _ev(finding, "task_core_hours")
    assert 0 < finding.avoidable_core_hours <= idle + 1e-4
    # the prediction stays within the 10 % the sizing allows (plus driver-only time, unchanged)
    assert _ev(finding, "predicted_duration_ms") <= 1.1 * _ev(finding, "app_duration_ms")


def test_driver_bound_scenario_recommends_dynamic_allocation_from_the_gap() -> None:
    (finding,) = [f for f in _findings("driver-bound") if f.rule_id == DRIVER_BOUND]
    assert finding.severity in ("high", "critical")
    rec = finding.recommendation
    assert "spark.dynamicAllocation.enabled=true" in rec
    assert "spark.dynamicAllocation.shuffleTracking.enabled=true" in rec
    timeout = _conf_value(r"executorIdleTimeout=(\d+)s", rec)
    longest = _ev(finding, "longest_gaps")[0]
    assert longest["after_job"] == 0 and longest["before_job"] == 1
    assert longest["duration_ms"] >= 25_000  # the driver's ~30 s Python loop
    assert 10 <= timeout <= longest["duration_ms"] / 2000
    assert _ev(finding, "recommended_idle_timeout_s") == timeout
    assert "collect/toPandas/Python loops" in rec
    # the saving claimed is what the recommended timeout releases, as the evidence says; the title says
    # where the executors waited
    released = _ev(finding, "released_core_hours_with_timeout")
    assert finding.avoidable_core_hours == pytest.approx(released, abs=1e-4)
    assert 0 < released < _ev(finding, "held_core_hours_in_gaps")
    assert finding.title.endswith(f"longest {longest['duration_ms'] / 1000:,.0f} s between jobs 0 and 1")


def test_driver_bound_scenario_at_the_defaults_is_an_early_warning() -> None:
    # 35 s of waiting in a 53 s run: below the 60 s damping, but a 31 s gap dynamic allocation could use
    (finding,) = [f for f in _findings("driver-bound", config=None) if f.rule_id == DRIVER_BOUND]
    assert (finding.severity, finding.confidence, finding.avoidable_core_hours) == ("info", "high", 0)
    ew = _ev(finding, "early_warning")
    assert ew["graded_severity"] == "critical"
    assert ew["damped_by"] == ["executors waited 35.3 s for the driver (min_driver_only_seconds 60)"]
    released = _ev(finding, "released_core_hours_with_timeout")  # rounded to 4 places in the evidence
    assert ew["measured_avoidable"]["core_hours"] == pytest.approx(released, abs=1e-4)
    assert "at 100× the data, if the driver-side work" in finding.scale_note


def test_driver_bound_scenario_is_not_an_oversized_cluster() -> None:
    assert not [f for f in _findings("driver-bound") if f.rule_id == OVERSIZED and f.severity in SEVERE]


def test_balanced_scenario_stays_quiet() -> None:
    assert not [f for f in _findings("balanced") if f.severity in SEVERE]
    assert not _findings("balanced", config=None)  # production damping: nothing at all


@pytest.mark.parametrize("scenario", ["oversized", "driver-bound", "balanced"])
def test_the_two_rules_split_allocated_core_time_without_overlap(scenario: str) -> None:
    app = _app(scenario)
    cluster, driver = oc.measure(app), db.measure(app)
    assert cluster is not None and driver is not None
    assert cluster.allocated_in_jobs_core_ms + driver.held_gap_core_ms == cluster.allocated_core_ms


def test_balanced_scenario_simulation_needs_every_executor() -> None:
    m = oc.measure(_app("balanced"))
    assert m is not None and m.sizing.count == 4 and m.idle_share < 0.3
    assert m.calibration.error < 0.1


def test_calibration_refusal_on_a_real_log() -> None:
    m = oc.measure(_app("oversized"))
    assert m is not None and m.calibration.error > 0
    strict = parse_config({"rules": {OVERSIZED: {"min_allocated_core_hours": 0.0,
                                                 "max_model_error": m.calibration.error / 2}}})
    (finding,) = [f for f in _findings("oversized", strict) if f.rule_id == OVERSIZED]
    assert "spark.executor.instances=" not in finding.recommendation
    assert "off the real job time" in finding.recommendation
    assert "recommended_count" not in finding.evidence and finding.avoidable_core_hours == 0


# -- the simulator, exactly ---------------------------------------------------------------------

def test_eight_one_second_tasks_on_two_three_and_four_slots() -> None:
    stage = [SimStage(0, (), (1000,) * 8)]
    assert [schedule_group(stage, n) for n in (1, 2, 3, 4, 8, 16)] == [8000, 4000, 3000, 2000, 1000, 1000]


def test_dag_with_parallel_branches() -> None:
    # 0 and 1 are independent; 2 joins them.
    dag = [SimStage(0, (), (100, 100)), SimStage(1, (), (300,)), SimStage(2, (0, 1), (50, 50))]
    assert schedule_group(dag, 1) == 600  # everything in series
    assert schedule_group(dag, 2) == 450  # 1 waits for a slot until 100, ends 400; 2 runs 400-450
    assert schedule_group(dag, 3) == 350  # 1 runs beside 0 and ends at 300; 2 runs 300-350


def test_stage_waits_for_its_slowest_parent_and_ignores_parents_outside_the_group() -> None:
    dag = [SimStage(5, (4, 99), (10,)), SimStage(4, (), (70,))]
    assert schedule_group(dag, 4) == 80


def test_tasks_below_one_millisecond_count_as_one() -> None:
    assert schedule_group([SimStage(0, (), (0, 0, 0))], 1) == 3
    assert schedule_group([], 3) == 0
    with pytest.raises(ValueError):
        schedule_group([SimStage(0, (), (1,))], 0)


def test_slots_that_arrive_late() -> None:
    # a second executor registers 50 ms into the group (dynamic allocation scaling up)
    assert schedule_group([SimStage(0, (), (100, 100, 100))], [0, 50]) == 200
    assert schedule_group([SimStage(0, (), (100,))], [30]) == 130
    with pytest.raises(ValueError):
        schedule_group([SimStage(0, (), (1,))], [])


def test_groups_run_in_series_each_on_its_own_slots() -> None:
    groups = [[SimStage(0, (), (100,) * 4)], [SimStage(1, (), (100,) * 4)]]
    assert simulate_jobs(groups, [2, 4]) == (200, 100)


def test_sizing_picks_the_smallest_count_within_the_tolerance() -> None:
    curve = {1: 1100, 2: 1050, 3: 1000, 4: 1000}
    assert size_cluster(curve.__getitem__, 4, 0.10).count == 1  # 1100 <= 1.1 x 1000: inclusive
    assert size_cluster(curve.__getitem__, 4, 0.09).count == 2
    assert size_cluster(curve.__getitem__, 4, 0.0).count == 3
    searched = size_cluster(curve.__getitem__, 4, 0.09, exhaustive=False)
    assert searched.count == 2 and searched.reference_ms == 1000 and dict(searched.curve)[2] == 1050


def test_sizing_of_eight_tasks() -> None:
    stage = [[SimStage(0, (), (1000,) * 8)]]
    sizing = size_cluster(lambda n: sum(simulate_jobs(stage, [n])), 8, 0.10)
    assert sizing.count == 8 and sizing.curve[-1] == (8, 1000)
    single = [[SimStage(0, (), (10_000,)), SimStage(1, (), (1000,) * 4)]]  # 1 slot: 14 s; 2: 10 s
    assert size_cluster(lambda n: sum(simulate_jobs(single, [n])), 4, 0.10).count == 2


def test_calibration_factor_and_error() -> None:
    cal = Calibration(real_ms=1000, simulated_ms=800)
    assert cal.factor == 1.25 and cal.error == pytest.approx(0.2)
    assert Calibration(0, 500).error == 1.0 and Calibration(500, 0).factor == 1.0


# -- hand-built applications: boundaries, local mode, dynamic allocation -----------------------

def _stage(stage_id: int, tasks: tuple[int, ...], submit: int, parents: tuple[int, ...] = (),
           job: int = 0) -> Stage:
    dist = TaskDistributions(len(tasks), None, None, None, None, None, None, None, None)
    return Stage(stage_id, 0, f"s{stage_id}", "COMPLETE", len(tasks), len(tasks), 0, 0, 0, submit, submit,
                 submit + max(tasks), None, parents, (job,), StageMetrics(), dist, task_durations_ms=tasks)


def _application(jobs: list[tuple[int, int]], stages: list[Stage], executors: int = 2, cores: int = 1,
                 end: int = 100_000, master: str = "yarn",
                 props: dict[str, str] | None = None) -> Application:
    execs = tuple(Executor(str(i), "h", cores, 0) for i in range(executors))
    job_objs = tuple(Job(i, "SUCCEEDED", s, e, tuple(st.stage_id for st in stages if st.job_ids == (i,)))
                     for i, (s, e) in enumerate(jobs))
    properties = {"spark.master": master, **(props or {})}
    return Application("app-1", None, "synthetic", None, "4.3.0", master, 0, end, True, "test",
                       properties, execs, job_objs, tuple(stages))


def _one_job_app(busy_ms: int) -> Application:
    """2 one-core executors for 100 s, one job over all of it, tasks adding up to ``busy_ms``."""
    return _application([(0, 100_000)], [_stage(0, (busy_ms // 2, busy_ms - busy_ms // 2), 0)])


@pytest.mark.parametrize(("busy_ms", "severity"), [
    (140_001, None), (140_000, "low"), (100_001, "low"), (100_000, "medium"), (60_000, "high"),
    (30_001, "high"), (30_000, "critical"),
])
def test_idle_share_threshold_boundaries(busy_ms: int, severity: str | None) -> None:
    config = oc.OversizedCluster.Config(min_allocated_core_hours=0.0)
    findings = list(oc.OversizedCluster().check(_one_job_app(busy_ms), config))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_oversized_damping_on_allocated_core_hours() -> None:
    app = _one_job_app(30_000)  # 200 core-seconds in jobs = 0.0556 core-hours
    rule = oc.OversizedCluster()
    (early,) = rule.check(app, oc.OversizedCluster.Config(min_allocated_core_hours=0.056))
    assert early.severity == "info" and _ev(early, "early_warning")["graded_severity"] == "critical"
    assert _ev(early, "early_warning")["damped_by"] == [
        "0.056 core-hours held during jobs (min_allocated_core_hours 0.056)"]
    (graded,) = rule.check(app, oc.OversizedCluster.Config(min_allocated_core_hours=0.055))
    assert graded.severity == "critical" and graded.scale_note == ""


def test_oversized_measure_on_a_hand_built_app() -> None:
    # 4 executors; a 60-s single task beside three 1-s tasks (one group), then a 4 x 2 s stage.
    stages = [_stage(0, (60_000,), 0, job=0), _stage(1, (1000,) * 3, 0, job=1),
              _stage(2, (2000,) * 4, 70_000, job=2)]
    app = _application([(0, 60_000), (0, 2_000), (70_000, 72_000)], stages, executors=4, end=80_000)
    m = oc.measure(app)
    assert m is not None
    assert (m.job_ms, m.driver_only_ms, m.observed) == (62_000, 18_000, 4)
    assert m.allocated_in_jobs_core_ms == 4 * 62_000 and m.busy_core_ms == 71_000
    # 1 executor: 63 s + 8 s > 1.1 x 62 s; 2 executors: 60 s (3 x 1 s beside the long task) + 4 s
    assert dict(m.sizing.curve) == {1: 71_000, 2: 64_000, 4: 62_000}
    assert m.sizing.count == 2 and m.calibration.error == 0
    assert m.held_core_ms_at_count == 2 * 64_000 and m.avoidable_core_ms == 4 * 62_000 - 2 * 64_000
    (finding,) = oc.OversizedCluster().check(app, oc.OversizedCluster.Config(min_allocated_core_hours=0.0))
    assert finding.severity == "high"  # idle share 1 - 71 / 248 = 0.71
    assert "--conf spark.executor.instances=2:" in finding.recommendation
    assert _ev(finding, "predicted_duration_ms") == 18_000 + 64_000


def test_oversized_dynamic_allocation_caps_max_executors() -> None:
    stages = [_stage(0, (60_000,), 0, job=0), _stage(1, (1000,) * 4, 70_000, job=1)]
    app = _application([(0, 60_000), (70_000, 71_000)], stages, executors=4, end=80_000,
                       props={"spark.dynamicAllocation.enabled": "true"})
    (finding,) = oc.OversizedCluster().check(app, oc.OversizedCluster.Config(min_allocated_core_hours=0.0))
    assert "spark.dynamicAllocation.maxExecutors=1" in finding.recommendation


def test_oversized_local_mode_sizes_local_cores() -> None:
    stages = [_stage(0, (60_000,), 0), _stage(1, (100,) * 8, 61_000, job=1)]
    app = _application([(0, 60_000), (61_000, 62_000)], stages, executors=0, end=62_000, master="local[8]")
    app = _with_driver(app, cores=8)
    (finding,) = oc.OversizedCluster().check(app, oc.OversizedCluster.Config(min_allocated_core_hours=0.0))
    assert finding.recommendation.startswith("--master local[1]")
    assert _ev(finding, "local_cores") == 8
    assert db.measure(app) is None  # local mode: nothing to release between jobs


def _with_driver(app: Application, cores: int) -> Application:
    return replace(app, executors=(Executor("driver", "h", cores, 0),))


def _gap_app(job_end_ms: int, props: dict[str, str] | None = None) -> Application:
    """One 2-core executor for 100 s; one job from 0 to ``job_end_ms``, then the driver alone."""
    return _application([(0, job_end_ms)], [_stage(0, (job_end_ms,), 0)], executors=1, cores=2, props=props)


@pytest.mark.parametrize(("job_end_ms", "severity"), [
    (80_001, None), (80_000, "low"), (65_001, "low"), (65_000, "medium"), (50_000, "high"),
    (30_001, "high"), (30_000, "critical"),
])
def test_driver_only_share_threshold_boundaries(job_end_ms: int, severity: str | None) -> None:
    config = db.DriverBound.Config(min_driver_only_seconds=0.0)
    findings = list(db.DriverBound().check(_gap_app(job_end_ms), config))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_driver_bound_damping_and_saving() -> None:
    app = _gap_app(40_000)  # 60 s without a job, 2 cores held
    rule = db.DriverBound()
    (early,) = rule.check(app, db.DriverBound.Config(min_driver_only_seconds=60.001))
    assert early.severity == "info" and early.avoidable_core_hours == 0
    (finding,) = rule.check(app, db.DriverBound.Config(min_driver_only_seconds=60.0))
    assert finding.severity == "high"
    # the idle timeout (30 s) releases the last 30 s of the 60 s gap: that is the saving claimed
    assert _ev(finding, "recommended_idle_timeout_s") == 30
    assert _ev(finding, "released_core_hours_with_timeout") == pytest.approx(round(2 * 30 / 3600, 4))
    assert finding.avoidable_core_hours == pytest.approx(2 * 30 / 3600)
    assert _ev(finding, "held_core_hours_in_gaps") == pytest.approx(round(2 * 60 / 3600, 4))
    assert "after the last job (0)" in finding.recommendation
    assert finding.title == "Executors waited 60 s (60%) for the driver, after the last job (0)"


@pytest.mark.parametrize(("job_end_ms", "end_ms", "severity", "graded"), [
    (80_001, 100_000, None, None),      # 19.999 s of 100 s: share below 0.2
    (80_000, 100_000, "info", "low"),   # 20 s: share 0.2, below the 60 s damping, one 20 s gap
    (40_001, 100_000, "info", "high"),  # 59.999 s: still damped
    (40_000, 100_000, "high", None),    # 60 s: graded
    (8_000, 10_000, None, None),        # share 0.2 but a 2 s wait with no long gap: start-up noise, silent
])
def test_driver_bound_boundaries_between_info_and_a_grade(job_end_ms: int, end_ms: int, severity: str | None,
                                                          graded: str | None) -> None:
    app = _application([(0, job_end_ms)], [_stage(0, (job_end_ms,), 0)], executors=1, cores=2, end=end_ms)
    found = list(db.DriverBound().check(app, db.DriverBound.Config()))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity == "info":
        assert _ev(found[0], "early_warning")["graded_severity"] == graded
        assert found[0].scale_note.startswith("Small in this run: executors waited")


def test_driver_bound_with_dynamic_allocation_already_on() -> None:
    app = _gap_app(40_000, {"spark.dynamicAllocation.enabled": "true",
                            "spark.dynamicAllocation.minExecutors": "1"})
    (finding,) = db.DriverBound().check(app, db.DriverBound.Config())
    assert "--conf spark.dynamicAllocation.executorIdleTimeout=30s" in finding.recommendation
    assert "--conf spark.dynamicAllocation.minExecutors=0" in finding.recommendation
    assert "enabled=true" not in finding.recommendation


def test_idle_timeout_from_gaps() -> None:
    def gap(seconds: float) -> db.Gap:
        return db.Gap(0, int(seconds * 1000), 0, int(seconds * 1000), None, None)

    assert db.idle_timeout_s([gap(32)]) == 15
    assert db.idle_timeout_s([gap(21), gap(500)]) == 10
    assert db.idle_timeout_s([gap(500)]) == 60
    assert db.idle_timeout_s([gap(95)]) == 45


def test_parse_duration() -> None:
    assert [db.parse_duration_ms(t) for t in ("60s", "2min", "500ms", "120", "1h", "x", None)] == [
        60_000, 120_000, 500, 120_000, 3_600_000, None, None]


# -- the timeline helpers ----------------------------------------------------------------------

def test_job_groups_merge_overlapping_and_touching_jobs() -> None:
    app = _application([(0, 10), (5, 20), (20, 30), (40, 50)], [], end=100)
    groups = tl.job_groups(app, (0, 100))
    assert [(g.start_ms, g.end_ms, g.job_ids) for g in groups] == [(0, 30, (0, 1, 2)), (40, 50, (3,))]
    assert tl.gaps((0, 100), [(0, 30), (40, 50)]) == [(30, 40), (50, 100)]
    assert tl.gaps((0, 100), []) == [(0, 100)]


def test_lifetimes_peak_and_held_time() -> None:
    lives = [tl.Lifetime("1", 2, 0, 50), tl.Lifetime("2", 2, 50, 100), tl.Lifetime("3", 4, 20, 60)]
    assert tl.peak_executors(lives) == 2  # a removal at 50 happens before the addition at 50
    assert tl.held_core_ms(lives, [(0, 100)]) == 2 * 50 + 2 * 50 + 4 * 40
    assert tl.held_wall_ms(lives, [(40, 120)]) == 60
    timeline = tl.CoreTimeline.of(lives)
    assert timeline.core_ms((0, 100)) == 360 and timeline.core_ms((45, 55)) == 2 * 10 + 4 * 10
    assert timeline.alive_ms((0, 120)) == 100 and timeline.core_ms((100, 120)) == 0
    assert (timeline.cores_at(30), timeline.cores_at(50), timeline.max_cores((0, 100))) == (6, 6, 6)
    assert timeline.max_cores((60, 100)) == 2 and timeline.cores_at(100) == 0


def test_executor_arrivals_replay_the_ramp_up() -> None:
    # 1 executor from the start, 3 more join at 10, 20 and 30 ms, one leaves at 25 (peak 3).
    lives = [tl.Lifetime("0", 2, 0, 100), tl.Lifetime("1", 2, 10, 25), tl.Lifetime("2", 2, 20, 100),
             tl.Lifetime("3", 2, 30, 100)]
    timeline, adds = tl.CoreTimeline.of(lives), sorted(life.start_ms for life in lives)
    assert tl.executor_arrivals(timeline, adds, (5, 100), 2) == [0, 5, 15]  # capped at 3 at once
    assert tl.executor_arrivals(timeline, adds, (0, 100), 2) == [0, 10, 20]
    assert tl.executor_arrivals(timeline, adds, (40, 50), 2) == [0, 0, 0]
    assert tl.executor_arrivals(timeline, adds, (200, 300), 2) == [0]  # none alive: one, as a floor
    assert tl.held_wall_ms([tl.Lifetime("1", 1, 0, 10), tl.Lifetime("2", 1, 20, 30)], [(5, 25)]) == 10


def test_sim_groups_replays_a_stage_only_where_it_ran() -> None:
    stages = [_stage(0, (10,), 0), _stage(1, (20,), 100, parents=(0,), job=1)]
    groups = sim_groups(_application([(0, 50), (100, 150)], stages), [(0, 50, (0,)), (100, 150, (1,))])
    assert groups == ((SimStage(0, (), (10,)),), (SimStage(1, (0,), (20,)),))


def test_slots_per_executor_respects_task_cpus_and_custom_resources() -> None:
    assert tl.slots_per_executor(_application([], []), 8) == 8
    assert tl.slots_per_executor(_application([], [], props={"spark.task.cpus": "2"}), 8) == 4
    gpu = {"spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "0.25"}
    assert tl.slots_per_executor(_application([], [], props=gpu), 16) == 4
    assert tl.slots_per_executor(_application([], [], props={"spark.task.cpus": "4"}), 2) == 1


def test_local_mode_without_a_smaller_size_is_at_most_info() -> None:
    # local[2]: two 60-s tasks side by side, then one 120-s task alone (a core idles for 120 s): idle share
    # 1/3, but local[1] would take 240 s, more than the 10 % tolerance allows: nothing can change.
    stages = [_stage(0, (60_000, 60_000), 0), _stage(1, (120_000,), 60_000, parents=(0,))]
    app = _with_driver(_application([(0, 180_000)], stages, executors=0, end=180_000, master="local[2]"), 2)
    undamped = oc.OversizedCluster.Config(min_allocated_core_hours=0.0)
    (finding,) = oc.OversizedCluster().check(app, undamped)
    assert (finding.severity, finding.avoidable_core_hours) == ("info", 0)
    assert _ev(finding, "early_warning")["graded_severity"] == "low"
    assert finding.scale_note.startswith("Local mode cannot release idle cores during a job")
    # small as well as unchangeable: nothing at all
    assert list(oc.OversizedCluster().check(app, oc.OversizedCluster.Config())) == []
