"""spark.oversized-cluster: executor cores that sat idle while jobs ran, and the count that suffices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core import timeline as tl
from analyzer.core.findings import Finding
from analyzer.core.model import Application
from rules.damping import SCALE, damped_by, early_warning
from rules.engine import SparkRule, Thresholds, option
from rules.spark._simulate import (
    Calibration,
    SimGroups,
    Sizing,
    Slots,
    sim_groups,
    simulate_jobs,
    size_cluster,
)
from rules.spark.common import core_hours, executor_cores, subject


@dataclass(frozen=True, slots=True)
class ClusterMeasure:
    """The numbers behind an oversized-cluster verdict for one application.

    The sizing unit is an executor, or in local mode one core of local[N]. ``held_core_ms_at_count``
    is the simulated (uncalibrated) core time the recommended count would hold in jobs.
    """

    local_mode: bool
    observed: int
    executor_cores: int
    app_ms: int
    job_ms: int
    driver_only_ms: int
    allocated_core_ms: int
    allocated_in_jobs_core_ms: int
    busy_core_ms: int
    calibration: Calibration
    sizing: Sizing
    held_core_ms_at_count: float

    @property
    def idle_share(self) -> float:
        """Share of the core time held while jobs ran that no task used."""
        if not self.allocated_in_jobs_core_ms:
            return 0.0
        return max(0.0, 1 - self.busy_core_ms / self.allocated_in_jobs_core_ms)

    @property
    def efficiency(self) -> float:
        """Delight's efficiency score: task time / core time held over the whole run."""
        return self.busy_core_ms / self.allocated_core_ms if self.allocated_core_ms else 0.0

    @property
    def predicted_app_ms(self) -> float:
        """Run time at the sized count: driver-only time as measured plus calibrated job time."""
        return self.driver_only_ms + self.sizing.simulated_ms * self.calibration.factor

    @property
    def avoidable_core_ms(self) -> float:
        """Core time held in jobs now minus at the sized count, never more than the idle core time."""
        saved = self.allocated_in_jobs_core_ms - self.held_core_ms_at_count * self.calibration.factor
        idle = self.allocated_in_jobs_core_ms - self.busy_core_ms
        return min(max(0.0, saved), max(0.0, idle))


