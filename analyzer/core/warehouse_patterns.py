"""Where a warehouse's money goes, by query: the costliest query patterns of a history.

A pattern is every run of one query that differs only in its literals (the vendor's
parameterized hash, else a hash of the normalized text: ``warehouse_usage.fingerprint_codes``).
Ranking patterns by what all their runs cost together shows the dashboard refreshed every
five minutes next to the one heavy nightly job; rules say what to change, this table says
where to look first. Literals are masked in the example text; reports swap the raw text
back in only with ``--show-sql-literals``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.core.sql_text import sql_snippet
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import WarehouseHistory
from analyzer.core.warehouse_usage import fingerprint_codes

TOP_PATTERNS = 10
POOLS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class QueryPattern:
    """One query pattern and what its runs cost together over the window."""

    fingerprint: str
    runs: int
    usd: float
    share: float  # of the history's cost attributed to queries
    pools: tuple[str, ...]  # who paid for it, costliest first (at most POOLS_SHOWN)
    example_query_id: str  # its costliest run
    example_sql: str  # that run's text, literals masked


def top_patterns(history: WarehouseHistory, usd: np.ndarray, pools: np.ndarray, pool_names: np.ndarray,
                 limit: int = TOP_PATTERNS) -> tuple[QueryPattern, ...]:
    """The ``limit`` costliest patterns; ``usd`` is each row's cost, ``pools`` its payer's code."""
    table = history.queries
    if len(table) == 0:
        return ()
    codes, labels = fingerprint_codes(table)
    totals = np.bincount(codes, weights=usd, minlength=len(labels))
    runs = np.bincount(codes, minlength=len(labels))
    spent = float(usd.sum())
    out = []
    for code in np.argsort(-totals, kind="stable")[:limit].tolist():
        if totals[code] <= 0:
            break
        rows = np.flatnonzero(codes == code)
        example = int(rows[np.argmax(usd[rows])])
        by_pool = np.bincount(pools[rows], weights=usd[rows], minlength=len(pool_names))
        costliest = np.argsort(-by_pool, kind="stable")[:POOLS_SHOWN]
        payers = [str(pool_names[p]) for p in costliest if by_pool[p] > 0]
        record = table[example]
        out.append(QueryPattern(
            fingerprint=str(labels[code]), runs=int(runs[code]), usd=float(totals[code]),
            share=float(totals[code]) / spent if spent else 0.0, pools=tuple(payers),
            example_query_id=record.query_id,
            example_sql=sql_snippet(record.query_text,
                                    double_quoted_strings=vendor(record.vendor).double_quoted_strings),
        ))
    return tuple(out)
