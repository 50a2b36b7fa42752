"""spark.gc-pressure: executors that spend a large share of task time in JVM garbage collection."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, Stage
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._stage_math import cores_per_executor, heap_setting, is_local, memory_step
from rules.spark.common import core_hours, finished_stages, subject

NON_G1_COLLECTORS = (
    "-XX:+UseParallelGC", "-XX:+UseConcMarkSweepGC", "-XX:+UseSerialGC", "-XX:+UseParallelOldGC",
)
FIXED_YOUNG_GEN = ("-Xmn", "-XX:NewSize", "-XX:MaxNewSize")
G1_FLAGS = "-XX:+UseG1GC -XX:InitiatingHeapOccupancyPercent=35"
TOP_STAGES = 3


@dataclass(frozen=True, slots=True)
class GcMeasure:
    """GC time against executor run time over a set of stage attempts."""

    run_time_ms: int
    gc_time_ms: int
    share: float
    avoidable_ms: float


def measure(stages: Iterable[Stage], healthy_share: float) -> GcMeasure:
    """The GC share of task run time, and the GC time above ``healthy_share`` of it.

    Both sums include failed attempts, like Dr. Elephant's executor totals: a task that
    died collecting garbage still spent that time.
    """
    run = gc = 0
    for stage in stages:
        run += stage.metrics.executor_run_time_ms
        gc += stage.metrics.jvm_gc_time_ms
    share = gc / run if run else 0.0
    avoidable = max(0.0, gc - healthy_share * run)
    return GcMeasure(run_time_ms=run, gc_time_ms=gc, share=share, avoidable_ms=avoidable)


class GcPressure(SparkRule["GcPressure.Config"]):
    """Executors spend a large share of task time in JVM garbage collection.

    ## Why it matters
    While the JVM collects garbage, tasks make no progress but still hold their cores.
    A high GC share also signals a heap close to full: the next larger input turns the
    slowdown into ``OutOfMemoryError`` and lost executors.

    ## Anti-pattern
    Many cores sharing a small heap (each concurrent task gets ``heap / cores``), caching
    deserialized objects, wide rows or huge ``collect_list`` groups, and GC flags that fix
    a tiny young generation (``-Xmn``) or pick a throughput collector for large heaps.

    ## Fix
    Give each task more heap: raise ``spark.executor.memory`` or lower
    ``spark.executor.cores``, following Dr. Elephant's step (halve cores above 4; else
    double a heap under 4 GiB, x1.5 under 8 GiB; else 2 cores; else x1.25). Prefer G1
    (``-XX:+UseG1GC -XX:InitiatingHeapOccupancyPercent=35``) and drop fixed young-generation
    sizes. In local mode the heap is ``spark.driver.memory``.

    ## Savings estimate
    GC time above a healthy share of run time (``healthy_share``, 5 %) is avoidable:
    ``gc - 0.05 x run time``, in core-hours.

    ## Known problems
    Thresholds are Dr. Elephant's ``ExecutorGcHeuristic`` (GC / run time 0.08/0.1/0.15/0.2;
    the kubeflow Spark History Server MCP flags > 0.1). The share is computed from stage
    task sums (GC time / executor run time), not from executor summaries, so driver GC is
    left out. When the whole application crosses the thresholds there is one finding for
    it, listing its worst stages; otherwise each stage with at least
    ``min_stage_run_seconds`` of task time is judged alone (a short stage's share is one or
    two collections, noise). Damping, like Dr. Elephant's 5-minute floor: an application over
    the thresholds with less than ``min_app_run_seconds`` of task run time is an ``info``
    early warning saying what the same share costs at 100× the data; it claims no saving.
    """

    id = "spark.gc-pressure"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.gc-pressure."""

        share: Thresholds = option(Thresholds(low=0.08, medium=0.1, high=0.15, critical=0.2),
                                   "JVM GC time / executor run time (Dr. Elephant ExecutorGcHeuristic)")
        healthy_share: float = option(0.05, "GC share regarded as normal; only time above it is avoidable")
        min_app_run_seconds: float = option(300.0, "damping: apps with less task run time are early "
                                                                 "warnings (s)")
        min_stage_run_seconds: float = option(300.0, "stages with less task run time are not judged "
                                                                   "alone (s)")

    def check(self, app: Application, config: GcPressure.Config) -> Iterator[Finding]:
        """One application-level finding (an early warning when the app is small), or else one per large
        stage over the thresholds."""
        stages = finished_stages(app)
        whole = measure(stages, config.healthy_share)
        severity = config.share.severity(whole.share)
        if severity is not None:
            finding = self._finding(app, None, whole, severity, _worst_stages(stages, config.healthy_share))
            damped = damped_by((whole.run_time_ms < config.min_app_run_seconds * 1000,
                                f"{whole.run_time_ms / 1000:,.1f} s of task run time (min_app_run_seconds "
                                f"{config.min_app_run_seconds:g})"))
            yield early_warning(finding, severity, damped, _at_scale(whole)) if damped else finding
            return
        for stage in stages:
            m = measure([stage], config.healthy_share)
            severity = config.share.severity(m.share)
            if m.run_time_ms >= config.min_stage_run_seconds * 1000 and severity is not None:
                yield self._finding(app, stage, m, severity, [])

    def _finding(self, app: Application, stage: Stage | None, m: GcMeasure, severity: str,
                 worst: list[dict[str, object]]) -> Finding:
        scope = f"Stage {stage.stage_id}" if stage else "Application"
        evidence: dict[str, object] = {
            "gc_time_ms": m.gc_time_ms, "executor_run_time_ms": m.run_time_ms, "gc_share": round(m.share, 4),
        }
        if worst:
            evidence["worst_stages"] = worst
        return Finding(
            rule_id=self.id, severity=severity, subject=subject(app, stage),
            title=f"{scope} spent {m.share:.0%} of task run time in JVM garbage collection",
            evidence=evidence, recommendation=_recommendation(app, m),
            tradeoffs="A bigger heap raises the memory (and cost) of every executor; fewer cores per "
                      "executor need more executors for the same parallelism.",
            avoidable_core_hours=core_hours(m.avoidable_ms),
            confidence="high",
        )


