"""Replay an application's stage DAG on a different number of executors (Sparklens' estimator).

The model (Sparklens ``CompletionEstimator`` / ``PQParallelStageScheduler``): the run is the
driver-only time between job groups, kept as measured, plus each job group's makespan. Inside a
group a stage becomes ready when all its parents in the group have finished; ready stages are
taken in order of ready time (FIFO, as Spark's default scheduler), and each of their tasks, with
its measured duration, starts on the earliest-free of ``slots`` task slots (a min-heap; a slot
may first become free later than the group's start, when its executor joined late). Parents
outside the group ran earlier and count as done. Task durations below 1 ms count as 1 ms.

The simulation ignores data locality, executor start-up, shuffle traffic that changes with the
cluster size and scheduler delay; ``Calibration`` measures how far that leaves it from the real
run so that callers can refuse to recommend when the model does not fit.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from analyzer.core.model import Application, Stage

MIN_TASK_MS = 1
Slots = int | Sequence[int]  # a slot count, or each slot's first free time in ms
GroupSpan = tuple[int, int, tuple[int, ...]]  # (start ms, end ms, job ids) of a job group


@dataclass(frozen=True, slots=True)
class SimStage:
    """A stage as the simulator sees it: its parents and the duration of every task it ran."""

    stage_id: int
    parent_ids: tuple[int, ...]
    task_ms: tuple[int, ...]


SimGroups = tuple[tuple[SimStage, ...], ...]  # the stages of each job group
# ``spark.oversized-cluster`` and the report's what-if replay the same application at some of
# the same sizes: both ask ``sim_groups`` and ``schedule_group``, which remember their last
# answers (a few applications' worth) by the identity of their inputs, held while remembered.
_GROUPS_KEPT, _MAKESPANS_KEPT = 4, 512
_groups_cache: dict[tuple[int, tuple[GroupSpan, ...]], tuple[Application, SimGroups]] = {}
_makespan_cache: dict[tuple[int, int | tuple[int, ...]], tuple[Sequence[SimStage], int]] = {}


@dataclass(frozen=True, slots=True)
class Calibration:
    """How well the simulation at the observed cluster size reproduces the real job time."""

    real_ms: int
    simulated_ms: int

    @property
    def factor(self) -> float:
        """real / simulated: multiplies simulated job times into predicted ones."""
        return self.real_ms / self.simulated_ms if self.simulated_ms else 1.0

    @property
    def error(self) -> float:
        """|real - simulated| / real (Sparklens' "model error"); 1.0 when nothing was real."""
        return abs(self.real_ms - self.simulated_ms) / self.real_ms if self.real_ms else 1.0


@dataclass(frozen=True, slots=True)
class Sizing:
    """The smallest executor count whose simulated job time stays within the tolerance."""

    count: int
    simulated_ms: int
    reference_count: int
    reference_ms: int
    curve: tuple[tuple[int, int], ...]  # (count, simulated job ms) of every count evaluated


def schedule_group(stages: Sequence[SimStage], slots: Slots) -> int:
    """Makespan (ms) of one job group's stages on ``slots`` task slots, starting at 0.

    ``slots`` is a number of slots free from the start, or each slot's first free time (ms
    after the group's start): executors that registered while the group already ran.
    """
    if not isinstance(stages, tuple):  # only an immutable group can be remembered by identity
        return _schedule_group(stages, slots)
    key = (id(stages), slots if isinstance(slots, int) else tuple(slots))
    return _remembered(_makespan_cache, _MAKESPANS_KEPT, key, stages, lambda: _schedule_group(stages, slots))


T = TypeVar("T")


def _remembered(cache: dict[Any, tuple[Any, Any]], kept: int, key: Any, owner: object,
                compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for ``key`` while ``owner`` (whose ``id`` is in the key) was
    this very object; the oldest of more than ``kept`` answers is dropped (dicts keep order)."""
    known = cache.get(key)
    if known is not None and known[0] is owner:
        return known[1]  # type: ignore[no-any-return]
    value = compute()
    cache[key] = (owner, value)
    if len(cache) > kept:
        del cache[next(iter(cache))]
    return value


def _schedule_group(stages: Sequence[SimStage], slots: Slots) -> int:
    free = [0] * slots if isinstance(slots, int) else sorted(slots)
    if not free:
        raise ValueError("slots must be at least 1")
    by_id = {s.stage_id: s for s in stages}
    waiting = {s.stage_id: {p for p in s.parent_ids if p in by_id and p != s.stage_id} for s in stages}
    children: dict[int, list[int]] = defaultdict(list)
    for sid, parents in waiting.items():
        for parent in parents:
            children[parent].append(sid)
    ready = [(0, sid) for sid, parents in waiting.items() if not parents]
    heapq.heapify(ready)
    finish: dict[int, int] = {}
    # A slot for every task (the critical path): no task ever waits, a stage lasts its longest task.
    unbounded = isinstance(slots, int) and slots >= sum(len(s.task_ms) for s in stages)
    while ready:
        ready_ms, sid = heapq.heappop(ready)
        task_ms = by_id[sid].task_ms
        if unbounded:
            finish[sid] = ready_ms + max(MIN_TASK_MS, max(task_ms)) if task_ms else ready_ms
        else:
            finish[sid] = _run_stage(task_ms, ready_ms, free)
        for child in children[sid]:
            waiting[child].discard(sid)
            if not waiting[child]:
                start = max(finish[p] for p in by_id[child].parent_ids if p in finish)
                heapq.heappush(ready, (start, child))
    return max(finish.values(), default=0)


def _run_stage(task_ms: Sequence[int], ready_ms: int, free: list[int]) -> int:
    """Place one stage's tasks, in order, on the earliest-free slots; return its end time.

    Why it is written this way: this loop runs once per task per simulated cluster size, so it
    is most of a big log's rule time. Slots free before ``ready_ms`` are first moved to
    ``ready_ms``: the same for this stage (a task starts at ``max(free, ready)``) and for every
    later one (stages leave the ready queue in order of ready time), and it keeps the heap a
    heap (raising every value below ``ready_ms`` to it preserves parent <= child). Then each
    task starts at ``free[0]`` with no ``max`` per task.
    """
    if free[0] < ready_ms:
        for i, at in enumerate(free):
            if at < ready_ms:
                free[i] = ready_ms
    if not task_ms:
        return ready_ms
    if len(free) == 1:  # one slot: the tasks run back to back
        free[0] += sum(task_ms) if min(task_ms) >= MIN_TASK_MS else sum(max(MIN_TASK_MS, d) for d in task_ms)
        return free[0]
    if len(free) == 2:  # two slots: two numbers instead of a heap (same placements, a third of the time)
        return _run_on_two(task_ms, free)
    end = ready_ms
    replace = heapq.heapreplace
    for duration in task_ms:
        done = free[0] + (duration if duration > MIN_TASK_MS else MIN_TASK_MS)
        replace(free, done)
        if done > end:
            end = done
    return end


def _run_on_two(task_ms: Sequence[int], free: list[int]) -> int:
    """``_run_stage`` on exactly two slots (already at or after the ready time): each task goes to
    the earlier-free one. Returns the stage's end; ``free`` is left a valid heap."""
    early, late = (free[0], free[1]) if free[0] <= free[1] else (free[1], free[0])
    end = 0
    for duration in task_ms:
        early += duration if duration > MIN_TASK_MS else MIN_TASK_MS
        if early > end:
            end = early
        if early > late:
            early, late = late, early
    free[0], free[1] = early, late
    return end


def simulate_jobs(groups: Sequence[Sequence[SimStage]], slots: Sequence[Slots]) -> tuple[int, ...]:
    """Simulated makespan (ms) of each job group, group ``i`` on ``slots[i]`` slots.

    Groups run one after another, so the time in jobs is the sum; slots may differ per group
    because executors come and go (dynamic allocation, late registration).
    """
    return tuple(schedule_group(group, n) for group, n in zip(groups, slots, strict=True))


def size_cluster(job_ms_at: Callable[[int], int], observed: int, tolerance: float,
                 exhaustive: bool = True) -> Sizing:
    """Smallest count in 1..observed whose simulated job time is within ``tolerance`` of observed's.

    ``exhaustive`` evaluates every count (exact even where more executors are slower, Graham's
    anomaly); otherwise a binary search assumes time falls as executors are added.
    """
    if observed < 1:
        raise ValueError("observed must be at least 1")
    curve: dict[int, int] = {observed: job_ms_at(observed)}
    limit = curve[observed] * (1 + tolerance)

    def fits(count: int) -> bool:
        if count not in curve:
            curve[count] = job_ms_at(count)
        return curve[count] <= limit

    if exhaustive:
        best = next(c for c in range(1, observed + 1) if fits(c))
    else:
        low, high = 1, observed
        while low < high:
            mid = (low + high) // 2
            low, high = (low, mid) if fits(mid) else (mid + 1, high)
        best = low
    return Sizing(best, curve[best], observed, curve[observed], tuple(sorted(curve.items())))


def sim_groups(app: Application, group_spans: Sequence[GroupSpan]) -> SimGroups:
    """The stages that ran in each job group, attempts of one stage merged into one SimStage.

    ``group_spans`` are (start, end, job ids) in time order. A stage attempt belongs to the group
    its submission falls in (a stage skipped by later jobs is not replayed again), else to the
    group of its first job. Tuples: the answer is shared between callers.
    """
    key = (id(app), tuple((start, end, tuple(jobs)) for start, end, jobs in group_spans))
    return _remembered(_groups_cache, _GROUPS_KEPT, key, app, lambda: _sim_groups(app, group_spans))


def _sim_groups(app: Application, group_spans: Sequence[GroupSpan]) -> SimGroups:
    starts = [g[0] for g in group_spans]
    group_of_job = {job_id: i for i, g in enumerate(group_spans) for job_id in g[2]}
    tasks: list[dict[int, list[int]]] = [defaultdict(list) for _ in group_spans]
    parents: dict[int, tuple[int, ...]] = {}
    for stage in app.stages:
        if not stage.task_durations_ms and not stage.num_complete_tasks:
            continue
        index = _group_index(stage, starts, group_spans, group_of_job)
        if index is None:
            continue
        tasks[index][stage.stage_id].extend(_task_ms(stage))
        parents[stage.stage_id] = stage.parent_stage_ids
    return tuple(tuple(SimStage(sid, parents[sid], tuple(ms)) for sid, ms in sorted(group.items()))
                 for group in tasks)


def _group_index(stage: Stage, starts: list[int], spans: Sequence[GroupSpan],
                 group_of_job: dict[int, int]) -> int | None:
    """Index of the job group a stage attempt ran in, or None when no group claims it."""
    if stage.submission_time_ms is not None:
        i = bisect.bisect_right(starts, stage.submission_time_ms) - 1
        if i >= 0 and stage.submission_time_ms <= spans[i][1]:
            return i
    known = [group_of_job[j] for j in stage.job_ids if j in group_of_job]
    return min(known) if known else None


def _task_ms(stage: Stage) -> tuple[int, ...]:
    """Measured task durations; logs without them get the stage's mean run time per task."""
    if stage.task_durations_ms:
        return stage.task_durations_ms
    count = stage.num_complete_tasks + stage.num_failed_tasks
    return (stage.metrics.executor_run_time_ms // max(1, count),) * count
