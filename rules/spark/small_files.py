"""spark.small-files: scans or writes of many files averaging a few MiB or less."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, PlanNode, SqlExecution
from analyzer.core.units import KiB
from rules.damping import SCALE, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._plan import (
    BYTES_READ,
    DYNAMIC_PARTS,
    FILES_READ,
    PARTITIONS_READ,
    WRITTEN_BYTES,
    WRITTEN_FILES,
    human_bytes,
    is_file_scan,
    is_write,
    metric,
    scan_key,
    write_partition_columns,
    write_path,
)
from rules.spark._plan_grade import lower_severity
from rules.spark._plan_partitions import partition_columns
from rules.spark._plan_stages import scan_task_ms, write_task_ms
from rules.spark.common import MiB, core_hours, parse_size, subject

DEFAULT_OPEN_COST_BYTES = 4 * MiB  # spark.sql.files.openCostInBytes
DEFAULT_MAX_PARTITION_BYTES = 128 * MiB  # spark.sql.files.maxPartitionBytes
SMALL_PARTITION_BYTES = 3 * MiB  # below this even one file per partition is a small file (DataFlint)
EARLY_WARNING_MIN_FILES = 10  # fewer small files are not reported, not even as an early warning


@dataclass(frozen=True, slots=True)
class SmallFilesMeasure:
    """The numbers behind a small-files verdict for one write, or one table's scans in a query."""

    files: int
    total_bytes: int
    avg_file_bytes: float
    partitions: int
    target_files: int
    overhead_fraction: float
    task_ms: float
    avoidable_ms: float


def measure(node: PlanNode, task_ms: float, open_cost_bytes: int = DEFAULT_OPEN_COST_BYTES,
            target_file_bytes: int = DEFAULT_MAX_PARTITION_BYTES) -> SmallFilesMeasure | None:
    """Files and bytes of a scan or write, and the share of its task time spent opening extra files.

    None for nodes that are neither, and for scans without a byte count (Spark 2.x).
    """
    if is_write(node):
        counts = metric(node, WRITTEN_FILES), metric(node, WRITTEN_BYTES), metric(node, DYNAMIC_PARTS)
    elif is_file_scan(node):
        counts = metric(node, FILES_READ), metric(node, BYTES_READ), metric(node, PARTITIONS_READ)
    else:
        return None
    files, size, partitions = counts
    if not files or size is None:
        return None
    return count_measure(files, size, partitions or 0, task_ms, open_cost_bytes, target_file_bytes)


def count_measure(files: int, size: int, partitions: int, task_ms: float, open_cost: int,
                  target_file_bytes: int) -> SmallFilesMeasure:
    """Spark's open-cost model: each file beyond the target count costs ``open_cost`` bytes of reading.

    The target is one file per ``target_file_bytes``, and at least one per partition.
    """
    target = max(1, partitions, math.ceil(size / target_file_bytes))
    work = size + files * open_cost
    overhead = max(0, files - target) * open_cost / work if work else 0.0
    return SmallFilesMeasure(
        files=files, total_bytes=size, avg_file_bytes=size / files, partitions=partitions,
        target_files=target, overhead_fraction=overhead, task_ms=task_ms, avoidable_ms=task_ms * overhead,
    )


def merge(measures: list[SmallFilesMeasure], open_cost: int, target_file_bytes: int) -> SmallFilesMeasure:
    """The scans of one table in one query as one measure (files, bytes and time add up)."""
    task_ms = sum(m.task_ms for m in measures)
    one = count_measure(sum(m.files for m in measures), sum(m.total_bytes for m in measures),
                        max(m.partitions for m in measures), task_ms, open_cost, target_file_bytes)
    avoidable = sum(m.avoidable_ms for m in measures)
    return SmallFilesMeasure(
        files=one.files, total_bytes=one.total_bytes, avg_file_bytes=one.avg_file_bytes,
        partitions=one.partitions, target_files=one.target_files,
        overhead_fraction=avoidable / task_ms if task_ms else 0.0, task_ms=task_ms, avoidable_ms=avoidable,
    )


