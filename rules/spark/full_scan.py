"""spark.full-scan: a partitioned table read without any partition filter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, PlanNode, SqlExecution
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._plan import (
    BYTES_READ,
    FILES_READ,
    PARTITIONS_READ,
    filter_list,
    human_bytes,
    is_file_scan,
    location_values,
    metric,
    plan_field,
    pretty,
    prunes_nothing,
    scan_key,
)
from rules.spark._plan_partitions import example_filter, partition_columns
from rules.spark._plan_stages import scan_task_ms
from rules.spark.common import GiB, core_hours, subject


@dataclass(frozen=True, slots=True)
class FullScanMeasure:
    """The numbers behind a full-scan verdict for one scan (or the scans of one table in a query)."""

    bytes_read: int
    files_read: int
    partitions_read: int
    scans: int
    scan_task_ms: float
    avoidable_fraction: float
    avoidable_ms: float


def measure(node: PlanNode, task_ms: float, needed_partitions: int) -> FullScanMeasure:
    """What the scan read, and the share of its task time the unneeded partitions cost."""
    partitions = metric(node, PARTITIONS_READ) or 0
    fraction = 1 - min(partitions, needed_partitions) / partitions if partitions else 0.0
    return FullScanMeasure(
        bytes_read=metric(node, BYTES_READ) or 0, files_read=metric(node, FILES_READ) or 0,
        partitions_read=partitions, scans=1, scan_task_ms=task_ms,
        avoidable_fraction=fraction, avoidable_ms=task_ms * fraction,
    )


def merge(measures: list[FullScanMeasure]) -> FullScanMeasure:
    """The scans of one table in one query as one measure (bytes and time add, partitions do not)."""
    task_ms = sum(m.scan_task_ms for m in measures)
    avoidable_ms = sum(m.avoidable_ms for m in measures)
    return FullScanMeasure(
        bytes_read=sum(m.bytes_read for m in measures), files_read=sum(m.files_read for m in measures),
        partitions_read=max(m.partitions_read for m in measures), scans=sum(m.scans for m in measures),
        scan_task_ms=task_ms, avoidable_fraction=avoidable_ms / task_ms if task_ms else 0.0,
        avoidable_ms=avoidable_ms,
    )


def unpruned_filters(node: PlanNode) -> list[str] | None:
    """The scan's partition filters when it is partitioned and they prune nothing; else None.

    A ``Location`` that lists ``col=value`` directories was pruned already (by a filter, or by
    reading partition paths with ``basePath``), so it is never a full scan.
    """
    if not is_file_scan(node) or metric(node, PARTITIONS_READ) is None:
        return None  # Spark creates "number of partitions read" only for partitioned relations
    if location_values(node):
        return None
    filters = filter_list(plan_field(node, "PartitionFilters"))
    return filters if filters is not None and prunes_nothing(filters) else None


class FullScan(SparkRule["FullScan.Config"]):
    """A partitioned table was read in full because the query has no filter on its partition columns.

    ## Why it matters
    Partitioning exists so that a query reading one day of a table lists and reads one
    directory. Without a filter on the partition columns Spark lists and reads every
    partition: the scan costs as much as the whole table, and grows with it every day.

    ## Anti-pattern
    ``SELECT ... FROM sales WHERE amount > 990`` on a table partitioned by ``dt``; a filter
    on an expression Spark cannot push into partition pruning (``WHERE to_date(ts) = ...``
    instead of ``WHERE dt = ...``); a join to a date dimension when dynamic partition pruning
    does not apply. The plan shows ``PartitionFilters: []`` (or only ``isnotnull(dt)``,
    which a join infers and which keeps every partition).

    ## Fix
    Filter on the partition column itself with a literal or a simple expression
    (``WHERE dt = '2024-01-15'``, ``WHERE dt >= date_sub(current_date(), 7)``). The
    recommendation names the partition column(s) when the plan shows them: columns the
    scan outputs but does not read from files, columns in other scans' partition filters,
    ``col=value`` directories, or the partition columns of a write to the same table.

    ## Savings estimate
    The scan's task time is its stage's executor run time (shared by bytes with other
    scans in the same stage). A filtered query would read ``needed_partitions`` of the
    ``P`` partitions read, so ``1 - needed_partitions / P`` of that time is avoidable.

    ## Known problems
    The rule cannot know whether the query really needs every partition (a yearly report
    does); ``needed_partitions`` (default 1, a daily job) makes the saving an upper bound.
    Only file-source scans (parquet, orc, csv, json, Delta, Photon, RAPIDS) report
    partitions read; Hive-serde and DataSource V2 scans (Iceberg) are not checked. Spark
    2.x plans carry no ``number of partitions read`` metric, so they are never flagged.
    The saving rests on ``needed_partitions`` (confidence medium); the evidence gives the
    partitions read. Damping: an unpruned scan of at least two partitions that read less
    than the lowest ``bytes_read`` threshold, or fewer than ``min_partitions_read``
    partitions, is an ``info`` early warning (the largest one per application) saying what
    it reads at 100× the data; it claims no saving.
    """

    id = "spark.full-scan"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.full-scan."""

        bytes_read: Thresholds = option(
            Thresholds(low=1 * GiB, medium=10 * GiB, high=100 * GiB, critical=1024 * GiB),
            "bytes of files one query read from one unpruned partitioned table")
        min_partitions_read: int = option(10, "damping: scans of fewer partitions are early warnings (info)")
        needed_partitions: int = option(1, "partitions a filtered query would still read (savings estimate)")
        flag_isnotnull_only: bool = option(True, "treat PartitionFilters of only isnotnull(...) as no filter")

    def check(self, app: Application, config: FullScan.Config) -> Iterator[Finding]:
        """Grade, per query and table, the unpruned scans of partitioned tables on bytes read."""
        for sql in app.sql_executions:
            groups = self._unpruned_scans(app, sql, config)
            for table, items in groups.items():
                m = merge([m for _, m in items])
                if m.partitions_read < 2:
                    continue  # one partition: nothing to prune
                severity = config.bytes_read.severity(m.bytes_read)
                finding = self._finding(app, sql, table, [n for n, _ in items], m, severity or "low")
                damped = damped_by(
                    (severity is None, f"it read {human_bytes(m.bytes_read)} (the lowest threshold is "
                                       f"{human_bytes(config.bytes_read.low)})"),
                    (m.partitions_read < config.min_partitions_read,
                     f"{m.partitions_read} partitions (min_partitions_read {config.min_partitions_read})"))
                yield early_warning(finding, severity, damped, _at_scale(m)) if damped else finding

    @staticmethod
    def _unpruned_scans(app: Application, sql: SqlExecution,
                        config: Config) -> dict[str, list[tuple[PlanNode, FullScanMeasure]]]:
        """The measured unpruned scans of ``sql``, grouped by the table they read."""
        groups: dict[str, list[tuple[PlanNode, FullScanMeasure]]] = {}
        task_ms: dict[int, float] | None = None
        for node in sql.nodes:
            filters = unpruned_filters(node)
            if filters is None or (filters and not config.flag_isnotnull_only):
                continue
            task_ms = task_ms if task_ms is not None else scan_task_ms(app, sql)
            m = measure(node, task_ms[node.node_id], config.needed_partitions)
            groups.setdefault(scan_key(node), []).append((node, m))
        return groups

    def _finding(self, app: Application, sql: SqlExecution, table: str, nodes: list[PlanNode],
                 m: FullScanMeasure, severity: str) -> Finding:
        columns = partition_columns(app, table, nodes)
        filters = pretty(plan_field(nodes[0], "PartitionFilters") or "[]")
        return Finding(
            rule_id=self.id, severity=severity,
            subject={**subject(app, sql=sql), "table": table, "plan_node_ids": [n.node_id for n in nodes]},
            title=f"Query {sql.execution_id} read all {m.partitions_read} partitions of {table} "
                  f"({_amount(m)}): no partition filter",
            evidence={
                "bytes_read": m.bytes_read, "files_read": m.files_read, "partitions_read": m.partitions_read,
                "scans": m.scans, "partition_filters": filters, "partition_columns": columns,
                "scan_task_ms": round(m.scan_task_ms), "avoidable_fraction": round(m.avoidable_fraction, 3),
            },
            recommendation=_recommendation(app, table, columns, filters, m),
            tradeoffs="A partition filter changes the result to the chosen partitions: right for incremental "
                      "jobs, wrong for a report that needs all history (then pre-aggregate the table, or "
                      "suppress this finding for the app).",
            avoidable_core_hours=core_hours(m.avoidable_ms),
            confidence="medium",  # the saving assumes needed_partitions (default 1) are really needed
        )


