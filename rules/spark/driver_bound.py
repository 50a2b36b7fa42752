"""spark.driver-bound: executors held while only the driver works, between and around jobs."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from analyzer.core import timeline as tl
from analyzer.core.findings import Finding
from analyzer.core.model import Application
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark.common import core_hours, subject

MIN_IDLE_TIMEOUT_S = 10
MAX_IDLE_TIMEOUT_S = 60  # Spark's default executorIdleTimeout
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000}


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no job running: the driver alone works while executors wait."""

    start_ms: int
    end_ms: int
    held_core_ms: int
    held_ms: int
    job_before: int | None
    job_after: int | None

    @property
    def duration_ms(self) -> int:
        """Wall-clock length of the gap."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class DriverBoundMeasure:
    """The numbers behind a driver-bound verdict for one application."""

    app_ms: int
    held_ms: int
    driver_only_ms: int
    driver_only_held_ms: int
    held_gap_core_ms: int
    gaps: tuple[Gap, ...]

    @property
    def share(self) -> float:
        """Driver-only share of the wall-clock time during which executors were held."""
        return self.driver_only_held_ms / self.held_ms if self.held_ms else 0.0


def measure(app: Application) -> DriverBoundMeasure | None:
    """Gaps between job groups (and before the first / after the last) and the cores held in them."""
    window = tl.app_window(app)
    if window is None or tl.is_local_mode(app):
        return None
    lifetimes = tl.executor_lifetimes(app, window)
    if not lifetimes:
        return None
    groups = tl.job_groups(app, window)
    spans = tl.gaps(window, [(g.start_ms, g.end_ms) for g in groups])
    ends = {g.end_ms: g.job_ids[-1] for g in groups}
    starts = {g.start_ms: g.job_ids[0] for g in groups}
    timeline = tl.CoreTimeline.of(lifetimes)
    gaps = tuple(
        Gap(start, end, timeline.core_ms((start, end)), timeline.alive_ms((start, end)),
            ends.get(start), starts.get(end))
        for start, end in spans
    )
    return DriverBoundMeasure(
        app_ms=window[1] - window[0], held_ms=timeline.alive_ms(window),
        driver_only_ms=sum(g.duration_ms for g in gaps), driver_only_held_ms=sum(g.held_ms for g in gaps),
        held_gap_core_ms=sum(g.held_core_ms for g in gaps), gaps=gaps,
    )


def idle_timeout_s(long_gaps: Sequence[Gap]) -> int:
    """An executorIdleTimeout that releases executors in every long gap: half the shortest, 10-60 s.

    Half leaves the other half of the shortest long gap to save; the floor keeps executors
    across the quick hand-overs between back-to-back jobs; 60 s is Spark's default.
    """
    shortest = min(g.held_ms for g in long_gaps) / 1000
    return int(min(MAX_IDLE_TIMEOUT_S, max(MIN_IDLE_TIMEOUT_S, 5 * (shortest / 2 // 5))))


def released_core_ms(long_gaps: Sequence[Gap], timeout_s: int) -> float:
    """Core time dynamic allocation would give back: what each gap held after the idle timeout."""
    return sum(g.held_core_ms * max(0, g.held_ms - timeout_s * 1000) / g.held_ms
               for g in long_gaps if g.held_ms)


def parse_duration_ms(text: str | None, default_unit: str = "s") -> int | None:
    """Spark time strings (``60s``, ``2min``, ``500ms``, ``120``) in milliseconds."""
    match = _DURATION.match(text or "")
    if not match:
        return None
    return int(float(match.group(1)) * _UNIT_MS[(match.group(2) or default_unit).lower()])


class DriverBound(SparkRule["DriverBound.Config"]):
    """Executors were held while only the driver worked, between or around the jobs.

    ## Why it matters
    While the driver collects results, converts them with ``toPandas``, loops in Python or
    sleeps between actions, no job runs and every executor core is paid for doing nothing
    (Sparklens' driver vs executor wall-clock). Executors are billed by lifetime, not by use.

    ## Anti-pattern
    ``rows = df.collect()`` followed by minutes of Python over the rows, model training on
    the driver after a Spark extract, polling loops with ``time.sleep`` between actions, or
    a long driver-side set-up after the executors were granted, all with a fixed
    ``spark.executor.instances``.

    ## Fix
    Let idle executors go: ``spark.dynamicAllocation.enabled=true`` with
    ``spark.dynamicAllocation.shuffleTracking.enabled=true`` (or the external shuffle service)
    and an ``spark.dynamicAllocation.executorIdleTimeout`` computed from the observed gaps
    (half the shortest long gap, 10-60 s). Better still, move the driver-side work into Spark
    (DataFrame operations or ``mapInPandas`` instead of ``collect``/``toPandas`` and Python
    loops), or run it outside the Spark application.

    ## Savings estimate
    The executor core-hours held during the gaps: time not covered by any job group (gaps
    between groups of overlapping jobs, before the first and after the last job) x the
    executor cores alive then. Only time outside job groups is counted: idle cores while jobs
    run are ``spark.oversized-cluster``'s, so the two rules never count the same core-hour.
    The saving claimed is what the recommendation frees: with a recommended idle timeout,
    the core time held in the long gaps after that timeout
    (``released_core_hours_with_timeout``); without one, all of the held time (moving or
    batching the driver's work). The evidence gives both.

    ## Known problems
    A gap is driver-only by timing, not by proof: a listener or a non-Spark system the driver
    waits for looks the same. Dynamic allocation keeps executors for the idle timeout, for
    ``minExecutors``, and while they hold cached blocks or tracked shuffle data, so the
    realised saving is smaller than the held core-hours. Local mode is skipped: its cores are
    the driver's own machine, which the driver holds anyway, and nothing can be released.
    Damping: an application whose executors waited less than ``min_driver_only_seconds`` for
    the driver, in at least one gap of ``long_gap_seconds``, is an ``info`` early warning
    saying what the wait becomes at 100× the data if the driver-side work grows with it; it
    claims no saving. Shorter waits without such a gap (executor start-up, hand-overs
    between jobs) are not reported.
    """

    id = "spark.driver-bound"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.driver-bound."""

        driver_only_share: Thresholds = option(Thresholds(low=0.2, medium=0.35, high=0.5, critical=0.7),
                                               "driver-only share of the wall-clock time executors were held")
        min_driver_only_seconds: float = option(60.0, "damping: apps whose executors waited less for "
                                                      "the driver are early warnings (seconds)")
        long_gap_seconds: float = option(20.0, "gaps at least this long are ones dynamic allocation can "
                                               "release executors in; the idle timeout is derived from them")

    def check(self, app: Application, config: DriverBound.Config) -> Iterator[Finding]:
        """One finding per application whose executors waited for the driver; an early warning when the
        wait is shorter than ``min_driver_only_seconds``."""
        m = measure(app)
        if m is None or m.driver_only_held_ms <= 0:
            return
        severity = config.driver_only_share.severity(m.share)
        if severity is None:
            return
        damped = damped_by((m.driver_only_held_ms < config.min_driver_only_seconds * 1000,
                            f"executors waited {m.driver_only_held_ms / 1000:,.1f} s for the driver "
                            f"(min_driver_only_seconds {config.min_driver_only_seconds:g})"))
        if damped and not any(g.held_ms >= config.long_gap_seconds * 1000 for g in m.gaps):
            return  # small, and no gap long enough to release executors in: start-up and hand-overs
        finding = self._finding(app, m, severity, config)
        yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    def _finding(self, app: Application, m: DriverBoundMeasure, severity: str, config: Config) -> Finding:
        long_gaps = [g for g in m.gaps if g.held_ms >= config.long_gap_seconds * 1000]
        timeout = idle_timeout_s(long_gaps) if long_gaps else None
        evidence = _evidence(app, m, long_gaps, timeout)
        # What the recommendation saves: the core time the idle timeout releases; without a long gap
        # the recommendation is to move or batch the driver's work, which frees all of it.
        saved = released_core_ms(long_gaps, timeout) if timeout is not None else m.held_gap_core_ms
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app),
            title=f"Executors waited {m.driver_only_held_ms / 1000:,.0f} s ({m.share:.0%}) for the driver, "
                  f"{_where_title(m)}",
            evidence=evidence, recommendation=_recommendation(app, m, timeout),
            tradeoffs="Released executors must start again when the next job arrives (seconds on YARN "
                      "or Kubernetes), and without shuffle tracking or an external shuffle service their "
                      "shuffle files are recomputed; moving driver code into Spark means rewriting it.",
            avoidable_core_hours=core_hours(saved),
            confidence="high",
        )


