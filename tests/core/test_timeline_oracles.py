"""Independent oracles for the application timeline: windows, lifetimes, job groups and core time.

Why: the waste ledger (driver-only core time) and the ``spark.oversized-cluster`` simulation
(executor arrivals, slots, peak executors) stand on these helpers, and a shifted boundary
moves core-hours between buckets without any total changing. Every figure below is worked
out by hand in the comments from a small timeline drawn in the test; none is computed with a
helper of ``analyzer.core.timeline``.
"""

from __future__ import annotations

import pytest

from analyzer.core import timeline as tl
from analyzer.core.model import Application, Executor, Job, Quantiles, Stage, StageMetrics, TaskDistributions


def app(**changes: object) -> Application:
    fields: dict[str, object] = dict(
        app_id="a", attempt_id=None, name="n", user=None, spark_version="3.5", master="yarn",
        start_time_ms=1_000, end_time_ms=2_000, complete=True, source="hand")
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


def stage(durations: tuple[int, ...] = (), run_time_ms: int = 0, start: int | None = None,
          end: int | None = None) -> Stage:
    q = Quantiles(0, 0, 0, 0, 0)
    return Stage(stage_id=0, attempt_id=0, name="s", status="COMPLETE", num_tasks=len(durations),
                 num_complete_tasks=len(durations), num_failed_tasks=0, num_killed_tasks=0,
                 num_speculative_tasks=0, submission_time_ms=start, first_task_launched_time_ms=start,
                 completion_time_ms=end, failure_reason=None, parent_stage_ids=(), job_ids=(),
                 metrics=StageMetrics(executor_run_time_ms=run_time_ms),
                 tasks=TaskDistributions(len(durations), q, q, q, q, q, q, q, q), task_durations_ms=durations)


def ex(executor_id: str, cores: int, add: int | None = None, remove: int | None = None) -> Executor:
    return Executor(executor_id, "h", cores, add, remove)


# --- sizes and modes ---------------------------------------------------------------------------------


def test_executor_cores_is_the_most_common_size_of_the_executors() -> None:
    # Sizes 2, 4, 4 (and a 16-core driver, and a 0-core executor that never registered): 4 is the mode;
    # its count (2) must not be mistaken for the size.
    executors = (ex("driver", 16), ex("1", 2), ex("2", 4), ex("3", 4), ex("4", 0), ex("5", 0), ex("6", 0))
    assert tl.executor_cores(app(executors=executors)) == 4
    # 1-core executors are a size like any other, whatever the property says.
    ones = (ex("driver", 0), ex("1", 1), ex("2", 1))
    assert tl.executor_cores(app(executors=ones, properties={"spark.executor.cores": "4"})) == 1


@pytest.mark.parametrize(("props", "master", "cores"), [
    ({"spark.executor.cores": "3"}, "yarn", 3),       # no executor seen: the property
    ({"spark.executor.cores": "x3"}, "local[5]", 5),  # not a number: the local[N] size
    ({}, "local-cluster[6,1,1024]", 6),
    ({}, "local[*]", 1),                              # no size known at all: 1
    ({}, "yarn", 1),
])
def test_executor_cores_without_executors(props: dict[str, str], master: str, cores: int) -> None:
    assert tl.executor_cores(app(properties=props, master=master, executors=(ex("driver", 8),))) == cores


@pytest.mark.parametrize(("master", "local_n", "local_mode"), [
    ("local", None, True), ("local[4]", 4, True), ("local[12]", 12, True), ("local[*]", None, True),
    ("local-cluster[3,2,1024]", 3, False), ("localhost:7077", None, False), ("yarn", None, False),
    ("spark://local[2]", None, False), (None, None, False),
])
def test_local_masters(master: str | None, local_n: int | None, local_mode: bool) -> None:
    assert tl.local_cores(app(master=master)) == local_n
    assert tl.is_local_mode(app(master=master)) is local_mode


# --- the window of a run -----------------------------------------------------------------------------


