"""warehouse.select-star: ``SELECT *`` over wide, large tables in a columnar warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyzer.core.findings import Finding
from analyzer.core.query_table import per_category
from analyzer.core.sql_text import star_tables
from analyzer.core.units import GiB
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import QueryRecord, TableStorage, WarehouseHistory
from rules.damping import early_warning
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import (
    add_usage,
    find_table,
    grouped,
    paid_evidence,
    paid_rows,
    pool_subject,
    reads,
    records,
    rows_usage,
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
    name, width, avoidable = measure_table(table_name, table, needed_columns)
    billed = q.bytes_billed if vendor(q.vendor).bills == "bytes" else None
    scanned = billed if billed is not None else q.bytes_scanned
    return StarMeasure(table=name, column_count=width, scanned_bytes=scanned, avoidable_fraction=avoidable)


def measure_table(name: str, table: TableStorage | None,
                  needed_columns: int) -> tuple[str, int | None, float]:
    """The part of ``measure`` that depends on the table only: its name, column count, avoidable fraction."""
    width = table.column_count if table else None
    avoidable = max(0.0, 1 - needed_columns / width) if width else 0.0
    return (table.table if table else name), width, avoidable


@dataclass(frozen=True, slots=True)
class _Stars:
    """Every (query, table it reads with ``SELECT *``) that qualifies, ordered by query, then by table
    in order of the text; a query reading two tables with ``SELECT *`` is two items."""

    rows: np.ndarray  # row position of each item's query
    table_code: np.ndarray  # the table the finding groups by: index into ``table_names``
    table_names: np.ndarray
    width: np.ndarray  # object: column_count of the table (None when unknown)
    avoidable: np.ndarray
    scanned: np.ndarray  # int64: bytes the query read


def stars(history: WarehouseHistory, config: SelectStar.Config) -> _Stars:
    """``measure`` of every paid plain read naming tables with ``SELECT *`` that read enough bytes."""
    table = history.queries
    frame = table.frame
    star = per_category(frame["query_text"], lambda t: "*" in t, False, bool)
    snowflake = per_category(frame["vendor"], lambda v: v == "snowflake", False, bool)
    billed = table.numbers("bytes_billed")
    scanned = np.where(snowflake | np.isnan(billed), table.numbers("bytes_scanned"), billed)
    rows = np.flatnonzero(star & (scanned >= config.min_scanned_bytes) & reads(history) & paid_rows(history))
    texts = frame["query_text"].iloc[rows].cat.remove_unused_categories()
    # The star tables of each distinct text, flattened: text k owns entries offset[k]:offset[k + 1].
    names_of = [star_tables(text) for text in texts.cat.categories]
    found: dict[str, TableStorage | None] = {}
    entries: list[tuple[str, int | None, float]] = []
    for names in names_of:
        for name in names:
            if name not in found:
                found[name] = find_table(history, name)
            entries.append(measure_table(name, found[name], config.assumed_needed_columns))
    sizes = np.array([len(names) for names in names_of], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    codes = texts.cat.codes.to_numpy().astype(np.int64)
    counts = sizes[codes]
    item_of = np.repeat(np.arange(len(rows)), counts)
    nth = np.arange(len(item_of)) - np.repeat(np.cumsum(counts) - counts, counts)
    entry = offset[codes[item_of]] + nth
    table_code, table_names = pd.factorize(np.array([e[0] for e in entries], dtype=object))
    widths = np.empty(len(entries), dtype=object)
    widths[:] = [e[1] for e in entries]
    avoidable = np.array([e[2] for e in entries], dtype=np.float64)
    item_rows = rows[item_of]
    return _Stars(rows=item_rows, table_code=table_code.astype(np.int64)[entry],
                  table_names=np.asarray(table_names, dtype=object), width=widths[entry],
                  avoidable=avoidable[entry], scanned=scanned[item_rows].astype(np.int64))


class SelectStar(WarehouseRule["SelectStar.Config"]):
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
    Tables whose width is unknown get no estimate: an ``info`` finding with confidence low that
    says the width is missing (one per query history). With the width known the estimate
    rests on the assumed column count (confidence medium).

    ## Known problems
    Text matching, not parsing: a star inside a string or an unusual dialect construct can be
    missed or miscounted. Wide string or JSON columns make the equal-width assumption
    optimistic or pessimistic. Queries that read less than ``min_scanned_bytes`` are ignored.
    """

    id = "warehouse.select-star"

    @dataclass(frozen=True)
    class Config:
        """Options of warehouse.select-star."""

        avoidable_fraction: Thresholds = option(Thresholds(low=0.5, medium=0.7, high=0.85, critical=0.95),
                                                "1 − assumed_needed_columns / columns of the table")
        assumed_needed_columns: int = option(10, "columns a consumer is assumed to really use")
        min_scanned_bytes: int = option(1 * GiB, "damping: ignore queries that read less (bytes)")

    def check(self, history: WarehouseHistory, config: SelectStar.Config) -> Iterator[Finding]:
        """One finding per (warehouse or project, table) read with ``SELECT *``."""
        found = stars(history, config)
        for (_, table), at in grouped(history, found.rows, found.table_code, found.table_names):
            width, avoidable = found.width[at[0]], float(found.avoidable[at[0]])
            if width:
                severity = config.avoidable_fraction.severity(avoidable)
                if severity:
                    yield self._finding(history, table, found, at, severity, config)
                continue
            # The width is unknown: nothing can be counted as avoidable, so at most an info finding.
            yield early_warning(
                self._finding(history, table, found, at, "low", config), None,
                ["the table's column count is not in the export (no table storage row with column_count), "
                 "so the columns read needlessly cannot be counted"],
                "Export the table's size and columns (TABLE_STORAGE, INFORMATION_SCHEMA.COLUMNS) to size it.",
                lead="Not measured")

    def _finding(self, history: WarehouseHistory, table: str, found: _Stars, at: np.ndarray,
                 severity: str, config: Config) -> Finding:
        rows = found.rows[at]
        q0 = records(history, rows[:1])[0]
        paid = rows_usage(history, rows)
        width, avoidable = found.width[at[0]], float(found.avoidable[at[0]])
        dialect = vendor(q0.vendor)
        quote, drop = dialect.identifier_quote, dialect.star_except
        recommendation = (
            f"Name the columns the consumer uses instead of SELECT *: SELECT col_a, col_b, … FROM "
            f"{quote}{table}{quote}" + (f" (the table has {width} columns)" if width else "") + "; "
            f"to drop a few wide columns use SELECT * {drop} (…)")
        if dialect.free_preview:
            recommendation += f"; to look at rows use {dialect.free_preview}, not SELECT * LIMIT"
        return Finding(
            rule_id=self.id, severity=severity, subject={**pool_subject(q0), "table": table},
            title=f"{'1 SELECT * query' if len(rows) == 1 else f'{len(rows)} SELECT * queries'} read every "
                  f"column of {table}"
                  + (f" ({width} columns)" if width else ""),
            evidence={
                "queries": len(rows), "column_count": width,
                "assumed_needed_columns": config.assumed_needed_columns,
                "scanned_bytes_total": int(found.scanned[at].sum()),
                "avoidable_fraction": round(avoidable, 4),
                "example_sql": snippet(q0), "example_query_id": q0.query_id,
                **paid_evidence(paid),
            },
            recommendation=recommendation + ".",
            tradeoffs="An explicit column list has to change when a consumer needs a new column; SELECT * "
                      "picked schema changes up silently (which is also how it broke consumers).",
            avoidable_usage=add_usage([paid], avoidable),
            # the saving assumes assumed_needed_columns; without the table's width nothing can be counted
            confidence="medium" if width else "low",
        )