def _evidence(app: Application, m: DriverBoundMeasure, long_gaps: list[Gap], timeout: int | None) -> dict:
    """Numbers with units; the longest gaps are named by offset and neighbouring jobs."""
    start = app.start_time_ms or 0
    longest = sorted(m.gaps, key=lambda g: -g.held_core_ms)[:3]
    evidence: dict[str, object] = {
        "driver_only_share": round(m.share, 4), "app_duration_ms": m.app_ms, "executors_held_ms": m.held_ms,
        "driver_only_ms": m.driver_only_ms, "driver_only_with_executors_ms": m.driver_only_held_ms,
        "held_core_hours_in_gaps": round(core_hours(m.held_gap_core_ms), 4), "gaps": len(m.gaps),
        "long_gaps": len(long_gaps),
        "longest_gaps": [{"offset_ms": g.start_ms - start, "duration_ms": g.duration_ms,
                          "held_core_hours": round(core_hours(g.held_core_ms), 4),
                          "after_job": g.job_before, "before_job": g.job_after} for g in longest],
    }
    if timeout is not None:
        released = core_hours(released_core_ms(long_gaps, timeout))
        evidence["recommended_idle_timeout_s"] = timeout
        evidence["released_core_hours_with_timeout"] = round(released, 4)
    return evidence