class SmallFiles(SparkRule["SmallFiles.Config"]):
    """A query read or wrote many files averaging a few MiB or less.

    ## Why it matters
    Every file costs a listing entry, an open, a footer read and often a task of its own,
    whatever its size. Thousands of kilobyte-sized files turn a scan into mostly overhead,
    load the metastore and object store (request costs, throttling), and slow every later
    reader of the table.

    ## Anti-pattern
    ``df.write.partitionBy("dt")`` after a wide stage (each of T tasks writes one file
    per partition value: T x P files); streaming or frequent micro-batch appends;
    ``spark.sql.shuffle.partitions=200`` on a small result written as 200 files.
    DataFlint's rule of thumb: average < 3 MiB over > 100 files.

    ## Fix
    Writes: ``.coalesce(N)`` or ``.repartition(N)`` before ``.write``, with N = written
    bytes / 128 MiB; for partitioned writes ``.repartition(N, <partition columns>)`` so
    each partition is written by one task. Reads: compact the table to N files of about
    128 MiB (Delta ``OPTIMIZE``); until then ``spark.sql.files.openCostInBytes`` near the
    file size lets each task pack more files (up to ``spark.sql.files.maxPartitionBytes``).

    ## Savings estimate
    Spark's own cost model says opening a file costs as much as reading
    ``spark.sql.files.openCostInBytes`` (4 MiB). Files beyond the target count
    N = max(partitions, bytes / 128 MiB) are overhead, so
    ``(files - N) x openCost / (bytes + files x openCost)`` of the task time of the stage
    that read (or wrote) them is avoidable.

    ## Known problems
    For writes the stage time also includes the computation upstream of the write, so
    the estimate is high when that is heavy; the larger cost of small written files is
    in every later read, which is not counted here. Spark 2.x scans report no bytes read
    and are skipped. Severity needs both a small average and many files. The saving is
    Spark's open-cost model (confidence medium). Damping: small files fewer than the lowest
    ``files`` threshold, but at least 10 and 4× the target count N, are an ``info`` early
    warning (the largest one per application) saying what 100× as many such files would
    cost; it claims no saving.
    """

    id = "spark.small-files"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.small-files."""

        avg_file_bytes: Thresholds = option(
            Thresholds(low=3 * MiB, medium=1 * MiB, high=256 * KiB, critical=64 * KiB, ascending=False),
            "average bytes per file read or written (smaller is worse)")
        files: Thresholds = option(Thresholds(low=100, medium=1000, high=10_000, critical=100_000),
                                   "files read or written; the verdict is the milder of the two")
        target_file_bytes: int = option(DEFAULT_MAX_PARTITION_BYTES, "file size to aim for when computing N")

    def check(self, app: Application, config: SmallFiles.Config) -> Iterator[Finding]:
        """Grade every write, and the scans of each table in each query, on file count and size."""
        open_cost = _size_setting(app, "spark.sql.files.openCostInBytes", DEFAULT_OPEN_COST_BYTES)
        for sql in app.sql_executions:
            reads: dict[str, list[SmallFilesMeasure]] = {}
            task_ms = scan_task_ms(app, sql) if any(is_file_scan(n) for n in sql.nodes) else {}
            for node in sql.nodes:
                if is_write(node):
                    m = measure(node, write_task_ms(app, sql, node), open_cost, config.target_file_bytes)
                    if m is not None and (severity := _grade(m, config)):
                        finding = self._write_finding(app, sql, node, m, severity, config)
                        yield _damped(finding, m, config)
                elif is_file_scan(node):
                    m = measure(node, task_ms[node.node_id], open_cost, config.target_file_bytes)
                    if m is not None:
                        reads.setdefault(scan_key(node), []).append(m)
            for table, measures in reads.items():
                m = merge(measures, open_cost, config.target_file_bytes)
                if severity := _grade(m, config):
                    finding = self._read_finding(app, sql, table, m, open_cost, severity, config)
                    yield _damped(finding, m, config)

    def _read_finding(self, app: Application, sql: SqlExecution, table: str, m: SmallFilesMeasure,
                      open_cost: int, severity: str, config: Config) -> Finding:
        scans = [n for n in sql.nodes if is_file_scan(n) and scan_key(n) == table]
        max_bytes = _size_setting(app, "spark.sql.files.maxPartitionBytes", DEFAULT_MAX_PARTITION_BYTES)
        return Finding(
            rule_id=self.id, severity=severity,
            subject={**subject(app, sql=sql), "table": table, "operation": "read"},
            title=f"Query {sql.execution_id} read {m.files:,} files of {table} "
                  f"averaging {human_bytes(m.avg_file_bytes)}",
            evidence=_evidence(m) | {"open_cost_bytes": open_cost},
            recommendation=_read_recommendation(table, partition_columns(app, table, scans), m, open_cost,
                                                max_bytes, config.target_file_bytes),
            tradeoffs="Compaction rewrites the table once (readers must see an atomic swap: a table format "
                      "or a new path); a lower openCostInBytes makes fewer, longer read tasks.",
            avoidable_core_hours=core_hours(m.avoidable_ms),
            confidence="medium",  # the time is Spark's open-cost model, not measured per file
        )

    def _write_finding(self, app: Application, sql: SqlExecution, node: PlanNode, m: SmallFilesMeasure,
                       severity: str, config: Config) -> Finding:
        path = write_path(node) or "the output"
        return Finding(
            rule_id=self.id, severity=severity,
            subject={**subject(app, sql=sql), "table": path, "operation": "write",
                     "plan_node_id": node.node_id},
            title=f"Query {sql.execution_id} wrote {m.files:,} files "
                  f"averaging {human_bytes(m.avg_file_bytes)}",
            evidence=_evidence(m),
            recommendation=_write_recommendation(write_partition_columns(node), m, config.target_file_bytes),
            tradeoffs="coalesce(N) also runs the stage that feeds the write with N tasks (slow if it is "
                      "heavy); repartition(N) keeps it parallel but adds a shuffle of the written data.",
            avoidable_core_hours=core_hours(m.avoidable_ms),
            confidence="medium",  # the time is Spark's open-cost model, not measured per file
        )


def _size_setting(app: Application, key: str, default: int) -> int:
    """A byte-size Spark setting from the log's properties (bytes when no unit), or Spark's default."""
    return parse_size(app.properties.get(key)) or default


def _grade(m: SmallFilesMeasure, config: SmallFiles.Config) -> str | None:
    """Both small on average and many: the milder of the two verdicts; ``info`` (an early warning) when
    the files are small but fewer than the lowest ``files`` threshold, and more than the target."""
    small = config.avg_file_bytes.severity(m.avg_file_bytes)
    few = config.files.severity(m.files) is None
    if small is not None and few and m.files >= max(EARLY_WARNING_MIN_FILES, 4 * m.target_files):
        return "info"
    return lower_severity(small, config.files.severity(m.files))


def _damped(finding: Finding, m: SmallFilesMeasure, config: SmallFiles.Config) -> Finding:
    """An ``info`` grade becomes an early warning: few files, but small ones, and more than needed."""
    if finding.severity != "info":
        return finding
    graded = config.avg_file_bytes.severity(m.avg_file_bytes)
    damped = [f"{m.files:,} files (the lowest threshold is {config.files.low:,.0f})"]
    cost = (f"cost about {scaled_duration(m.avoidable_ms * SCALE / 1000)} of task time per run"
            if m.task_ms > 0 else "cost that many more file opens (the stage's task time is unknown)")
    at_scale = (f"{m.files:,} files where {m.target_files:,} would do. The cost is per file, not per byte: "
                f"{SCALE}× as many files of this size (more partitions, more appends) would {cost}, and "
                f"slow every later reader.")
    return early_warning(finding, graded, damped, at_scale)


def _evidence(m: SmallFilesMeasure) -> dict[str, object]:
    return {
        "files": m.files, "total_bytes": m.total_bytes, "avg_file_bytes": round(m.avg_file_bytes),
        "partitions": m.partitions, "target_files": m.target_files, "task_ms": round(m.task_ms),
        "overhead_fraction": round(m.overhead_fraction, 3),
    }


def _read_recommendation(table: str, columns: list[str], m: SmallFilesMeasure, open_cost: int,
                         max_bytes: int, target: int) -> str:
    """Compaction to N files, and the read-side setting that packs more files per task meanwhile."""
    by = "".join(f', "{c}"' for c in columns)
    cost = max(64 * KiB, math.ceil(m.avg_file_bytes / KiB) * KiB)
    now, then = max_bytes // (m.avg_file_bytes + open_cost), max_bytes // (m.avg_file_bytes + cost)
    return (f"Compact {table} from {m.files:,} files to {m.target_files:,} (N = max(partitions, "
            f"{human_bytes(m.total_bytes)} / {human_bytes(target)})): rewrite it with "
            f"`.repartition({m.target_files}{by})` (Delta: `OPTIMIZE`). Until then "
            f"`--conf spark.sql.files.openCostInBytes={cost}` packs up to {then:,.0f} of these files into a "
            f"task instead of {now:,.0f}.{_coarser_hint(m)}")


def _write_recommendation(columns: list[str], m: SmallFilesMeasure, target: int) -> str:
    """``coalesce``/``repartition`` to N files (one task per partition for partitioned writes)."""
    n = m.target_files
    if not m.partitions:
        return (f"Write {n} file(s) instead of {m.files:,}: `.coalesce({n})` before `.write` "
                f"(or `.repartition({n})`), N = {human_bytes(m.total_bytes)} / {human_bytes(target)}.")
    cols = ", ".join(f'"{c}"' for c in columns) or "<partition columns>"
    return (f"`.repartition({n}, {cols})` before `.write.partitionBy({cols})`: each of the {m.partitions} "
            f"partitions is then written by one task, {n} files instead of {m.files:,}.{_coarser_hint(m)}")


def _coarser_hint(m: SmallFilesMeasure) -> str:
    """When even one file per partition is small, the partitioning itself is too fine."""
    if not m.partitions or m.total_bytes / m.partitions >= SMALL_PARTITION_BYTES:
        return ""
    return (f" Each of the {m.partitions} partitions holds only {human_bytes(m.total_bytes / m.partitions)}: "
            "partition by a coarser column (or not at all) to get files near 128 MiB.")
