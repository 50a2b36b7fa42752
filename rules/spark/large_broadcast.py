"""spark.large-broadcast: a broadcast join whose build side is large for the driver or executors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, PlanNode, SqlExecution
from rules.damping import SCALE, early_warning
from rules.engine import SparkRule, Thresholds, option
from rules.spark._plan import (
    BROADCAST_BYTES,
    OUTPUT_ROWS,
    human_bytes,
    is_file_scan,
    metric,
    scan_key,
    subtree,
)
from rules.spark._plan_grade import higher_severity
from rules.spark.common import (
    GiB,
    MiB,
    core_hours,
    executor_cores,
    executor_memory_bytes,
    is_small_run,
    parse_size,
    subject,
)

DEFAULT_THRESHOLD_BYTES = 10 * MiB  # spark.sql.autoBroadcastJoinThreshold
# Per executor: fetching the broadcast blocks and deserializing them into a hashed relation.
BROADCAST_FETCH_BYTES_PER_SECOND = 100 * MiB
COLLECT_TIME = ("time to collect", "time to collect (ms)")
# Driver-only phases (after the collect job's tasks ended): the executors wait for them.
DRIVER_ONLY_TIMES = (("time to build", "time to build (ms)"), ("time to broadcast", "time to broadcast (ms)"))


@dataclass(frozen=True, slots=True)
class BroadcastMeasure:
    """The numbers behind a large-broadcast verdict for one BroadcastExchange."""

    data_size_bytes: int
    rows: int
    memory_bytes: int
    memory_ratio: float
    collect_ms: int
    driver_only_ms: int
    executors: int
    cores_per_executor: int
    idle_core_seconds: float
    copy_core_seconds: float

    @property
    def avoidable_seconds(self) -> float:
        """Core-seconds spent waiting for the driver plus copying the relation to extra executors."""
        return self.idle_core_seconds + self.copy_core_seconds


def is_broadcast_exchange(node: PlanNode) -> bool:
    """``BroadcastExchange`` (and the RAPIDS ``GpuBroadcastExchange``) with a size metric."""
    return node.name.endswith("BroadcastExchange") and metric(node, BROADCAST_BYTES) is not None


def measure(node: PlanNode, executors: int, cores_per_executor: int, memory_bytes: int) -> BroadcastMeasure:
    """Size against the smallest heap that must hold it, and the executor time it cost.

    While the driver builds and writes the relation, every executor core waits (``executors``
    is 0 in local mode, where the driver's own cores wait). Then every executor fetches and
    deserializes its own copy while its other cores wait for it; one copy would move anyway
    in a sort-merge join, so ``executors - 1`` copies are counted.
    """
    size = metric(node, BROADCAST_BYTES) or 0
    driver_only = sum(metric(node, names) or 0 for names in DRIVER_ONLY_TIMES)
    copies = max(0, executors - 1)
    return BroadcastMeasure(
        data_size_bytes=size, rows=metric(node, OUTPUT_ROWS) or 0, memory_bytes=memory_bytes,
        memory_ratio=size / memory_bytes if memory_bytes else 0.0,
        collect_ms=metric(node, COLLECT_TIME) or 0, driver_only_ms=driver_only,
        executors=executors, cores_per_executor=cores_per_executor,
        idle_core_seconds=max(1, executors) * cores_per_executor * driver_only / 1000,
        copy_core_seconds=copies * cores_per_executor * size / BROADCAST_FETCH_BYTES_PER_SECOND,
    )


def cluster_shape(app: Application) -> tuple[int, int, int]:
    """(executors, cores per executor, smallest heap that holds a broadcast) of the application.

    In local mode the driver is the only executor: nothing is copied, and its heap is the limit.
    """
    driver = parse_size(app.properties.get("spark.driver.memory"), "m") or GiB
    executors = sum(1 for e in app.executors if not e.is_driver)
    if executors == 0 or (app.master or "").startswith("local"):
        return 0, executor_cores(app), driver
    return executors, executor_cores(app), min(driver, executor_memory_bytes(app))


class LargeBroadcast(SparkRule["LargeBroadcast.Config"]):
    """A broadcast join's build side is large enough to strain the driver and every executor.

    ## Why it matters
    A broadcast hash join collects the build side to the driver, builds a hash table
    there and ships a copy to every executor, which keeps it in memory for the whole
    stage. At hundreds of MiB that costs driver memory (``spark.driver.maxResultSize``,
    OOM), network (one copy per executor) and executor memory taken from execution; past
    a few GiB it fails (Spark refuses broadcasts over 8 GiB). DataFlint warns above 1 GiB.

    ## Anti-pattern
    ``spark.sql.autoBroadcastJoinThreshold`` raised to "avoid shuffles"
    (``--conf spark.sql.autoBroadcastJoinThreshold=2g``); a ``BROADCAST`` hint on a table
    that grew; AQE converting a join after a filter it over-estimated.

    ## Fix
    Cap ``spark.sql.autoBroadcastJoinThreshold`` (the recommendation computes a value under
    this rule's thresholds) or hint a sort-merge join (``/*+ MERGE(t) */``). If the
    broadcast is wanted, size the driver and executors for it.

    ## Savings estimate
    While the driver builds the hash table and writes the broadcast ("time to build" +
    "time to broadcast"), every executor core waits: ``cores x driver time``. Then each
    extra executor fetches and deserializes a full copy (assumed 100 MiB/s) while its
    other cores wait: ``(executors - 1) x cores per executor x size / 100 MiB/s``. The
    shuffle and sort a sort-merge join adds to the other side is not subtracted, so this
    is an upper bound; the main gain is reliability (no driver or executor OOM).

    ## Known problems
    "data size" is the hash table's allocated memory: Spark rounds it up to whole memory
    pages, so even a 1,000-row table can show 64 MiB. The threshold Spark compares with
    is the plan's size estimate, not this number. Executor counts come from the log (all
    executors ever added), which over-counts with dynamic allocation; the time is modelled
    (confidence medium). Damping: the thresholds themselves. Below them, in a small run (less
    than one core-hour of task time), a broadcast that would reach one at 100× the data while
    ``spark.sql.autoBroadcastJoinThreshold`` (or a hint) still allows broadcasting it is an
    ``info`` early warning (the largest one per application); it claims no saving.
    """

    id = "spark.large-broadcast"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.large-broadcast."""

        data_size: Thresholds = option(
            Thresholds(low=256 * MiB, medium=1 * GiB, high=2 * GiB, critical=4 * GiB),
            "bytes of the broadcast relation (BroadcastExchange 'data size')")
        memory_ratio: Thresholds = option(Thresholds(low=0.1, medium=0.2, high=0.3, critical=0.5),
                                          "broadcast bytes / the smaller of driver and executor memory")

    def check(self, app: Application, config: LargeBroadcast.Config) -> Iterator[Finding]:
        """Grade every broadcast on its size and on its share of the smallest heap; the graver wins."""
        executors, cores, memory = cluster_shape(app)
        for sql in app.sql_executions:
            for node in sql.nodes:
                if not is_broadcast_exchange(node):
                    continue
                m = measure(node, executors, cores, memory)
                severity = _grade(m.data_size_bytes, m.memory_bytes, config)
                if severity is not None:
                    yield self._finding(app, sql, node, m, severity, config)
                    continue
                early = self._early_warning(app, sql, node, m, config) if is_small_run(app) else None
                if early is not None:
                    yield early

    def _early_warning(self, app: Application, sql: SqlExecution, node: PlanNode, m: BroadcastMeasure,
                       config: Config) -> Finding | None:
        """A broadcast below the thresholds that would reach one at ``SCALE`` times the data, if Spark
        would still broadcast it then."""
        scaled = m.data_size_bytes * SCALE
        threshold = current_threshold(app, sql)
        if _grade(scaled, m.memory_bytes, config) is None or 0 <= threshold < scaled:
            return None  # small even at scale, or Spark would stop broadcasting it by then
        damped = [f"it broadcast {human_bytes(m.data_size_bytes)}, {m.memory_ratio:.1%} of a "
                  f"{human_bytes(m.memory_bytes)} heap (the lowest thresholds are "
                  f"{human_bytes(config.data_size.low)} and {config.memory_ratio.low:.0%})"]
        allowed = ("the broadcast threshold is disabled, so a hint or AQE chose it" if threshold < 0 else
                   f"spark.sql.autoBroadcastJoinThreshold ({human_bytes(threshold)}) still allows it")
        share = scaled / m.memory_bytes if m.memory_bytes else 0.0
        return early_warning(self._finding(app, sql, node, m, "low", config), None, damped, (
            f"At {SCALE}× the data the build side would be about {human_bytes(scaled)} ({share:.0%} of the "
            f"heap) and Spark would still broadcast it: {allowed}."))

    def _finding(self, app: Application, sql: SqlExecution, node: PlanNode, m: BroadcastMeasure,
                 severity: str, config: Config) -> Finding:
        current = current_threshold(app, sql)
        target = recommended_threshold(current, m.memory_bytes, config)
        side = build_side_name(sql, node)
        return Finding(
            rule_id=self.id, severity=severity,
            subject={**subject(app, sql=sql), "plan_node_id": node.node_id, "build_side": side},
            title=f"Query {sql.execution_id} broadcast {human_bytes(m.data_size_bytes)} "
                  f"({m.memory_ratio:.0%} of a {human_bytes(m.memory_bytes)} heap)",
            evidence={
                "data_size_bytes": m.data_size_bytes, "rows": m.rows, "memory_bytes": m.memory_bytes,
                "memory_ratio": round(m.memory_ratio, 3), "collect_ms": m.collect_ms,
                "driver_only_ms": m.driver_only_ms, "executors": m.executors,
                "auto_broadcast_threshold_bytes": current, "recommended_threshold_bytes": target,
            },
            recommendation=_recommendation(current, target, side, m),
            tradeoffs="A sort-merge join shuffles and sorts both sides: slower than a broadcast while the "
                      "build side fits comfortably. Keeping the broadcast instead needs driver and executor "
                      f"memory of several times {human_bytes(m.data_size_bytes)}, paid every executor-hour.",
            avoidable_core_hours=core_hours(m.avoidable_seconds * 1000),
            confidence="medium",  # the size is measured; its time models a 100 MiB/s fetch per executor
        )


def _grade(size: float, memory: int, config: LargeBroadcast.Config) -> str | None:
    """The graver of the size and the heap-share verdicts."""
    return higher_severity(config.data_size.severity(size),
                           config.memory_ratio.severity(size / memory if memory else 0.0))


def current_threshold(app: Application, sql: SqlExecution | None = None) -> int:
    """``spark.sql.autoBroadcastJoinThreshold`` in bytes for this query (-1: disabled; default 10 MiB).

    A value the session set at runtime (``SET``, ``spark.conf.set``; logged since Spark 3.4)
    wins over the launch value.
    """
    key = "spark.sql.autoBroadcastJoinThreshold"
    value = ((sql.modified_configs.get(key) if sql else None) or app.properties.get(key) or "").strip()
    if value.startswith("-"):
        return -1
    return parse_size(value) or DEFAULT_THRESHOLD_BYTES


def recommended_threshold(current: int, memory_bytes: int, config: LargeBroadcast.Config) -> int:
    """A threshold under this rule's lowest levels (size and memory share): whole MiB, at least 10 MiB."""
    cap = min(config.data_size.low, config.memory_ratio.low * memory_bytes)
    return int(max(DEFAULT_THRESHOLD_BYTES, min(current, cap)) // MiB * MiB)


def build_side_name(sql: SqlExecution, node: PlanNode) -> str | None:
    """The table scanned under the broadcast, for the hint; None when it is not a single table scan."""
    scans = {scan_key(n) for n in subtree(sql, node) if is_file_scan(n)}
    return scans.pop() if len(scans) == 1 else None


def _recommendation(current: int, target: int, side: str | None, m: BroadcastMeasure) -> str:
    """The threshold to set, or (when the threshold did not cause it) the hint to use."""
    what = f"{human_bytes(m.data_size_bytes)} of {side}" if side else human_bytes(m.data_size_bytes)
    hint = (f"`/*+ MERGE({side.rsplit('.', 1)[-1].rsplit('/', 1)[-1]}) */`" if side
            else '`/*+ MERGE(<build side alias>) */` (DataFrame: `.hint("merge")` on the build side)')
    if current > target:
        return (f"--conf spark.sql.autoBroadcastJoinThreshold={target // MiB}m (now {human_bytes(current)}): "
                f"this join broadcast {what}; with the lower threshold Spark uses a sort-merge join. "
                f"Or per query: {hint}.")
    setting = "disabled (-1)" if current < 0 else f"already {human_bytes(current)}"
    return (f"spark.sql.autoBroadcastJoinThreshold is {setting}, so a `BROADCAST` hint or AQE chose this "
            f"broadcast of {what}: replace the hint with {hint}, or set "
            f"--conf spark.sql.adaptive.autoBroadcastJoinThreshold={target // MiB}m.")
