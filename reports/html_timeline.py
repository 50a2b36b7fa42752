"""Executor utilisation over time: allocated cores against (approximately) running tasks.

Event logs record when executors come and go, and each stage's span and task times, but
not every task's start and end in the model. Each stage is therefore drawn as its task
time spread evenly over its span (mean concurrency), capped at min(tasks, cores): the area
under the curve then equals the task core-time the waste ledger calls useful, so the gap to
the allocated cores is the idle capacity the bill pays for. Allocation uses the same
``executor_spans`` as the cost model, so the chart and the bill agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.core.cost import executor_spans, priced_window
from analyzer.core.model import Application, Stage


@dataclass(frozen=True, slots=True)
class Utilisation:
    """A step series: from ``offsets_ms[i]`` on, these cores are allocated and this many tasks run."""

    offsets_ms: tuple[int, ...]
    allocated_cores: tuple[int, ...]
    running_tasks: tuple[float, ...]

    @property
    def span_ms(self) -> int:
        """Length of the series: the application's window."""
        return self.offsets_ms[-1] if self.offsets_ms else 0


def stage_concurrency(stage: Stage, cores: int) -> float:
    """Mean running tasks of a stage over its span, capped at min(tasks, cores)."""
    span = stage.duration_ms
    cap = float(min(max(stage.num_tasks, 0), cores))
    if not stage.task_durations_ms or not span or span <= 0:
        return cap
    return min(cap, sum(stage.task_durations_ms) / span)


def _events(app: Application, window: tuple[int, int]) -> list[tuple[int, int, float]]:
    """(time, change in allocated cores, change in running tasks) for executors and stages."""
    spans = executor_spans(app, window)
    peak = sum(life.cores for life in spans)
    events: list[tuple[int, int, float]] = []
    for life in spans:
        events += [(life.start_ms, life.cores, 0.0), (life.end_ms, -life.cores, 0.0)]
    for stage in app.stages:
        if stage.submission_time_ms is None:
            continue
        lo = max(window[0], stage.submission_time_ms)
        hi = min(window[1], stage.completion_time_ms or window[1])
        if hi > lo:
            rate = stage_concurrency(stage, peak)
            events += [(lo, 0, rate), (hi, 0, -rate)]
    return sorted(events)


def utilisation(app: Application) -> Utilisation | None:
    """The step series of one application, offsets from its start; None without a start time."""
    window = priced_window(app)
    if window is None:
        return None
    offsets: list[int] = []
    allocated: list[int] = []
    running: list[float] = []
    cores, tasks = 0, 0.0
    events = _events(app, window)
    for i, (time, d_cores, d_tasks) in enumerate(events):
        cores, tasks = cores + d_cores, tasks + d_tasks
        if i + 1 < len(events) and events[i + 1][0] == time:
            continue  # apply every change at one instant before emitting a point
        offsets.append(time - window[0])
        allocated.append(cores)
        running.append(round(min(float(cores), max(0.0, tasks)), 3))
    if not offsets or offsets[0] != 0:
        offsets.insert(0, 0)
        allocated.insert(0, 0)
        running.insert(0, 0.0)
    return Utilisation(tuple(offsets), tuple(allocated), tuple(running))


def time_unit(span_ms: int) -> tuple[str, float]:
    """The axis unit that keeps numbers readable: (name, milliseconds per unit)."""
    if span_ms <= 3 * 60_000:
        return "seconds", 1000.0
    if span_ms <= 3 * 3_600_000:
        return "minutes", 60_000.0
    return "hours", 3_600_000.0
