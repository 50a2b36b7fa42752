"""warehouse.full-scan: queries that read (nearly) every partition of a large table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyzer.core.findings import Finding
from analyzer.core.query_table import per_category
from analyzer.core.sql_text import filter_columns, tables_in
from analyzer.core.units import GiB
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import QueryRecord, TableStorage, WarehouseHistory
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import (
    exact_mean,
    find_table,
    grouped,
    paid_evidence,
    pool_subject,
    reaches,
    records,
    rows_usage,
    snippet,
    statement_starts,
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
    if vendor(q.vendor).pruning == "partitions":
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


def _first(names: Sequence[str]) -> str | None:
    return names[0] if names else None


def _filter_column(history: WarehouseHistory, rows: np.ndarray) -> str | None:
    """The column the queries at ``rows`` filter on most: each query's first filter column, counted;
    ties go to the one seen first."""
    texts = history.queries.frame["query_text"].iloc[rows]
    codes = texts.cat.codes.to_numpy()
    distinct, first, counts = np.unique(codes, return_index=True, return_counts=True)
    categories = texts.cat.categories
    columns: Counter[str] = Counter()
    for k in np.argsort(first, kind="stable"):
        code = distinct[k]
        column = _first(filter_columns(categories[code])) if code >= 0 else None
        if column is not None:
            columns[column] += int(counts[k])
    return columns.most_common(1)[0][0] if columns else None


@dataclass(frozen=True, slots=True)
class _Scans:
    """The qualifying scans of a history: their row positions and measures, row-aligned."""

    rows: np.ndarray
    table_code: np.ndarray  # the table each scan is grouped by: index into ``table_names``
    table_names: np.ndarray
    storage: np.ndarray  # the largest known table read: index into ``tables``, -1 when none is known
    tables: list[TableStorage]
    fraction: np.ndarray
    scanned: np.ndarray  # int64
    avoidable: np.ndarray


def _largest_tables(history: WarehouseHistory, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                          list[TableStorage]]:
    """What each row reads, resolved once per distinct (referenced_tables, query_text) of the rows.

    Returns the combination of each row, then per combination the largest table of known size
    it reads (index into the returned tables, -1 when none) and the first table it names
    (``referenced_tables``, else the tables in the text; '?' when none).
    """
    frame = history.queries.frame
    refs = frame["referenced_tables"].to_numpy()[rows]
    texts = frame["query_text"].iloc[rows].cat.remove_unused_categories()
    text_tables = per_category(texts, tables_in, [])
    ref_codes, _ = pd.factorize(refs)
    text_codes = texts.cat.codes.to_numpy().astype(np.int64) + 1
    combo, _ = pd.factorize(ref_codes.astype(np.int64) * (len(texts.cat.categories) + 1) + text_codes)
    first = np.flatnonzero(np.diff(np.maximum.accumulate(combo), prepend=-1) > 0)  # codes ascend at first use
    found: dict[str, TableStorage | None] = {}
    tables: list[TableStorage] = []
    best = np.full(len(first), -1, dtype=np.int64)
    named = np.empty(len(first), dtype=object)
    for k, i in enumerate(first):
        names = list(refs[i]) or text_tables[i]
        for name in names:
            if name not in found:
                found[name] = find_table(history, name)
        known = [t for t in (found[n] for n in names) if t is not None]
        largest = max(known, key=lambda t: t.total_logical_bytes, default=None)
        if largest is not None:
            at = next((j for j, t in enumerate(tables) if t is largest), len(tables))
            if at == len(tables):
                tables.append(largest)
            best[k] = at
        named[k] = _first(names) or "?"
    return combo.astype(np.int64), best, named, tables


def scans(history: WarehouseHistory, config: FullScan.Config) -> _Scans:
    """``measure`` of every query that is a full scan (not CREATE, not a cache hit, large enough)."""
    table = history.queries
    frame = table.frame
    keep = ~statement_starts(history, "CREATE") & ~table.numbers("cache_hit")
    snowflake = per_category(frame["vendor"], lambda v: v == "snowflake", False, bool)
    scanned_bytes = table.numbers("bytes_scanned")
    # Snowflake: partitions scanned / total, decided before resolving table names from the text.
    total, part = table.numbers("partitions_total"), table.numbers("partitions_scanned")
    with np.errstate(divide="ignore", invalid="ignore"):
        sf_fraction = part / total
    sf_ok = ((total != 0) & ~np.isnan(total) & ~np.isnan(part) & (scanned_bytes >= config.min_scanned_bytes)
             & reaches(config.scan_fraction, sf_fraction))
    # BigQuery: bytes billed (else scanned) / bytes of the largest known table read.
    billed = table.numbers("bytes_billed")
    bq_scanned = np.where(np.isnan(billed), scanned_bytes, billed)
    rows = np.flatnonzero(keep & np.where(snowflake, sf_ok, bq_scanned >= config.min_scanned_bytes))
    combo, best, named, tables = _largest_tables(history, rows)
    storage = best[combo]
    sizes = np.array([t.total_logical_bytes for t in tables] + [0], dtype=np.float64)[storage]
    snow = snowflake[rows]
    scanned = np.where(snow, scanned_bytes[rows], bq_scanned[rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(snow, sf_fraction[rows], np.minimum(1.0, scanned / sizes))
    ok = ((snow | ((storage >= 0) & (sizes > 0))) & (scanned >= config.min_scanned_bytes)
          & reaches(config.scan_fraction, fraction))
    with np.errstate(divide="ignore"):
        avoidable = np.where(fraction > 0, np.maximum(0.0, 1 - config.pruned_fraction / fraction), 0.0)
    # The finding's table: the largest known one, else the first named.
    combo_table = [tables[b].table if b >= 0 else n for b, n in zip(best, named, strict=True)]
    combo_code, table_names = pd.factorize(np.array(combo_table, dtype=object))
    return _Scans(rows=rows[ok], table_code=combo_code.astype(np.int64)[combo[ok]],
                  table_names=np.asarray(table_names, dtype=object), storage=storage[ok], tables=tables,
                  fraction=fraction[ok], scanned=scanned[ok].astype(np.int64), avoidable=avoidable[ok])


class FullScan(WarehouseRule["FullScan.Config"]):
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
    The recommendation names the table and the column the queries filter on, and, when the
    table's layout is known (INFORMATION_SCHEMA.COLUMNS, or an export's ``partition_column`` /
    ``clustering_columns``), its partition column and existing clustering; when the queries
    already filter on the partition column, it says the filter's form defeats pruning.

    ## Savings estimate
    A well-pruned query is assumed to read ``pruned_fraction`` of the table (10 % by
    default); the rest of each scan is avoidable: the query's attributed credits (Snowflake),
    TiB billed (BigQuery on demand) or slot-hours (reservations) times
    ``1 − pruned_fraction / scan_fraction``.

    ## Known problems
    Snowflake reports partitions over all tables of a query together, so a join of a small
    pruned table with a large unpruned one is attributed to the first table named. BigQuery
    bytes billed count only the columns read, so a narrow full scan looks like a partial one.
    Which column to partition an unpartitioned table by is not in the history, so that DDL
    leaves it as a placeholder (``<timestamp column>``).
    Reclustering costs credits: it pays only for tables queried often. Queries below
    ``min_scanned_bytes`` and CREATE statements are ignored.
    """

    id = "warehouse.full-scan"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.full-scan."""

        scan_fraction: Thresholds = option(
            Thresholds(low=0.8, medium=0.9, high=0.95, critical=0.99),
            "partitions scanned / total (Snowflake); bytes billed / bytes of the largest table read "
            "(BigQuery); median over the queries")
        min_scanned_bytes: int = option(10 * GiB, "damping: ignore queries that read less (bytes)")
        pruned_fraction: float = option(0.1, "share of a table a well-pruned query is assumed to read")

    def check(self, history: WarehouseHistory, config: FullScan.Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, table) whose queries scan it nearly whole."""
        found = scans(history, config)
        for (_, table), at in grouped(history, found.rows, found.table_code, found.table_names):
            fraction = float(np.median(found.fraction[at]))
            severity = config.scan_fraction.severity(fraction)
            if severity:
                yield self._finding(history, table, found, at, fraction, severity)

    def _finding(self, history: WarehouseHistory, table: str, found: _Scans, at: np.ndarray,
                 fraction: float, severity: str) -> Finding:
        rows = found.rows[at]
        q0 = records(history, rows[:1])[0]
        storage = found.tables[found.storage[at[0]]] if found.storage[at[0]] >= 0 else None
        column = _filter_column(history, rows)
        paid = rows_usage(history, rows)
        saved = rows_usage(history, rows, found.avoidable[at])
        evidence: dict[str, object] = {
            "queries": len(rows), "scan_fraction_median": round(fraction, 4),
            "scanned_bytes_total": int(found.scanned[at].sum()),
            "table_bytes": storage.total_logical_bytes if storage else None,
            "avoidable_fraction": round(exact_mean(found.avoidable[at]), 4),
            "filter_column": column, "example_sql": snippet(q0), "example_query_id": q0.query_id,
            **paid_evidence(paid),
        }
        if vendor(q0.vendor).pruning == "partitions":
            evidence.update(partitions_scanned=q0.partitions_scanned, partitions_total=q0.partitions_total)
        recommendation, tradeoffs = _ADVICE[q0.vendor](table, column, storage)
        queries = "1 query" if len(rows) == 1 else f"{len(rows)} queries"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "table": table},
            title=f"{queries} read {fraction:.1%} of {table}", evidence=evidence,
            recommendation=recommendation, tradeoffs=tradeoffs, avoidable_usage=saved,
            confidence="medium",  # the scan is measured; the saving assumes pruned_fraction
        )


