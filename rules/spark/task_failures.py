"""spark.task-failures: failed and retried task attempts, what they cost, and why they failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import SEVERITIES, Finding
from analyzer.core.model import Application, Stage
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import failed_attempt_time, memory_step, overhead_bytes, size_conf
from rules.spark.common import GiB, core_hours, finished_stages, subject

# Cause categories, from Stage.failure_causes ("<reason>[: <exception class or loss reason>]").
HEAP_OOM = "heap OOM"
OTHER_OOM = "out of memory (off-heap/device)"
CONTAINER_MEMORY = "container memory"
EXECUTOR_LOST = "executor lost"
FETCH_FAILED = "fetch failed"
APP_EXCEPTION = "task exception"
OTHER = "other"
_CONTAINER_MEMORY_MARKS = ("exceeding memory limits", "oomkilled", "exit code 137", "exit status: 137",
                           "exit code: 137")
TOP_STAGES = 5


def cause_category(cause: str) -> str:
    """Group a failure cause string into the category that decides the fix."""
    low = cause.lower()
    if "outofmemoryerror" in low:
        return HEAP_OOM
    if cause.startswith("ExceptionFailure") and "OOM" in cause:  # e.g. GPU or off-heap allocators
        return OTHER_OOM
    if cause.startswith("ExecutorLostFailure"):
        return CONTAINER_MEMORY if any(mark in low for mark in _CONTAINER_MEMORY_MARKS) else EXECUTOR_LOST
    if cause.startswith("Resubmitted"):  # a finished map task rerun because its executor's output was lost
        return EXECUTOR_LOST
    if cause.startswith("FetchFailed"):
        return FETCH_FAILED
    if cause.startswith("ExceptionFailure"):
        return APP_EXCEPTION
    return OTHER


@dataclass(frozen=True, slots=True)
class StageFailures:
    """Failed attempts of one stage attempt."""

    stage_id: int
    attempt_id: int
    failed: int
    completed: int
    rate: float
    wasted_ms: float
    stage_failed: bool
    recovered: bool


@dataclass(frozen=True, slots=True)
class FailureMeasure:
    """Failed attempts of an application: counts, rates, wasted time (ms) and causes."""

    failed_attempts: int
    completed_tasks: int
    rate: float
    worst_stage_rate: float
    wasted_ms: float
    wasted_low_ms: float
    wasted_high_ms: float
    causes: tuple[tuple[str, int], ...]
    categories: tuple[tuple[str, int], ...]
    stages: tuple[StageFailures, ...]

    @property
    def dominant_category(self) -> str:
        """The category with the most failed attempts."""
        return self.categories[0][0] if self.categories else OTHER

    @property
    def unrecovered_stages(self) -> tuple[StageFailures, ...]:
        """Stage attempts that failed and were never completed by a later attempt."""
        return tuple(s for s in self.stages if s.stage_failed and not s.recovered)


def _stage_failures(stage: Stage, completed_ids: set[int]) -> StageFailures:
    done = stage.num_complete_tasks + stage.num_failed_tasks
    return StageFailures(
        stage_id=stage.stage_id, attempt_id=stage.attempt_id, failed=stage.num_failed_tasks,
        completed=stage.num_complete_tasks, rate=stage.num_failed_tasks / done if done else 0.0,
        wasted_ms=failed_attempt_time(stage).estimate_ms, stage_failed=_failed(stage),
        recovered=stage.stage_id in completed_ids,
    )


def _failed(stage: Stage) -> bool:
    """A stage attempt that failed; one cancelled (job killed, context stopped) did not fail."""
    return stage.status == "FAILED" and "cancel" not in (stage.failure_reason or "").lower()


def measure(app: Application) -> FailureMeasure:
    """Failure rate (failed / (completed + failed), Dr. Elephant's), wasted time and causes.

    Wasted time is the core time of failed attempts (``failed_attempt_time``: exact unless
    killed attempts share the stage's unsuccessful time, then an estimate with bounds).
    """
    stages = finished_stages(app)
    completed_ids = {s.stage_id for s in stages if s.status == "COMPLETE"}
    per_stage = [_stage_failures(s, completed_ids) for s in stages if s.num_failed_tasks or _failed(s)]
    failed = sum(s.num_failed_tasks for s in stages)
    completed = sum(s.num_complete_tasks for s in stages)
    times = [failed_attempt_time(s) for s in stages]
    causes: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for stage in stages:
        for cause, n in stage.failure_causes:
            causes[cause] += n
            categories[cause_category(cause)] += n
    return FailureMeasure(
        failed_attempts=failed, completed_tasks=completed,
        rate=failed / (failed + completed) if failed + completed else 0.0,
        worst_stage_rate=max((s.rate for s in per_stage), default=0.0),
        wasted_ms=sum(t.estimate_ms for t in times), wasted_low_ms=sum(t.low_ms for t in times),
        wasted_high_ms=sum(t.high_ms for t in times),
        causes=tuple(causes.most_common()), categories=tuple(categories.most_common()),
        stages=tuple(per_stage),
    )


class TaskFailures(SparkRule["TaskFailures.Config"]):
    """Task attempts failed and were retried, wasting the cores they held.

    ## Why it matters
    A failed attempt's work is thrown away and redone; ``spark.task.maxFailures`` (4)
    failures of one task abort the job, and with it everything the application computed.
    Recurring failures are also the earliest warning of memory limits, dying nodes and
    shuffle trouble that later turn into failed runs.

    ## Anti-pattern
    Heaps or container overheads sized below what the largest partitions need
    (``OutOfMemoryError``, YARN/Kubernetes memory kills), preemptible or spot executors
    without decommissioning, shuffle files served by executors that disappear, and code
    that fails on some records or on flaky external services.

    ## Fix
    Depends on the dominant cause: heap OOM - a larger ``spark.executor.memory`` or fewer
    cores (Dr. Elephant's step); container kills - ``spark.executor.memoryOverhead`` + 1 GiB
    (Dr. Elephant); executor loss - graceful decommissioning and an external shuffle
    service; fetch failures - ``spark.shuffle.service.enabled=true`` and more
    ``spark.shuffle.io.maxRetries``; exceptions - fix the code or data they name.

    ## Savings estimate
    The core time of the failed attempts, in core-hours: the stage's time of attempts that
    did not succeed, less killed (speculative) attempts. When a stage also had killed
    attempts, their share is estimated and the evidence gives the bounds.

    ## Known problems
    Severity follows the worst stage's failure rate (Dr. Elephant ``StagesHeuristic``:
    failed / (completed + failed); levels 0.05/0.1/0.3/0.5 combine the tuning branch's
    0.05 floor with master's 0.1/0.3/0.5). A stage that failed for good makes the finding
    critical, one retried successfully at least medium (Dr. Elephant: stage FAILED is
    critical). Damping: when no stage failed and the failed attempts wasted less than
    ``min_wasted_seconds``, the finding is an ``info`` early warning saying what they cost at
    100× the data; it claims no saving. ``Resubmitted`` tasks (finished map output lost with
    its executor) count as failures, as in the History Server. The wasted time is exact
    (confidence high) unless killed attempts shared the stage's unsuccessful time (medium).
    """

    id = "spark.task-failures"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.task-failures."""

        rate: Thresholds = option(Thresholds(low=0.05, medium=0.1, high=0.3, critical=0.5),
                                  "worst stage's failed / (completed + failed) task attempts (Dr. Elephant)")
        min_wasted_seconds: float = option(60.0, "damping: below this much failed-attempt time (s) the "
                                                 "finding is an early warning unless a stage failed")

    def check(self, app: Application, config: TaskFailures.Config) -> Iterator[Finding]:
        """One finding per application with failed attempts or failed stages."""
        m = measure(app)
        if not m.stages:
            return
        severity = _severity(m, config)
        if severity is None:
            return
        finding = self._finding(app, m, severity)
        stage_failed = any(s.stage_failed for s in m.stages)
        damped = damped_by((not stage_failed and m.wasted_ms < config.min_wasted_seconds * 1000,
                            f"the failed attempts held {m.wasted_ms / 1000:,.1f} s of task time "
                            f"(min_wasted_seconds {config.min_wasted_seconds:g})"))
        yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    def _finding(self, app: Application, m: FailureMeasure, severity: str) -> Finding:
        worst = sorted(m.stages, key=lambda s: (s.stage_failed and not s.recovered, s.wasted_ms),
                       reverse=True)
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app),
            title=(f"{m.failed_attempts:,} task attempts failed ({m.rate:.0%} of attempts), mostly "
                   f"{m.dominant_category}" + (f"; {len(m.unrecovered_stages)} stage(s) failed for good"
                                               if m.unrecovered_stages else "")),
            evidence={
                "failed_attempts": m.failed_attempts, "completed_tasks": m.completed_tasks,
                "failure_rate": round(m.rate, 4), "worst_stage_failure_rate": round(m.worst_stage_rate, 4),
                "wasted_ms": round(m.wasted_ms),
                "wasted_ms_bounds": [round(m.wasted_low_ms), round(m.wasted_high_ms)],
                "causes": dict(m.causes), "categories": dict(m.categories),
                "stages": [_stage_evidence(s) for s in worst[:TOP_STAGES]],
            },
            recommendation=_recommendation(app, m),
            tradeoffs="More memory or overhead raises the cost of every executor-hour; more shuffle retries "
                      "make a truly lost shuffle fail later; decommissioning needs Spark 3.1+.",
            avoidable_core_hours=core_hours(m.wasted_ms),
            # exact unless killed attempts shared the stage's unsuccessful time (then estimated, with bounds)
            confidence="high" if m.wasted_low_ms == m.wasted_high_ms else "medium",
        )


def _stage_evidence(s: StageFailures) -> dict[str, object]:
    return {"stage_id": s.stage_id, "attempt_id": s.attempt_id, "failed": s.failed, "rate": round(s.rate, 4),
            "stage_failed": s.stage_failed, "recovered": s.recovered}


def _severity(m: FailureMeasure, config: TaskFailures.Config) -> str | None:
    """Rate-based severity, raised by failed stages (``check`` damps it when little time was lost)."""
    severity = config.rate.severity(m.worst_stage_rate)
    if m.unrecovered_stages:
        return "critical"
    if any(s.stage_failed for s in m.stages):
        return _at_least(severity, "medium")
    return severity


def _at_scale(m: FailureMeasure) -> str:
    """The failed attempts' time at ``SCALE`` times the data, at the same failure rate."""
    return (f"At {SCALE}× the data and the same failure rate the failed attempts would hold about "
            f"{scaled_duration(m.wasted_ms * SCALE / 1000)} of task time per run; and whatever fails a "
            f"task spark.task.maxFailures times aborts the job.")


def _at_least(severity: str | None, floor: str) -> str:
    if severity is None:
        return floor
    return SEVERITIES[max(SEVERITIES.index(severity), SEVERITIES.index(floor))]


def _recommendation(app: Application, m: FailureMeasure) -> str:
    """The fix for the dominant failure cause, with values from the application's settings."""
    category = m.dominant_category
    top = m.causes[0][0] if m.causes else "unknown"
    props = app.properties
    if category == HEAP_OOM:
        step = memory_step(app)
        return (f"Tasks ran out of heap ({top}): --conf {step.setting}={step.proposed} (from {step.current}, "
                f"Dr. Elephant's step), or more shuffle partitions so each task holds less.")
    if category == OTHER_OOM:
        return (f"Tasks ran out of off-heap or device memory ({top}): give each task less data (more shuffle "
                f"partitions, a smaller spark.sql.files.maxPartitionBytes) or run fewer tasks at once per "
                f"executor.")
    if category == CONTAINER_MEMORY:
        current = overhead_bytes(app)
        return (f"Executors were killed for exceeding their container memory: --conf "
                f"spark.executor.memoryOverhead={size_conf(current + GiB)} (from {size_conf(current)}, "
                f"+1 GiB as Dr. Elephant suggests).")
    if category == EXECUTOR_LOST:
        return ("Executors were lost (preemption, spot interruption, node failure): --conf "
                "spark.decommission.enabled=true --conf spark.storage.decommission.enabled=true --conf "
                "spark.storage.decommission.shuffleBlocks.enabled=true, and keep shuffle files on an "
                "external shuffle service (--conf spark.shuffle.service.enabled=true) or on-demand nodes.")
    if category == FETCH_FAILED:
        retries = int(props.get("spark.shuffle.io.maxRetries", "3") or 3)
        return (f"Shuffle fetches failed: --conf spark.shuffle.service.enabled=true --conf "
                f"spark.shuffle.io.maxRetries={max(10, retries * 2)} (from {retries}) --conf "
                f"spark.shuffle.io.retryWait=30s (from {props.get('spark.shuffle.io.retryWait', '5s')}).")
    if category == APP_EXCEPTION:
        max_failures = props.get("spark.task.maxFailures", "4")
        outcome = ("the job failed" if m.unrecovered_stages else "the retries succeeded, so the error is "
                   "transient (a flaky service, a race, resource limits)")
        return (f"Tasks threw {top} ({m.causes[0][1] if m.causes else 0} attempts); {outcome}. Fix the cause "
                f"in the code or data: every failing task is retried up to "
                f"spark.task.maxFailures={max_failures} times, repeating its work.")
    return f"Investigate the failures ({top}); each failed attempt repeats its work."