def test_last_event_is_the_latest_job_or_stage_time_never_an_executor_time() -> None:
    run = app(end_time_ms=None,
              jobs=(Job(0, "SUCCEEDED", 1_100, 1_500, ()), Job(1, "RUNNING", 1_600, None, ())),
              stages=(stage(start=1_200, end=1_700), stage(start=1_650, end=None)),
              executors=(ex("1", 4, 1_000, 9_000),))
    assert tl.last_event_ms(run) == 1_700
    assert tl.last_event_ms(app(jobs=(Job(0, "RUNNING", 1_800, None, ()),))) == 1_800  # a submission only
    assert tl.last_event_ms(app()) is None


def test_app_window() -> None:
    assert tl.app_window(app()) == (1_000, 2_000)
    # No end: the last job or stage event ends it.
    assert tl.app_window(app(end_time_ms=None, stages=(stage(start=1_100, end=1_400),))) == (1_000, 1_400)
    assert tl.app_window(app(end_time_ms=None)) is None  # nothing to end it
    assert tl.app_window(app(start_time_ms=None)) is None
    assert tl.app_window(app(end_time_ms=1_000)) is None  # an empty run
    assert tl.app_window(app(end_time_ms=999)) is None
    assert tl.app_window(app(end_time_ms=1_001)) == (1_000, 1_001)


def test_executor_lifetimes_are_clipped_to_the_window() -> None:
    executors = (
        ex("driver", 8, 0),
        ex("1", 4, 500, 1_500),     # added before the run: from 1000
        ex("2", 4, 1_200, None),    # never removed: to 2000
        ex("3", 0, None, 2_500),    # size unknown: the typical size (4); no add time: from 1000
        ex("4", 2, 1_300, 1_300),   # held nothing
        ex("5", 2, 2_100, 2_200),   # after the run
        ex("6", 4, 1_400, 1_401),   # one millisecond
    )
    lifetimes = tl.executor_lifetimes(app(executors=executors), (1_000, 2_000))
    assert lifetimes == [tl.Lifetime("1", 4, 1_000, 1_500), tl.Lifetime("2", 4, 1_200, 2_000),
                         tl.Lifetime("3", 4, 1_000, 2_000), tl.Lifetime("6", 4, 1_400, 1_401)]


def test_in_local_mode_the_driver_is_the_executor() -> None:
    local = app(master="local[4]", executors=(ex("driver", 4, 1_000),))
    assert tl.executor_lifetimes(local, (1_000, 2_000)) == [tl.Lifetime("driver", 4, 1_000, 2_000)]
    single = app(master="local[1]", executors=(ex("driver", 1, 1_000),))
    assert tl.executor_lifetimes(single, (1_000, 2_000)) == [tl.Lifetime("driver", 1, 1_000, 2_000)]
    # A driver with no cores recorded, or a cluster without executors: nothing held.
    assert tl.executor_lifetimes(app(master="local[4]", executors=(ex("driver", 0),)), (1_000, 2_000)) == []
    assert tl.executor_lifetimes(app(master="yarn", executors=(ex("driver", 4),)), (1_000, 2_000)) == []
    # Local mode with real executors (an odd log): they are the lifetimes, not the driver.
    mixed = app(master="local[2]", executors=(ex("driver", 2), ex("1", 1, 1_100, 1_200)))
    assert tl.executor_lifetimes(mixed, (1_000, 2_000)) == [tl.Lifetime("1", 1, 1_100, 1_200)]


# --- jobs, groups and gaps ---------------------------------------------------------------------------


def test_job_spans_are_clipped_and_sorted() -> None:
    jobs = (Job(3, "SUCCEEDED", 1_500, 1_600, ()),
            Job(1, "SUCCEEDED", 900, 1_100, ()),     # submitted before the window: from 1000
            Job(2, "RUNNING", 1_700, None, ()),      # never ended: to the window's end
            Job(4, "SUCCEEDED", None, 1_300, ()),    # never submitted: left out
            Job(5, "SUCCEEDED", 1_900, 2_400, ()),   # ends after the window: to 2000
            Job(6, "SUCCEEDED", 2_100, 2_300, ()))   # entirely after: an empty span at the end
    assert tl.job_spans(jobs, (1_000, 2_000)) == [(1_000, 1_100, 1), (1_500, 1_600, 3), (1_700, 2_000, 2),
                                                   (1_900, 2_000, 5), (2_100, 2_100, 6)]


