"""Regressions: a run far above its own application's recent baseline, input growth discounted.

Why robust statistics: a job's history has outliers (a retried night, a backfill), and a
mean and standard deviation would let one of them hide the next regression or invent one.
The baseline of a run is the **median** of the application's previous ``WINDOW`` runs and
its spread the **median absolute deviation** (MAD, scaled by 1.4826 to be comparable with a
standard deviation). A run regresses on a metric (``duration_ms`` or ``cost_usd``) when

- it is at least ``MIN_CHANGE`` times the baseline after dividing by its input growth
  (input / median previous input, when it grew), and
- that input-adjusted value is more than ``MAD_K`` scaled MADs above the baseline,

with at least ``MIN_BASELINE`` previous runs. A run whose input doubled with its time is
therefore no regression. The stages (or query patterns) that moved most and the Spark
properties that changed since the previous run come with it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Mapping, Sequence

from analyzer.core.fleet import ConfigChange, Regression, RunSummary, StageMove

WINDOW = 10
MIN_BASELINE = 3
MIN_CHANGE = 1.5
MAD_K = 3.0
MAD_SCALE = 1.4826
TOP_STAGES = 3
METRICS = ("duration_ms", "cost_usd")
METHOD = (f"Regressions: a run's duration or cost against the median of its application's previous "
          f"{WINDOW} runs (at least {MIN_BASELINE}); flagged when, divided by its input growth, it is at "
          "least "
          f"{MIN_CHANGE}x that median and more than {MAD_K:g} scaled median absolute deviations "
          f"(MAD x {MAD_SCALE}) above it.")
# Properties that differ between any two runs and say nothing about the job's configuration.
_VOLATILE = re.compile(r"(^spark\.app\.(id|name|startTime|submitTime|attempt)|port$|\.host$"
                       r"|^spark\.driver\.host|^spark\.app\.initial|attempt|\.id$|tmp|temp"
                       r"|^spark\.eventLog)", re.I)

StageTimes = Mapping[str, tuple[str, float]]  # stage id or pattern -> (name, milliseconds)


def _value(run: RunSummary, metric: str) -> float | None:
    value = getattr(run, metric)
    return None if value is None else float(value)


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def find_regressions(key: str, name: str, runs: Sequence[RunSummary],
                     stages_of: Callable[[RunSummary], StageTimes],
                     properties_of: Callable[[RunSummary], Mapping[str, str]] | None = None,
                     ) -> list[Regression]:
    """Every regressed run of one application (``runs`` oldest first), on each metric."""
    found = []
    for i, run in enumerate(runs):
        for metric in METRICS:
            regression = _check(key, name, runs, i, metric)
            if regression is None:
                continue
            prev = [r for r in runs[max(0, i - WINDOW):i]]
            moves = _stage_moves(stages_of(run), [stages_of(r) for r in prev])
            changes = _config_diff(properties_of(runs[i - 1]), properties_of(run)) if properties_of else ()
            found.append(_with(regression, moves, changes))
    return found


def _check(key: str, name: str, runs: Sequence[RunSummary], i: int, metric: str) -> Regression | None:
    run = runs[i]
    value = _value(run, metric)
    prev = [r for r in runs[max(0, i - WINDOW):i] if _value(r, metric) is not None]
    if value is None or len(prev) < MIN_BASELINE:
        return None
    values = [float(_value(r, metric) or 0.0) for r in prev]
    baseline = _median(values)
    if baseline <= 0:
        return None
    mad = _median([abs(v - baseline) for v in values])
    inputs = [float(r.input_bytes) for r in prev if r.input_bytes]
    input_change = run.input_bytes / _median(inputs) if inputs and run.input_bytes else None
    adjusted = value / max(1.0, input_change or 1.0)
    if adjusted < MIN_CHANGE * baseline or adjusted <= baseline + MAD_K * MAD_SCALE * mad:
        return None
    return Regression(key=key, name=name, app_id=run.app_id, attempt_id=run.attempt_id,
                      start_time_ms=run.start_time_ms, metric=metric, baseline=baseline, value=value,
                      change=value / baseline, mad=mad, baseline_runs=len(prev), input_change=input_change)


def _stage_moves(now: StageTimes, before: Sequence[StageTimes]) -> tuple[StageMove, ...]:
    """Stages whose time grew most against their median over the baseline runs (absent = 0 ms)."""
    moves = []
    for stage, (name, ms) in now.items():
        base = _median([b[stage][1] if stage in b else 0.0 for b in before]) if before else 0.0
        if ms > base:
            moves.append(StageMove(stage=stage, name=name, baseline_ms=base, value_ms=ms))
    moves.sort(key=lambda m: -m.delta_ms)
    return tuple(moves[:TOP_STAGES])


def _config_diff(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[ConfigChange, ...]:
    """Properties set, removed or changed between two runs, volatile ones (ids, ports, hosts) left out."""
    keys = sorted(k for k in set(before) | set(after)
                  if not _VOLATILE.search(k) and before.get(k) != after.get(k))
    return tuple(ConfigChange(key=k, before=before.get(k), after=after.get(k)) for k in keys)


def _with(r: Regression, moves: tuple[StageMove, ...], changes: tuple[ConfigChange, ...]) -> Regression:
    from dataclasses import replace

    return replace(r, stages=moves, config_changes=changes)
