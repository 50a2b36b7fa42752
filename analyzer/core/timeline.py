"""The application's timeline as intervals: executor lifetimes, job groups and driver-only gaps.

Shared by ``spark.oversized-cluster`` and ``spark.driver-bound`` so that both cut the same
allocated core time at the same boundaries: core time inside job groups belongs to the first
rule, core time in the gaps between them to the second. No core-millisecond is counted twice.
All functions are pure; times are epoch milliseconds clipped to the application's run.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analyzer.core.model import Application, Job

Interval = tuple[int, int]
_LOCAL = re.compile(r"^local(\[|$)")
_LOCAL_MASTER = re.compile(r"^local(?:-cluster)?\[(\*|\d+)")
_EXECUTOR_RESOURCE = re.compile(r"^spark\.executor\.resource\.([^.]+)\.amount$")


@dataclass(frozen=True, slots=True)
class Lifetime:
    """How long one executor held its cores, clipped to the application's window."""

    executor_id: str
    cores: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class JobGroup:
    """Jobs whose spans overlap (Sparklens' job group): they share the executors."""

    start_ms: int
    end_ms: int
    job_ids: tuple[int, ...]


def executor_cores(app: Application) -> int:
    """Cores of a typical executor: the most common size, the property, or the local[N] size."""
    sizes = Counter(e.total_cores for e in app.executors if not e.is_driver and e.total_cores > 0)
    if sizes:
        return sizes.most_common(1)[0][0]
    prop = app.properties.get("spark.executor.cores")
    if prop and prop.isdigit():
        return int(prop)
    return local_cores(app) or 1


def local_cores(app: Application) -> int | None:
    """N of a ``local[N]`` / ``local-cluster[N,...]`` master; None for ``local[*]`` or a cluster."""
    match = _LOCAL_MASTER.match(app.master or "")
    return int(match.group(1)) if match and match.group(1).isdigit() else None


def is_local_mode(app: Application) -> bool:
    """``local`` / ``local[N]`` / ``local[*]`` (not ``local-cluster``): the driver runs the tasks."""
    return bool(_LOCAL.match(app.master or ""))


def last_event_ms(app: Application) -> int | None:
    """The latest scheduling activity: the end of an application that has none.

    Executor add/remove times are left out: an idle executor outliving the last job says
    nothing about when the run ended, and edited logs carry executor clocks years off.
    """
    times = [t for j in app.jobs for t in (j.submission_time_ms, j.completion_time_ms) if t is not None]
    times += [t for s in app.stages for t in (s.submission_time_ms, s.completion_time_ms) if t is not None]
    return max(times, default=None)


def app_window(app: Application) -> Interval | None:
    """(start, end) of the run; a log without an end ends at its last known event."""
    if app.start_time_ms is None:
        return None
    end = app.end_time_ms if app.end_time_ms is not None else last_event_ms(app)
    if end is None or end <= app.start_time_ms:
        return None
    return app.start_time_ms, end


def executor_lifetimes(app: Application, window: Interval) -> list[Lifetime]:
    """Executors' core-holding spans; in local mode the driver's local[N] cores are the executor."""
    lifetimes = []
    for e in app.executors:
        if e.is_driver:
            continue
        cores = e.total_cores or executor_cores(app)
        start = max(window[0], e.add_time_ms if e.add_time_ms is not None else window[0])
        end = min(window[1], e.remove_time_ms if e.remove_time_ms is not None else window[1])
        if end > start:
            lifetimes.append(Lifetime(e.executor_id, cores, start, end))
    if lifetimes or not is_local_mode(app):
        return lifetimes
    driver = next((e for e in app.executors if e.is_driver and e.total_cores > 0), None)
    return [Lifetime(driver.executor_id, driver.total_cores, *window)] if driver else []


def job_spans(jobs: Iterable[Job], window: Interval) -> list[tuple[int, int, int]]:
    """(start, end, job id) of every submitted job, clipped; a job without an end runs to the end."""
    spans = []
    for job in jobs:
        if job.submission_time_ms is None:
            continue
        start = max(window[0], job.submission_time_ms)
        end = min(window[1], job.completion_time_ms if job.completion_time_ms is not None else window[1])
        spans.append((start, max(start, end), job.job_id))
    return sorted(spans)


def job_groups(app: Application, window: Interval) -> list[JobGroup]:
    """Jobs merged into groups wherever their spans overlap or touch, in time order."""
    groups: list[JobGroup] = []
    for start, end, job_id in job_spans(app.jobs, window):
        if groups and start <= groups[-1].end_ms:
            last = groups[-1]
            groups[-1] = JobGroup(last.start_ms, max(last.end_ms, end), (*last.job_ids, job_id))
        else:
            groups.append(JobGroup(start, end, (job_id,)))
    return groups


def gaps(window: Interval, covered: Sequence[Interval]) -> list[Interval]:
    """The parts of ``window`` outside the sorted, disjoint ``covered`` intervals."""
    out, cursor = [], window[0]
    for start, end in covered:
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, end)
    if window[1] > cursor:
        out.append((cursor, window[1]))
    return out