def test_job_groups_merge_overlapping_and_touching_jobs() -> None:
    jobs = (Job(0, "SUCCEEDED", 1_100, 1_300, ()), Job(1, "SUCCEEDED", 1_200, 1_250, ()),  # inside 0
            Job(2, "SUCCEEDED", 1_300, 1_400, ()),  # touches: same group
            Job(3, "SUCCEEDED", 1_401, 1_500, ()),  # 1 ms apart: a new group
            Job(4, "SUCCEEDED", 1_450, 1_600, ()))
    assert tl.job_groups(app(jobs=jobs), (1_000, 2_000)) == [
        tl.JobGroup(1_100, 1_400, (0, 1, 2)), tl.JobGroup(1_401, 1_600, (3, 4))]


def test_gaps_are_the_window_outside_the_groups() -> None:
    assert tl.gaps((0, 100), [(10, 20), (20, 30), (50, 60)]) == [(0, 10), (30, 50), (60, 100)]
    assert tl.gaps((0, 100), [(0, 40), (30, 100)]) == []
    assert tl.gaps((0, 100), []) == [(0, 100)]
    assert tl.gaps((0, 100), [(0, 60), (10, 20)]) == [(60, 100)]  # a group inside another moves nothing


# --- core time -----------------------------------------------------------------------------------------

# A: 2 cores 0-10, B: 3 cores 5-20, C: 1 core 30-40.
#   t:       0   5   10   20   30   40
#   cores:   2   5    3    0    1    0   (after each step)
#   core ms: 0  10   35   65   65   75   (2x5, +5x5, +3x10, +0x10, +1x10)
#   alive:   0   5   10   20   20   30
LIVES = [tl.Lifetime("A", 2, 0, 10), tl.Lifetime("B", 3, 5, 20), tl.Lifetime("C", 1, 30, 40)]


def test_core_timeline_steps_and_integrals() -> None:
    timeline = tl.CoreTimeline.of(LIVES)
    assert timeline.times == (0, 5, 10, 20, 30, 40)
    assert timeline.cores_after == (2, 5, 3, 0, 1, 0)
    assert timeline.core_ms_before == (0, 10, 35, 65, 65, 75)
    assert timeline.alive_ms_before == (0, 5, 10, 20, 20, 30)
    # Two executors swapped at t=10 (one leaves as the other comes): one step of +0 there.
    swap = tl.CoreTimeline.of([tl.Lifetime("A", 2, 0, 10), tl.Lifetime("B", 2, 10, 20)])
    assert (swap.times, swap.cores_after, swap.core_ms_before) == ((0, 10, 20), (2, 2, 0), (0, 20, 40))


def test_cores_at_and_max_cores() -> None:
    timeline = tl.CoreTimeline.of(LIVES)
    at = (-1, 0, 4, 5, 10, 19, 20, 35, 40, 99)
    assert [timeline.cores_at(t) for t in at] == [0, 2, 2, 5, 3, 3, 0, 1, 0, 0]
    assert timeline.max_cores((3, 12)) == 5  # 2 at 3, then 5 from 5
    assert timeline.max_cores((0, 5)) == 2  # B arrives as the interval ends: not inside it
    assert timeline.max_cores((5, 6)) == 5  # B arrives as it starts: inside it
    assert timeline.max_cores((10, 20)) == 3
    assert timeline.max_cores((21, 29)) == 0
    assert timeline.max_cores((12, 35)) == 3  # 3 at 12, 0 from 20, 1 from 30
    assert tl.CoreTimeline.of([]).max_cores((0, 10)) == 0