def _at_scale(m: FullScanMeasure) -> str:
    """An unpruned scan grows with the table: what it reads at ``SCALE`` times the data."""
    return (f"The scan grows with the table: at {SCALE}× the data it would read "
            f"{human_bytes(m.bytes_read * SCALE)} per run, {m.avoidable_fraction:.0%} of it in partitions a "
            f"filtered query would skip (about {scaled_duration(m.avoidable_ms * SCALE / 1000)} of task "
            f"time).")


def _amount(m: FullScanMeasure) -> str:
    """``4.7 MiB`` or ``3.2 TiB in 8 scans``."""
    return human_bytes(m.bytes_read) + (f" in {m.scans} scans" if m.scans > 1 else "")


def _recommendation(app: Application, table: str, columns: list[str], filters: str,
                    m: FullScanMeasure) -> str:
    """The concrete filter to add, with the partition column(s) named when the plan shows them."""
    where = example_filter(app, table, columns)
    named = ", ".join(f"`{c}`" for c in columns) if columns else "its partition column(s)"
    text = (f"Filter {table} on {named} so Spark prunes partitions, e.g. `{where}`: this query listed and "
            f"read all {m.partitions_read} partitions ({m.files_read:,} files, {_amount(m)}).")
    if filters != "[]":
        text += (f" Its only partition filter, {filters}, keeps every partition: filter the join's dimension "
                 "side on a literal so dynamic partition pruning can apply, or filter the table directly.")
    return text
