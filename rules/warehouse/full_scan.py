"""warehouse.full-scan: queries that read (nearly) every partition of a large table."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.model import QueryRecord, TableStorage, WarehouseHistory
from analyzer.report import Finding
from analyzer.sql_text import filter_columns, tables_in
from rules.engine import Rule, Thresholds, option, register
from rules.warehouse.common import (
    GiB,
    add_usage,
    find_table,
    paid_evidence,
    pool_key,
    pool_subject,
    query_usage,
    snippet,
)


@dataclass(frozen=True, slots=True)
class ScanMeasure:
    """How much of its table one query read, and how much a pruned query would skip."""

    table: str
    scan_fraction: float
    scanned_bytes: int
    table_bytes: int | None
    avoidable_fraction: float
    partitioned: bool | None = None


def measure(q: QueryRecord, table: TableStorage | None, pruned_fraction: float) -> ScanMeasure | None:
    """Snowflake: partitions scanned / total; BigQuery: bytes billed / bytes of the largest table read.

    ``avoidable_fraction = 1 − pruned_fraction / scan_fraction``: the share of the scan a query
    that pruned down to ``pruned_fraction`` of the table would not read.
    """
    if q.vendor == "snowflake":
        if not q.partitions_total or q.partitions_scanned is None:
            return None
        fraction = q.partitions_scanned / q.partitions_total
        name = table.table if table else (q.referenced_tables or tuple(tables_in(q.query_text)) or ("?",))[0]
        scanned = q.bytes_scanned
    else:
        if table is None or table.total_logical_bytes <= 0:
            return None
        scanned = q.bytes_billed if q.bytes_billed is not None else q.bytes_scanned
        fraction, name = min(1.0, scanned / table.total_logical_bytes), table.table
    avoidable = max(0.0, 1 - pruned_fraction / fraction) if fraction > 0 else 0.0
    return ScanMeasure(table=name, scan_fraction=fraction, scanned_bytes=scanned,
                       table_bytes=table.total_logical_bytes if table else None, avoidable_fraction=avoidable,
                       partitioned=table.partitioned if table else None)


def scanned_table(history: WarehouseHistory, q: QueryRecord) -> TableStorage | None:
    """The largest table with known size the query reads."""
    names = list(q.referenced_tables) or tables_in(q.query_text)
    known = [t for t in (find_table(history, n) for n in names) if t is not None]
    return max(known, key=lambda t: t.total_logical_bytes, default=None)


def _may_qualify(q: QueryRecord, config: FullScan.Config) -> bool:
    if not q.partitions_total or q.partitions_scanned is None or q.bytes_scanned < config.min_scanned_bytes:
        return False
    return config.scan_fraction.severity(q.partitions_scanned / q.partitions_total) is not None


@register
class FullScan(Rule):
    """Queries read (nearly) every micro-partition or partition of a large table.

    ## Why it matters
    Snowflake prunes micro-partitions by their min/max column values and BigQuery prunes
    partitions by the partition column; a query whose filter cannot prune reads the whole
    table every time. Snowflake bills the warehouse time the scan takes; BigQuery on-demand
    bills every byte read.

    ## Anti-pattern
    ``SELECT … FROM orders WHERE customer_id = ?`` on a table clustered (or naturally
    ordered) by load date; a BigQuery query on a date-partitioned table with no filter on
    the partition column, or with the column wrapped in a function that defeats pruning;
    a large BigQuery table without partitions read whole every time.

    ## Fix
    Snowflake: cluster the table by the column the queries filter on
    (``ALTER TABLE sales.orders CLUSTER BY (customer_id);``). BigQuery: filter on the
    partition column and make the table refuse unfiltered queries
    (``ALTER TABLE `p.d.t` SET OPTIONS (require_partition_filter = TRUE);``), and cluster by
    the filter column; partition a table that has no partitions
    (``CREATE TABLE `p.d.t_p` PARTITION BY DATE(ts) CLUSTER BY col AS SELECT * FROM `p.d.t`;``).
    The recommendation names the table and the column the queries use.

    ## Savings estimate
    A well-pruned query is assumed to read ``pruned_fraction`` of the table (10 % by
    default); the rest of each scan is avoidable: the query's attributed credits (Snowflake),
    TiB billed (BigQuery on demand) or slot-hours (reservations) times
    ``1 − pruned_fraction / scan_fraction``.

    ## Known problems
    Snowflake reports partitions over all tables of a query together, so a join of a small
    pruned table with a large unpruned one is attributed to the first table named. BigQuery
    bytes billed count only the columns read, so a narrow full scan looks like a partial one;
    the partition column is not in the history, so the DDL leaves it as a placeholder.
    Reclustering costs credits: it pays only for tables queried often. Queries below
    ``min_scanned_bytes`` and CREATE statements are ignored.
    """

    id = "warehouse.full-scan"
    applies_to = "warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.full-scan."""

        scan_fraction: Thresholds = option(
            Thresholds(low=0.8, medium=0.9, high=0.95, critical=0.99),
            "partitions scanned / total (Snowflake); bytes billed / bytes of the largest table read "
            "(BigQuery); median over the queries")
        min_scanned_bytes: int = option(10 * GiB, "damping: ignore queries that read less (bytes)")
        pruned_fraction: float = option(0.1, "share of a table a well-pruned query is assumed to read")

    def check(self, history: WarehouseHistory, config: Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, table) whose queries scan it nearly whole."""
        groups: dict[tuple[str, str], list[tuple[QueryRecord, ScanMeasure]]] = defaultdict(list)
        for q in history.queries:
            if (q.statement_type or "").upper().startswith("CREATE") or q.cache_hit:
                continue
            if q.vendor == "snowflake" and not _may_qualify(q, config):
                continue  # cheap pre-check before resolving table names from the text
            m = measure(q, scanned_table(history, q), config.pruned_fraction)
            big = m is not None and m.scanned_bytes >= config.min_scanned_bytes
            if m and big and config.scan_fraction.severity(m.scan_fraction):
                groups[(pool_key(q), m.table)].append((q, m))
        for (_, table), items in sorted(groups.items()):
            fraction = statistics.median(m.scan_fraction for _, m in items)
            severity = config.scan_fraction.severity(fraction)
            if severity:
                yield self._finding(history, table, items, fraction, severity)

    def _finding(self, history: WarehouseHistory, table: str, items: list[tuple[QueryRecord, ScanMeasure]],
                 fraction: float, severity: str) -> Finding:
        q0, m0 = items[0]
        columns = Counter(c for q, _ in items for c in filter_columns(q.query_text)[:1])
        column = columns.most_common(1)[0][0] if columns else None
        paid = add_usage(query_usage(history, q) for q, _ in items)
        saved = add_usage(add_usage([query_usage(history, q)], m.avoidable_fraction) for q, m in items)
        evidence: dict[str, object] = {
            "queries": len(items), "scan_fraction_median": round(fraction, 4),
            "scanned_bytes_total": sum(m.scanned_bytes for _, m in items), "table_bytes": m0.table_bytes,
            "avoidable_fraction": round(statistics.mean(m.avoidable_fraction for _, m in items), 4),
            "filter_column": column, "example_sql": snippet(q0), "example_query_id": q0.query_id,
            **paid_evidence(paid),
        }
        if q0.vendor == "snowflake":
            evidence.update(partitions_scanned=q0.partitions_scanned, partitions_total=q0.partitions_total)
        recommendation, tradeoffs = (_snowflake_advice(table, column) if q0.vendor == "snowflake"
                                     else _bigquery_advice(table, column, m0.partitioned))
        queries = "1 query" if len(items) == 1 else f"{len(items)} queries"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "table": table},
            title=f"{queries} read {fraction:.1%} of {table}", evidence=evidence,
            recommendation=recommendation, tradeoffs=tradeoffs, avoidable_usage=saved,
        )


def _snowflake_advice(table: str, column: str | None) -> tuple[str, str]:
    """Cluster by the filter column (or add a filter first), with the DDL."""
    if column:
        return (f"ALTER TABLE {table} CLUSTER BY ({column});  -- the queries filter on {column} "
                f"but cannot prune on it",
                "Automatic clustering bills credits to recluster as data changes; worth it for a "
                "table queried many times a week, not for one read rarely.")
    return (f"Add a selective WHERE clause to the queries on {table} (e.g. on a date column), then "
            f"ALTER TABLE {table} CLUSTER BY (<that column>);",
            "A filter changes the result: only for consumers that do not need the whole table.")


def _bigquery_advice(table: str, column: str | None, partitioned: bool | None) -> tuple[str, str]:
    """Enforce a partition filter on a partitioned table; partition one that is not."""
    cluster = f" CLUSTER BY {column}" if column else ""
    rebuild = (f"CREATE TABLE `{table}_p` PARTITION BY DATE(<timestamp column>){cluster} "
               f"AS SELECT * FROM `{table}`;")
    enforce = f"ALTER TABLE `{table}` SET OPTIONS (require_partition_filter = TRUE);"
    if partitioned is False:
        advice = f"Partition `{table}` by the date the queries should filter on: {rebuild}"
    else:
        advice = f"Filter on the partition column of `{table}` and enforce it: {enforce}"
        if column:
            advice += (f"  The queries filter on {column}: also cluster by it "
                       f"(bq update --clustering_fields={column}).")
        if partitioned is None:
            advice += f"  If the table is not partitioned: {rebuild}"
    return advice, ("require_partition_filter makes every query without a partition filter fail, including "
                    "existing dashboards and jobs: fix them first. Rebuilding a table costs one full scan "
                    "and breaks references to it until renamed.")