@dataclass(frozen=True, slots=True)
class _Replay:
    """What the simulation needs: stages per job group, when each unit arrived, slots per unit.

    A unit is an executor, or in local mode one core. ``arrivals[g]`` lists when each unit the
    group really had became usable (ms after the group's start); capping the count keeps the
    earliest ones, so a static cluster replays on units free from 0 and a dynamic one on its
    real ramp-up.
    """

    stages: SimGroups
    arrivals: list[list[int]]
    slots_per_unit: int
    units_per_slot: int  # local mode: spark.task.cpus cores make one slot
    cores_per_unit: int

    def slots(self, count: int) -> list[Slots]:
        """Each slot's first free time, per group, when at most ``count`` units are allowed."""
        out: list[Slots] = []
        for arrived in self.arrivals:
            units = arrived[:count]  # ascending: the earliest units are kept
            total = max(1, len(units) * self.slots_per_unit // self.units_per_slot)
            if units[-1] == 0:  # all free from the start: a plain count is cheaper
                out.append(total)
            else:
                out.append([t for t in units for _ in range(self.slots_per_unit)][:total])
        return out

    def job_ms(self, count: int) -> int:
        """Simulated time in jobs with at most ``count`` units."""
        return sum(simulate_jobs(self.stages, self.slots(count)))

    def held_core_ms(self, count: int) -> float:
        """Simulated core time held in jobs with at most ``count`` units (held for the whole group)."""
        per_group = simulate_jobs(self.stages, self.slots(count))
        return sum(min(count, len(a)) * self.cores_per_unit * ms
                   for a, ms in zip(self.arrivals, per_group, strict=True))


def measure(app: Application, tolerance: float = 0.10,
            max_placements: int = 2_000_000) -> ClusterMeasure | None:
    """Core time held vs used while jobs ran, and the simulated run time per cluster size."""
    window = tl.app_window(app)
    if window is None:
        return None
    lifetimes = tl.executor_lifetimes(app, window)
    groups = tl.job_groups(app, window)
    if not lifetimes or not groups:
        return None
    covered = [(g.start_ms, g.end_ms) for g in groups]
    local = tl.is_local_mode(app) and all(life.executor_id == "driver" for life in lifetimes)
    replay = _replay(app, lifetimes, groups, local)
    observed = lifetimes[0].cores if local else tl.peak_executors(lifetimes)
    tasks = sum(len(s.task_ms) for group in replay.stages for s in group)
    sizing = size_cluster(replay.job_ms, observed, tolerance, exhaustive=observed * tasks <= max_placements)
    job_ms = sum(end - start for start, end in covered)
    cores = lifetimes[0].cores if local else executor_cores(app)
    return ClusterMeasure(
        local_mode=local, observed=observed, executor_cores=cores,
        app_ms=window[1] - window[0], job_ms=job_ms, driver_only_ms=window[1] - window[0] - job_ms,
        allocated_core_ms=tl.held_core_ms(lifetimes, [window]),
        allocated_in_jobs_core_ms=tl.held_core_ms(lifetimes, covered), busy_core_ms=tl.busy_core_ms(app),
        calibration=Calibration(job_ms, sizing.reference_ms), sizing=sizing,
        held_core_ms_at_count=replay.held_core_ms(sizing.count),
    )


def _replay(app: Application, lifetimes: list[tl.Lifetime], groups: list[tl.JobGroup],
            local: bool) -> _Replay:
    """Local mode sizes cores of one executor; a cluster sizes executors, each group on what it had."""
    stages = sim_groups(app, [(g.start_ms, g.end_ms, g.job_ids) for g in groups])
    if local:
        every_core = [0] * lifetimes[0].cores
        return _Replay(stages, [every_core] * len(groups), 1, tl.task_cpus(app), 1)
    cores = executor_cores(app)
    timeline = tl.CoreTimeline.of(lifetimes)
    adds = sorted(life.start_ms for life in lifetimes)
    arrivals = [tl.executor_arrivals(timeline, adds, (g.start_ms, g.end_ms), cores) for g in groups]
    return _Replay(stages, arrivals, tl.slots_per_executor(app, cores), 1, cores)


class OversizedCluster(SparkRule["OversizedCluster.Config"]):
    """Executor cores sat idle while jobs ran: the same work fits on fewer executors.

    ## Why it matters
    Every executor core is paid for from the moment it is granted until it is released,
    whether a task runs on it or not. When stages have fewer tasks than slots, or one long
    task holds a stage open while the other slots wait, most of that core time buys nothing.

    ## Anti-pattern
    A fixed ``spark.executor.instances`` sized for the widest stage (or copied from another
    job) while the application spends most of its time in narrow stages, single-partition
    steps (a Python UDF over ``spark.range(1)``, a final ``coalesce(1)``) or stragglers.

    ## Fix
    Run with the executor count the simulation finds: the smallest count whose simulated run
    time stays within ``runtime_tolerance`` of the simulated current one, e.g.
    ``--conf spark.executor.instances=2`` (with dynamic allocation
    ``spark.dynamicAllocation.maxExecutors=2``; in local mode ``--master local[2]``). The
    simulation replays the real stage DAG (Sparklens' estimator): the job groups' stages in
    dependency order, each stage's measured task durations placed greedily on N x cores slots
    (executors that joined a group late, as under dynamic allocation, join the replay at the
    same moment), driver-only time between jobs kept as measured. When no smaller count fits,
    or the model is refused, dynamic allocation (or, when it is on, a lower
    ``executorAllocationRatio``) is suggested instead, without a saving.

    ## Savings estimate
    Core-hours held while jobs ran now minus the core-hours the recommended count holds for its
    predicted job time (simulated time x real/simulated at the observed count), capped at the
    idle core-hours in jobs. Only time inside job groups is counted: executors held while no
    job runs are ``spark.driver-bound``'s, so the two rules never count the same core-hour.

    ## Known problems
    The simulation knows neither data locality nor executor start-up nor how shuffle traffic
    changes with the cluster size; when its run time at the observed count is more than
    ``max_model_error`` off the real job time no count is recommended (executors lost mid-job
    are the usual cause). The recommended count is assumed to be held for each whole job
    group, so the saving is conservative under dynamic allocation. A single straggler task
    also shows here; ``spark.skew`` explains why it is slow. In local mode nothing but
    ``local[N]`` can change, so without a smaller N the finding is at most ``info``. A
    recommended count rests on the simulation (confidence medium). Damping: an application
    holding less than ``min_allocated_core_hours`` of core time during jobs is an ``info``
    early warning saying what its idle core time becomes at 100× the data; it claims no
    saving.
    """

    id = "spark.oversized-cluster"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.oversized-cluster."""

        idle_share: Thresholds = option(Thresholds(low=0.3, medium=0.5, high=0.7, critical=0.85),
                                        "share of executor core time held during jobs that no task used")
        min_allocated_core_hours: float = option(1.0, "damping: apps holding fewer core-hours "
                                                      "during jobs are early warnings")
        runtime_tolerance: float = option(0.10, "slowest acceptable simulated job time, relative to the "
                                                "current one")
        max_model_error: float = option(0.25, "refuse to recommend a count when |real - simulated| / real "
                                              "is larger")
        max_exhaustive_placements: int = option(2_000_000, "executor counts x tasks above which sizing "
                                                           "binary-searches instead of trying every count")

    def check(self, app: Application, config: OversizedCluster.Config) -> Iterator[Finding]:
        """One finding per application whose cores idled enough while its jobs ran; an early warning
        when it held fewer than ``min_allocated_core_hours`` during jobs."""
        m = measure(app, config.runtime_tolerance, config.max_exhaustive_placements)
        if m is None:
            return
        severity = config.idle_share.severity(m.idle_share)
        if severity is None:
            return
        finding = self._finding(app, m, severity, config)
        held = core_hours(m.allocated_in_jobs_core_ms)
        damped = damped_by((held < config.min_allocated_core_hours,
                            f"{held:,.3f} core-hours held during jobs (min_allocated_core_hours "
                            f"{config.min_allocated_core_hours:g})"))
        if m.local_mode and not finding.avoidable_core_hours:
            # Nothing to change (local mode cannot release cores during a job) and nothing to save: at
            # most an early warning, and none at all when the run is small too.
            if not damped:
                yield early_warning(finding, severity, [], "Local mode cannot release idle cores during a "
                                    "job; on a cluster the same stages would leave executors idle.")
            return
        yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    def _finding(self, app: Application, m: ClusterMeasure, severity: str, config: Config) -> Finding:
        trusted = m.calibration.error <= config.max_model_error
        resize = trusted and m.sizing.count < m.observed and m.avoidable_core_ms > 0
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app),
            title=f"{m.idle_share:.0%} of executor core time sat idle while jobs ran",
            evidence=_evidence(m, resize),
            recommendation=_resize(app, m) if resize else _fallback(app, m, trusted, config),
            tradeoffs="Fewer cores lengthen the stages that do use every slot (by at most the tolerance, if "
                      "the simulation holds) and leave less headroom for growing inputs; dynamic allocation "
                      "waits for executors to start whenever it scales up.",
            avoidable_core_hours=core_hours(m.avoidable_core_ms) if resize else 0.0,
            # a resize rests on the simulation; without one only the measured idle share is claimed
            confidence="medium" if resize else "high",
        )


def _at_scale(m: ClusterMeasure) -> str:
    """Idle core time at ``SCALE`` times the data, if the jobs' shape (narrow stages, stragglers) stays."""
    idle = m.allocated_in_jobs_core_ms - m.busy_core_ms
    return (f"{core_hours(idle):,.3f} core-hours sat idle during jobs here; at {SCALE}× the data with the "
            f"same stage shapes and executors, about {core_hours(idle * SCALE):,.1f} core-hours per run.")


def _evidence(m: ClusterMeasure, resize: bool) -> dict[str, object]:
    """Numbers with units; the simulated curve lists every count the sizing evaluated."""
    evidence: dict[str, object] = {
        "idle_share_in_jobs": round(m.idle_share, 4), "efficiency_score": round(m.efficiency, 4),
        "allocated_core_hours": round(core_hours(m.allocated_core_ms), 4),
        "allocated_core_hours_in_jobs": round(core_hours(m.allocated_in_jobs_core_ms), 4),
        "task_core_hours": round(core_hours(m.busy_core_ms), 4),
        "app_duration_ms": m.app_ms, "job_time_ms": m.job_ms, "driver_only_ms": m.driver_only_ms,
        ("local_cores" if m.local_mode else "executors_observed"): m.observed,
        "executor_cores": m.executor_cores,
        "simulated_job_time_ms": m.sizing.reference_ms, "model_error": round(m.calibration.error, 4),
        "simulated_job_time_ms_by_count": {str(c): ms for c, ms in m.sizing.curve},
    }
    if resize:
        evidence.update(recommended_count=m.sizing.count, predicted_duration_ms=int(m.predicted_app_ms))
    return evidence


def _resize(app: Application, m: ClusterMeasure) -> str:
    """The concrete size change and its predicted effect."""
    count = m.sizing.count
    if m.local_mode:
        conf = f"--master local[{count}]"
        unit = f"{count} instead of {m.observed} local cores"
    else:
        conf = (f"--conf spark.dynamicAllocation.maxExecutors={count}" if tl.is_dynamic_allocation(app)
                else f"--conf spark.executor.instances={count}")
        if (app.master or "").startswith(("spark://", "local-cluster")):
            conf += f" --conf spark.cores.max={count * m.executor_cores}"
        each = f"{m.executor_cores} core{'s' if m.executor_cores != 1 else ''} each"
        unit = f"{count} instead of {m.observed} executors ({each})"
    slower = m.sizing.simulated_ms / max(1, m.sizing.reference_ms) - 1
    return (f"{conf}: with {unit} the predicted run takes {m.predicted_app_ms / 1000:,.0f} s "
            f"(now {m.app_ms / 1000:,.0f} s; simulated job time {slower:+.0%}).")


def _fallback(app: Application, m: ClusterMeasure, trusted: bool, config: OversizedCluster.Config) -> str:
    """No smaller count is recommended: say why, and what releases idle cores instead."""
    if not trusted:
        why = (f"The simulation is {m.calibration.error:.0%} off the real job time (limit "
               f"{config.max_model_error:.0%}), so no smaller count is recommended")
    else:
        why = ("No smaller count saves core time and keeps the simulated run within "
               f"{config.runtime_tolerance:.0%}")
    if m.local_mode:
        return (f"{why}; local mode cannot release idle cores during a job: the idle time comes from stages "
                f"narrower than local[{m.observed}] (repartition them if they are slow).")
    if tl.is_dynamic_allocation(app):
        ratio = max(0.1, round(1 - m.idle_share, 1))
        return (f"{why}; dynamic allocation is on: "
                f"--conf spark.dynamicAllocation.executorAllocationRatio={ratio} requests executors for that "
                "share of the pending tasks, the share of held cores that was busy.")
    return (f"{why}; release idle executors with --conf spark.dynamicAllocation.enabled=true "
            "--conf spark.dynamicAllocation.shuffleTracking.enabled=true "
            f"--conf spark.dynamicAllocation.maxExecutors={m.observed}.")
