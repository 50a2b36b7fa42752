"""The fast cluster simulation gives exactly the makespans of the plain textbook replay.

Why: ``rules.spark._simulate`` skips work (slots idle before a stage is ready are moved to its
ready time once, a slot for every task needs no heap) to keep the what-if and
``spark.oversized-cluster`` cheap on big logs. Those shortcuts are only allowed if no input
can tell them apart from the straightforward algorithm written here: every task of a ready
stage, in order, starts at ``max(earliest free slot, ready time)``.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.spark._simulate import MIN_TASK_MS, SimStage, Slots, schedule_group, simulate_jobs


def reference_makespan(stages: Sequence[SimStage], slots: Slots) -> int:
    """Sparklens' replay without shortcuts: a stage is ready when its in-group parents finished."""
    free = [0] * slots if isinstance(slots, int) else sorted(slots)
    by_id = {s.stage_id: s for s in stages}
    parents = {s.stage_id: {p for p in s.parent_ids if p in by_id and p != s.stage_id} for s in stages}
    ready = [(0, sid) for sid, waiting in parents.items() if not waiting]
    heapq.heapify(ready)
    finish: dict[int, int] = {}
    while ready:
        ready_ms, sid = heapq.heappop(ready)
        end = ready_ms
        for duration in by_id[sid].task_ms:
            done = max(free[0], ready_ms) + max(MIN_TASK_MS, duration)
            heapq.heapreplace(free, done)
            end = max(end, done)
        finish[sid] = end
        for child, waiting in parents.items():
            if sid in waiting:
                waiting.discard(sid)
                if not waiting:
                    start = max(finish[p] for p in by_id[child].parent_ids if p in finish)
                    heapq.heappush(ready, (start, child))
    return max(finish.values(), default=0)


@st.composite
def groups(draw: st.DrawFn) -> list[SimStage]:
    """A job group: up to 8 stages, each depending on some earlier ones (a DAG), some on stages
    outside the group; durations include 0 (counted as 1 ms) and long stragglers."""
    count = draw(st.integers(1, 8))
    out = []
    for sid in range(count):
        parents = draw(st.sets(st.integers(0, sid - 1), max_size=3)) if sid else set()
        if draw(st.booleans()):
            parents.add(100 + sid)  # ran in an earlier group: counts as done
        tasks = draw(st.lists(st.integers(0, 5_000), max_size=30))
        out.append(SimStage(sid, tuple(sorted(parents)), tuple(tasks)))
    return out


SLOTS = st.one_of(st.integers(1, 40), st.lists(st.integers(0, 3_000), min_size=1, max_size=12))


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(groups(), SLOTS)
def test_makespan_equals_the_plain_replay(stages: list[SimStage], slots: Slots) -> None:
    assert schedule_group(stages, slots) == reference_makespan(stages, slots)


@settings(derandomize=True, max_examples=100, deadline=None, database=None)
@given(groups())
def test_a_slot_for_every_task_is_the_critical_path(stages: list[SimStage]) -> None:
    every_task = max(1, sum(len(s.task_ms) for s in stages))
    assert schedule_group(stages, every_task) == reference_makespan(stages, every_task)
    assert schedule_group(stages, every_task + 7) == reference_makespan(stages, every_task + 7)


def test_late_slots_and_idle_slots_in_one_group() -> None:
    # Slots free at 0, 0 and 500. Stage 0 (two 100 ms tasks) runs 0-100 on the first two;
    # stage 1 waits for it (ready 100): its 300 ms task takes a slot idle since 100 -> 400,
    # its 50 ms task the other idle one -> 150. The slot that joins at 500 is never needed.
    stages = [SimStage(0, (), (100, 100)), SimStage(1, (0,), (300, 50))]
    assert schedule_group(stages, [0, 0, 500]) == 400
    assert simulate_jobs([stages, stages], [[0, 0, 500], 1]) == (400, 550)


def test_a_list_group_is_never_remembered_so_changing_it_changes_the_answer() -> None:
    group = [SimStage(0, (), (100,))]
    assert schedule_group(group, 1) == 100
    group.append(SimStage(1, (0,), (50,)))
    assert schedule_group(group, 1) == 150


def test_a_remembered_makespan_is_the_one_computed_for_that_very_group() -> None:
    first, second = (SimStage(0, (), (100, 100)),), (SimStage(0, (), (100, 100)),)
    assert schedule_group(first, 1) == 200 and schedule_group(first, 2) == 100
    assert schedule_group(second, 1) == 200  # an equal group of its own: same answer
    assert schedule_group(first, [0, 300]) == 200 and schedule_group(first, (0, 50)) == 150