def test_core_and_alive_milliseconds_of_intervals() -> None:
    timeline = tl.CoreTimeline.of(LIVES)
    assert timeline.core_ms((3, 12)) == 35  # 3-5: 2x2, 5-10: 5x5, 10-12: 3x2
    assert timeline.core_ms((-5, 3)) == 6  # nothing before 0, then 2x3
    assert timeline.core_ms((15, 35)) == 20  # 15-20: 3x5, 30-35: 1x5
    assert timeline.core_ms((45, 50)) == 0
    assert timeline.alive_ms((15, 35)) == 10  # 15-20 and 30-35; nobody alive 20-30
    assert timeline.alive_ms((-5, 3)) == 3
    assert timeline.alive_ms((15, 25)) == 5  # ends 5 ms after everyone left at 20
    assert timeline.alive_ms((35, 50)) == 5  # C alone until 40, then nobody
    assert tl.held_core_ms(LIVES, [(0, 5), (30, 40)]) == 20  # 2x5 + 1x10
    assert tl.held_wall_ms(LIVES, [(0, 5), (15, 35)]) == 15  # 5 + 10
    assert tl.held_core_ms([], [(0, 5)]) == 0 and tl.held_wall_ms([], [(0, 5)]) == 0


def test_peak_executors_counts_a_removal_before_an_addition_at_the_same_time() -> None:
    assert tl.peak_executors([tl.Lifetime("A", 4, 0, 10), tl.Lifetime("B", 4, 10, 20)]) == 1
    assert tl.peak_executors([tl.Lifetime("A", 4, 0, 10), tl.Lifetime("B", 4, 5, 20),
                              tl.Lifetime("C", 8, 6, 8), tl.Lifetime("D", 1, 8, 9)]) == 3
    assert tl.peak_executors([]) == 0
    # A leaves as B and C arrive at 10: 2 at once, not 3 (and not 1).
    assert tl.peak_executors([tl.Lifetime("A", 4, 0, 10), tl.Lifetime("B", 4, 10, 20),
                              tl.Lifetime("C", 4, 10, 20)]) == 2


# --- tasks and slots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "cpus"), [(None, 1), ("2", 2), (" 3 ", 3), ("0", 1), ("-2", 1), ("x", 1)])
def test_task_cpus(value: str | None, cpus: int) -> None:
    props = {} if value is None else {"spark.task.cpus": value}
    assert tl.task_cpus(app(properties=props)) == cpus