def _recommendation(app: Application, m: DriverBoundMeasure, timeout: int | None) -> str:
    """Dynamic-allocation settings fitted to the gaps, plus moving the driver-side work."""
    move = ("move the driver-side work done there (collect/toPandas/Python loops) into Spark or out of this "
            f"application; {_worst_gap(m)}.")
    if timeout is None:
        return (f"M{move[1:]} No gap reaches the long-gap limit, so dynamic allocation would not release "
                "executors in them: batch the driver's actions instead.")
    return f"{_allocation_conf(app, timeout)}; or {move}"


def _allocation_conf(app: Application, timeout: int) -> str:
    """The --conf set that releases executors in the long gaps, given what is already configured."""
    props = app.properties
    prefix = "spark.dynamicAllocation."
    if not tl.is_dynamic_allocation(app):
        return (f"--conf {prefix}enabled=true --conf {prefix}shuffleTracking.enabled=true "
                f"--conf {prefix}executorIdleTimeout={timeout}s (releases executors after {timeout} s idle)")
    confs = []
    current = parse_duration_ms(props.get(prefix + "executorIdleTimeout", "60s"))
    if current is None or current > timeout * 1000:
        confs.append(f"--conf {prefix}executorIdleTimeout={timeout}s")
    if (props.get(prefix + "minExecutors", "0").strip() or "0") not in ("0",):
        confs.append(f"--conf {prefix}minExecutors=0")
    if not confs:
        return (f"dynamic allocation is on with executorIdleTimeout <= {timeout} s, yet executors stayed: "
                f"cached blocks (--conf {prefix}cachedExecutorIdleTimeout={timeout}s) or tracked shuffle "
                "data keep them")
    return " ".join(confs) + " (dynamic allocation is already on)"


def _worst(m: DriverBoundMeasure) -> Gap:
    """The gap that held the most core time."""
    return max(m.gaps, key=lambda g: g.held_core_ms)


def _where(gap: Gap) -> str:
    """Where a gap was, named by the jobs around it."""
    if gap.job_before is None and gap.job_after is None:
        return "with no job at all"
    if gap.job_before is None:
        return f"before the first job ({gap.job_after})"
    if gap.job_after is None:
        return f"after the last job ({gap.job_before})"
    return f"between jobs {gap.job_before} and {gap.job_after}"


def _where_title(m: DriverBoundMeasure) -> str:
    """The title's place of the wait: the one gap, or the longest of several."""
    held = [g for g in m.gaps if g.held_ms > 0]
    worst = _worst(m)
    if len(held) <= 1:
        return _where(worst)
    return f"longest {worst.held_ms / 1000:,.0f} s {_where(worst)}"


def _worst_gap(m: DriverBoundMeasure) -> str:
    """Where the executors waited longest, named by the jobs around the gap."""
    worst = _worst(m)
    return f"the executors waited longest, {worst.held_ms / 1000:,.0f} s, {_where(worst)}"


def _at_scale(m: DriverBoundMeasure) -> str:
    """The wait at ``SCALE`` times the data, if the driver-side work grows with it."""
    return (f"The executors held {core_hours(m.held_gap_core_ms):,.3f} core-hours while waiting here; at "
            f"{SCALE}× the data, if the driver-side work (collected rows, Python loops) grows with it, they "
            f"would wait about {scaled_duration(m.driver_only_held_ms * SCALE / 1000)} per run, "
            f"{core_hours(m.held_gap_core_ms * SCALE):,.1f} core-hours on the same executors.")