def _at_scale(m: GcMeasure) -> str:
    """The GC time at ``SCALE`` times the task time, if the share stays the same."""
    return (f"At {SCALE}× the data (and task time), the same share would be "
            f"{scaled_duration(m.gc_time_ms * SCALE / 1000)} of garbage collection per run, "
            f"{core_hours(m.avoidable_ms * SCALE):,.2f} core-hours of it above the healthy share.")


def _worst_stages(stages: list[Stage], healthy_share: float) -> list[dict[str, object]]:
    """The stages with the most GC time, for the application-level evidence."""
    ranked = sorted(stages, key=lambda s: s.metrics.jvm_gc_time_ms, reverse=True)[:TOP_STAGES]
    out: list[dict[str, object]] = []
    for stage in ranked:
        m = measure([stage], healthy_share)
        if m.gc_time_ms:
            out.append({"stage_id": stage.stage_id, "gc_time_ms": m.gc_time_ms,
                        "gc_share": round(m.share, 4)})
    return out


def _recommendation(app: Application, m: GcMeasure) -> str:
    """Dr. Elephant's memory/cores step with concrete values, plus GC-flag fixes when flags hurt."""
    step = memory_step(app)
    _, heap = heap_setting(app)
    text = (f"--conf {step.setting}={step.proposed} (from {step.current}): GC took {m.share:.0%} of "
            f"{m.run_time_ms / 1000:,.0f} s of task time, so each task needs more heap "
            f"(now {heap / 1024**2 / cores_per_executor(app):,.0f} MiB per concurrent task).")
    flags = _gc_flag_advice(app)
    return f"{text} {flags}" if flags else text


def _gc_flag_advice(app: Application) -> str:
    """Advice on the JVM options of the task JVM, when they choose a poor collector or young gen."""
    key = "spark.driver.extraJavaOptions" if is_local(app) else "spark.executor.extraJavaOptions"
    opts = app.properties.get(key, "")
    advice = []
    if any(flag in opts for flag in NON_G1_COLLECTORS):
        advice.append(f'switch the collector: --conf {key}="{G1_FLAGS}"')
    fixed = [f for f in opts.split() if f.startswith(FIXED_YOUNG_GEN)]
    if fixed:
        advice.append(f"drop {' '.join(fixed)} from {key}: a fixed young generation forces constant "
                      f"minor GCs")
    return ("Also " + "; ".join(advice) + ".") if advice else ""