def _snowflake_advice(table: str, column: str | None, _storage: TableStorage | None) -> tuple[str, str]:
    """Cluster by the filter column (or add a filter first), with the DDL."""
    if column:
        return (f"ALTER TABLE {table} CLUSTER BY ({column});  -- the queries filter on {column} "
                f"but cannot prune on it",
                "Automatic clustering bills credits to recluster as data changes; worth it for a "
                "table queried many times a week, not for one read rarely.")
    return (f"Add a selective WHERE clause to the queries on {table} (e.g. on a date column), then "
            f"ALTER TABLE {table} CLUSTER BY (<that column>);",
            "A filter changes the result: only for consumers that do not need the whole table.")


def _bq_table(table: str) -> str:
    """A table as the bq command line names it: project:dataset.table."""
    parts = table.split(".")
    return f"{parts[0]}:{'.'.join(parts[1:])}" if len(parts) == 3 else table


def _bigquery_advice(table: str, column: str | None, storage: TableStorage | None) -> tuple[str, str]:
    """Enforce a partition filter on a partitioned table; partition one that is not.

    The partition and clustering columns are named when the table's layout is known
    (INFORMATION_SCHEMA.COLUMNS, or an export's ``partition_column`` / ``clustering_columns``).
    """
    partitioned = storage.partitioned if storage else None
    partition_column = storage.partition_column if storage else None
    clustering = storage.clustering_columns if storage else ()
    cluster = f" CLUSTER BY {column}" if column else ""
    rebuild = (f"CREATE TABLE `{table}_p` PARTITION BY DATE(<timestamp column>){cluster} "
               f"AS SELECT * FROM `{table}`;")
    enforce = f"ALTER TABLE `{table}` SET OPTIONS (require_partition_filter = TRUE);"
    if partitioned is False:
        advice = f"Partition `{table}` by the date the queries should filter on: {rebuild}"
    else:
        where = f"partition column {partition_column}" if partition_column else "partition column"
        advice = f"Filter on the {where} of `{table}` and enforce it: {enforce}"
        if column and column == partition_column:
            advice += (f"  The queries do filter on {column}, but in a form that cannot prune (a function "
                       f"or a cast of it, or a non-constant bound): compare the bare column with constants.")
        elif column and column not in clustering:
            fields = ",".join((*clustering, column)[-4:])  # BigQuery clusters by at most 4 columns
            advice += (f"  The queries filter on {column}: also cluster by it "
                       f"(bq update --clustering_fields={fields} {_bq_table(table)}).")
        if partitioned is None:
            advice += f"  If the table is not partitioned: {rebuild}"
    return advice, ("require_partition_filter makes every query without a partition filter fail, including "
                    "existing dashboards and jobs: fix them first. Rebuilding a table costs one full scan "
                    "and breaks references to it until renamed.")


# The vendor's own DDL for pruning (clustering keys; partitioning and clustering), by vendor name.
_ADVICE = {"snowflake": _snowflake_advice, "bigquery": _bigquery_advice}
