"""warehouse.select-star: ``SELECT *`` over wide, large tables in a columnar warehouse."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.model import QueryRecord, TableStorage, WarehouseHistory
from analyzer.report import Finding
from analyzer.sql_text import star_tables
from rules.engine import Rule, Thresholds, option, register
from rules.warehouse.common import (
    GiB,
    add_usage,
    find_table,
    is_paid,
    is_read,
    paid_evidence,
    pool_key,
    pool_subject,
    query_usage,
    snippet,
)


@dataclass(frozen=True, slots=True)
class StarMeasure:
    """One ``SELECT *`` query over one table: its width and the share of the read that is avoidable."""

    table: str
    column_count: int | None
    scanned_bytes: int
    avoidable_fraction: float


def measure(q: QueryRecord, table_name: str, table: TableStorage | None, needed_columns: int) -> StarMeasure:
    """``avoidable_fraction = 1 − needed_columns / column_count`` (0 when the width is unknown).

    Both warehouses store columns separately and read only the columns a query names, so with
    columns of equal width a query naming ``needed_columns`` of N reads ``needed/N`` of the bytes.
    """
    width = table.column_count if table else None
    scanned = q.bytes_billed if q.vendor != "snowflake" and q.bytes_billed is not None else q.bytes_scanned
    avoidable = max(0.0, 1 - needed_columns / width) if width else 0.0
    return StarMeasure(table=table.table if table else table_name, column_count=width, scanned_bytes=scanned,
                       avoidable_fraction=avoidable)


@register
class SelectStar(Rule):
    """Queries read every column of a wide, large table with ``SELECT *``.

    ## Why it matters
    BigQuery and Snowflake store each column separately and read only the columns a query
    names. ``SELECT *`` reads them all: BigQuery on demand bills every byte of every column,
    and ``LIMIT`` does not reduce the bytes billed; Snowflake spends warehouse time reading
    and shipping columns nobody uses.

    ## Anti-pattern
    ``SELECT * FROM events LIMIT 100`` to look at data; ``SELECT *`` in a view or a
    dashboard query that then uses five of 120 columns; ``SELECT t.*`` in a join.

    ## Fix
    List the columns the consumer uses. To look at data, use the table preview (free in
    BigQuery) or ``bq head``; to drop a few wide columns, ``SELECT * EXCEPT (…)`` (BigQuery)
    or ``SELECT * EXCLUDE (…)`` (Snowflake). ``COUNT(*)``, ``EXISTS (SELECT * …)``, a star
    over a subquery or CTE, and ``INSERT … SELECT *`` (copying whole rows) are not flagged.

    ## Savings estimate
    Which columns the consumer really needs is unknown. The estimate assumes it needs
    ``assumed_needed_columns`` (10) of the table's N columns and that columns are equally
    wide: ``1 − 10 / N`` of each query's credits, TiB billed or slot-hours is avoidable.
    Tables whose width is unknown get no estimate and at most a low severity.

    ## Known problems
    Text matching, not parsing: a star inside a string or an unusual dialect construct can be
    missed or miscounted. Wide string or JSON columns make the equal-width assumption
    optimistic or pessimistic. Queries that read less than ``min_scanned_bytes`` are ignored.
    """

    id = "warehouse.select-star"
    applies_to = "warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.select-star."""

        avoidable_fraction: Thresholds = option(Thresholds(low=0.5, medium=0.7, high=0.85, critical=0.95),
                                                "1 − assumed_needed_columns / columns of the table")
        assumed_needed_columns: int = option(10, "columns a consumer is assumed to really use")
        min_scanned_bytes: int = option(1 * GiB, "damping: ignore queries that read less (bytes)")

    def check(self, history: WarehouseHistory, config: Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, table) read with ``SELECT *``."""
        groups: dict[tuple[str, str], list[tuple[QueryRecord, StarMeasure]]] = defaultdict(list)
        for q in history.queries:
            if "*" not in q.query_text or not is_read(q) or not is_paid(history, q):
                continue
            for name in star_tables(q.query_text):
                m = measure(q, name, find_table(history, name), config.assumed_needed_columns)
                if m.scanned_bytes >= config.min_scanned_bytes:
                    groups[(pool_key(q), m.table)].append((q, m))
        for (_, table), items in sorted(groups.items()):
            m0 = items[0][1]
            severity = config.avoidable_fraction.severity(m0.avoidable_fraction) if m0.column_count else "low"
            if severity:
                yield self._finding(history, table, items, severity, config)

    def _finding(self, history: WarehouseHistory, table: str, items: list[tuple[QueryRecord, StarMeasure]],
                 severity: str, config: Config) -> Finding:
        q0, m0 = items[0]
        paid = add_usage(query_usage(history, q) for q, _ in items)
        width = m0.column_count
        quote = "`" if q0.vendor != "snowflake" else ""
        drop = "EXCEPT" if q0.vendor != "snowflake" else "EXCLUDE"
        recommendation = (
            f"Name the columns the consumer uses instead of SELECT *: SELECT col_a, col_b, … FROM "
            f"{quote}{table}{quote}" + (f" (the table has {width} columns)" if width else "") + "; "
            f"to drop a few wide columns use SELECT * {drop} (…)")
        if q0.vendor != "snowflake":
            recommendation += "; to look at rows use the table preview or bq head (free), not SELECT * LIMIT"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "table": table},
            title=f"{'1 SELECT * query' if len(items) == 1 else f'{len(items)} SELECT * queries'} read every "
                  f"column of {table}"
                  + (f" ({width} columns)" if width else ""),
            evidence={
                "queries": len(items), "column_count": width,
                "assumed_needed_columns": config.assumed_needed_columns,
                "scanned_bytes_total": sum(m.scanned_bytes for _, m in items),
                "avoidable_fraction": round(m0.avoidable_fraction, 4),
                "example_sql": snippet(q0), "example_query_id": q0.query_id,
                **paid_evidence(paid),
            },
            recommendation=recommendation + ".",
            tradeoffs="An explicit column list has to change when a consumer needs a new column; SELECT * "
                      "picked schema changes up silently (which is also how it broke consumers).",
            avoidable_usage=add_usage([paid], m0.avoidable_fraction),
        )