@pytest.mark.parametrize(("props", "cores", "slots"), [
    ({}, 8, 8),
    ({"spark.task.cpus": "2"}, 8, 4),
    ({"spark.task.cpus": "3"}, 8, 2),  # 8 // 3
    ({"spark.task.cpus": "2"}, 1, 1),  # 1 // 2 = 0, but an executor runs at least one task
    # 1 GPU per executor, a quarter per task: 4 tasks at once whatever the cores.
    ({"spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "0.25"}, 8, 4),
    ({"spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "0.25"}, 2, 2),
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: still 3 tasks.
    ({"spark.executor.resource.gpu.amount": "0.3", "spark.task.resource.gpu.amount": "0.1"}, 8, 3),
    # Two resources: the scarcer decides (gpu 2 / 0.5 = 4, fpga 1 / 0.5 = 2).
    ({"spark.executor.resource.gpu.amount": "2", "spark.task.resource.gpu.amount": "0.5",
      "spark.executor.resource.fpga.amount": "1", "spark.task.resource.fpga.amount": "0.5"}, 8, 2),
    # A resource tasks do not ask for, or amounts that are not numbers, limit nothing.
    ({"spark.executor.resource.gpu.amount": "1"}, 8, 8),
    ({"spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "x"}, 8, 8),
    ({"spark.executor.resource.gpu.amount": "x", "spark.task.resource.gpu.amount": "0.5"}, 8, 8),
    ({"spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "0"}, 8, 8),
    # Keys that only look like an executor resource amount.
    ({"spark.executor.resource.gpu.discoveryScript": "1", "spark.task.resource.gpu.discoveryScript": "0.25"},
     8, 8),
    ({"spark.executor.resource.gpu.amountx": "1", "spark.task.resource.gpu.amountx": "0.25"}, 8, 8),
    ({"xspark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "0.25"}, 8, 8),
])
def test_slots_per_executor(props: dict[str, str], cores: int, slots: int) -> None:
    assert tl.slots_per_executor(app(properties=props), cores) == slots


def test_busy_core_ms_sums_task_time_or_run_time_times_task_cpus() -> None:
    # Stage with durations 100 + 200 (its run time of 999 is not used); stage without: run time 50.
    stages = (stage((100, 200), run_time_ms=999), stage((), run_time_ms=50))
    assert tl.busy_core_ms(app(stages=stages)) == 350
    assert tl.busy_core_ms(app(stages=stages, properties={"spark.task.cpus": "2"})) == 700
    assert tl.busy_core_ms(app()) == 0


@pytest.mark.parametrize(("value", "on"), [(None, False), ("true", True), (" TRUE ", True), ("false", False),
                                           ("yes", False)])
def test_is_dynamic_allocation(value: str | None, on: bool) -> None:
    props = {} if value is None else {"spark.dynamicAllocation.enabled": value}
    assert tl.is_dynamic_allocation(app(properties=props)) is on


# --- executor arrivals of a job group ---------------------------------------------------------------

# Five 4-core executors: E1, E2 at 0-100, E3 at 30-100, E4 at 60-100, E5 at 150-200.
ARRIVING = [tl.Lifetime("1", 4, 0, 100), tl.Lifetime("2", 4, 0, 100), tl.Lifetime("3", 4, 30, 100),
            tl.Lifetime("4", 4, 60, 100), tl.Lifetime("5", 4, 150, 200)]
ADDS = [0, 0, 30, 60, 150]


def test_executor_arrivals_in_a_group() -> None:
    timeline = tl.CoreTimeline.of(ARRIVING)
    # Group 10-80: E1, E2 alive at its start (0 ms), E3 at 30 (20 ms in), E4 at 60 (50 ms in).
    assert tl.executor_arrivals(timeline, ADDS, (10, 80), 4) == [0, 0, 20, 50]
    # Group 30-80: E3 added exactly at the start counts as alive then, not as a late arrival.
    assert tl.executor_arrivals(timeline, ADDS, (30, 80), 4) == [0, 0, 0, 30]
    # Group 10-60: E4 added exactly at its end never worked in it.
    assert tl.executor_arrivals(timeline, ADDS, (10, 60), 4) == [0, 0, 20]
    # Group 120-180: nobody at its start, E5 at 150.
    assert tl.executor_arrivals(timeline, ADDS, (120, 180), 4) == [30]
    # Group 110-140: no executor at all; the simulation still needs one.
    assert tl.executor_arrivals(timeline, ADDS, (110, 140), 4) == [0]
    # Executor size unknown (0): counted as 1-core executors, 8 cores alive at 10 = 8 "executors".
    assert tl.executor_arrivals(timeline, ADDS, (10, 20), 0) == [0] * 8


def test_executor_arrivals_are_capped_at_the_most_alive_at_once() -> None:
    # E3 leaves at 50, before E4 arrives at 60: never more than 3 executors at once in 10-80.
    lives = [tl.Lifetime("1", 4, 0, 100), tl.Lifetime("2", 4, 0, 100), tl.Lifetime("3", 4, 30, 50),
             tl.Lifetime("4", 4, 60, 100)]
    assert tl.executor_arrivals(tl.CoreTimeline.of(lives), [0, 0, 30, 60], (10, 80), 4) == [0, 0, 20]
    # One executor leaves at 50 and another arrives at 60: one at a time, so only the first counts.
    swap = [tl.Lifetime("1", 4, 0, 50), tl.Lifetime("2", 4, 60, 100)]
    assert tl.executor_arrivals(tl.CoreTimeline.of(swap), [0, 60], (10, 80), 4) == [0]
    # 6-core executors sized as 4: 12 cores alive = 3 at the start; at most 18 cores // 4 = 4 at once.
    wide = [tl.Lifetime("1", 6, 0, 100), tl.Lifetime("2", 6, 0, 100), tl.Lifetime("3", 6, 30, 100)]
    assert tl.executor_arrivals(tl.CoreTimeline.of(wide), [0, 0, 30], (10, 80), 4) == [0, 0, 0, 20]