@dataclass(frozen=True, slots=True)
class CoreTimeline:
    """Cumulative core time and "some executor alive" time at every add/remove of an executor.

    Built once in O(E log E); the core time held in any interval is then two binary searches,
    so thousands of gaps against thousands of executors stay cheap.
    """

    times: tuple[int, ...]
    cores_after: tuple[int, ...]
    core_ms_before: tuple[int, ...]
    alive_ms_before: tuple[int, ...]

    @classmethod
    def of(cls, lifetimes: Iterable[Lifetime]) -> CoreTimeline:
        """The step function of cores alive over time, with its running integrals."""
        steps: dict[int, int] = {}
        for life in lifetimes:
            steps[life.start_ms] = steps.get(life.start_ms, 0) + life.cores
            steps[life.end_ms] = steps.get(life.end_ms, 0) - life.cores
        times: list[int] = []
        cores_after: list[int] = []
        core_ms, alive_ms = [0], [0]
        alive = 0
        for t in sorted(steps):
            if times:
                core_ms.append(core_ms[-1] + alive * (t - times[-1]))
                alive_ms.append(alive_ms[-1] + (t - times[-1] if alive > 0 else 0))
            alive += steps[t]
            times.append(t)
            cores_after.append(alive)
        return cls(tuple(times), tuple(cores_after), tuple(core_ms), tuple(alive_ms))

    def _at(self, t: int) -> tuple[int, int]:
        """(core ms, alive ms) accumulated from the first event up to ``t``."""
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            return 0, 0
        span = t - self.times[i]
        return (self.core_ms_before[i] + self.cores_after[i] * span,
                self.alive_ms_before[i] + (span if self.cores_after[i] > 0 else 0))

    def cores_at(self, t: int) -> int:
        """Cores alive at ``t`` (additions at ``t`` included, removals at ``t`` done)."""
        i = bisect.bisect_right(self.times, t) - 1
        return self.cores_after[i] if i >= 0 else 0

    def max_cores(self, interval: Interval) -> int:
        """Most cores alive at once during ``interval``."""
        lo = bisect.bisect_right(self.times, interval[0])
        hi = bisect.bisect_left(self.times, interval[1])
        return max([self.cores_at(interval[0]), *self.cores_after[lo:hi]])

    def core_ms(self, interval: Interval) -> int:
        """Core-milliseconds held during ``interval``."""
        return self._at(interval[1])[0] - self._at(interval[0])[0]

    def alive_ms(self, interval: Interval) -> int:
        """Milliseconds of ``interval`` during which at least one executor was alive."""
        return self._at(interval[1])[1] - self._at(interval[0])[1]


def held_core_ms(lifetimes: Iterable[Lifetime], intervals: Sequence[Interval]) -> int:
    """Executor core-milliseconds held during the disjoint ``intervals`` (Σ cores × overlap)."""
    timeline = CoreTimeline.of(lifetimes)
    return sum(timeline.core_ms(iv) for iv in intervals)


def held_wall_ms(lifetimes: Iterable[Lifetime], intervals: Sequence[Interval]) -> int:
    """Wall-clock milliseconds of the disjoint ``intervals`` during which an executor was alive."""
    timeline = CoreTimeline.of(lifetimes)
    return sum(timeline.alive_ms(iv) for iv in intervals)


def peak_executors(lifetimes: Iterable[Lifetime]) -> int:
    """Most executors alive at once (a removal at t happens before an addition at t)."""
    events = sorted([(life.start_ms, 1) for life in lifetimes] + [(life.end_ms, -1) for life in lifetimes])
    peak = alive = 0
    for _, step in events:
        alive += step
        peak = max(peak, alive)
    return peak


def task_cpus(app: Application) -> int:
    """``spark.task.cpus``: cores one task occupies (default 1)."""
    value = app.properties.get("spark.task.cpus", "1").strip()
    return max(1, int(value)) if value.isdigit() else 1


def slots_per_executor(app: Application, cores: int) -> int:
    """Tasks one executor runs at once: cores / task.cpus, capped by custom resources (GPUs).

    ``spark.executor.resource.gpu.amount=1`` with ``spark.task.resource.gpu.amount=0.25`` allows
    four concurrent tasks whatever the core count, as Spark's scheduler does.
    """
    slots = cores // task_cpus(app)
    for key, value in app.properties.items():
        match = _EXECUTOR_RESOURCE.match(key)
        if not match:
            continue
        per_task = _float(app.properties.get(f"spark.task.resource.{match.group(1)}.amount"))
        per_executor = _float(value)
        if per_task and per_executor:
            slots = min(slots, int(per_executor / per_task + 1e-9))
    return max(1, slots)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def busy_core_ms(app: Application) -> int:
    """Core time tasks occupied: Σ task durations (failed attempts too) × ``spark.task.cpus``.

    Stages whose durations were not recorded fall back to their summed executor run time.
    """
    total = sum(sum(s.task_durations_ms) if s.task_durations_ms else s.metrics.executor_run_time_ms
                for s in app.stages)
    return total * task_cpus(app)


def is_dynamic_allocation(app: Application) -> bool:
    """True when ``spark.dynamicAllocation.enabled`` is on."""
    return app.properties.get("spark.dynamicAllocation.enabled", "false").strip().lower() == "true"


def executor_arrivals(timeline: CoreTimeline, add_times: Sequence[int], interval: Interval,
                      cores: int) -> list[int]:
    """When each executor of a job group became usable, in ms after the group's start.

    Executors alive at the start count from 0; those added during the group (dynamic
    allocation scaling up, late registration) from their add time; the list is capped at the
    most executors alive at once in the group. The simulation replays the group on these.
    ``add_times`` are all executors' add times, sorted.
    """
    start, end = interval
    size = max(1, cores)
    alive = timeline.cores_at(start) // size
    joined = add_times[bisect.bisect_right(add_times, start):bisect.bisect_left(add_times, end)]
    arrivals = [0] * alive + [t - start for t in joined]
    return arrivals[: max(1, timeline.max_cores(interval) // size)] or [0]
