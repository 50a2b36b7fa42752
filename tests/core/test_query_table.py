"""The columnar query history: records round-trip exactly, and column maths equals row-by-row maths."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from warehouse_history_factory import HOUR, MINUTE, SECOND, T0, bq_job, sf_query

from analyzer.core.query_table import QueryTable, per_category
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, WarehouseHistory
from analyzer.core.warehouse_usage import (
    billed_seconds,
    busy_ms,
    credits_per_hour,
    merged,
    snowflake_query_credits,
)


def test_records_round_trip_with_none_defaults_and_containers() -> None:
    records = [
        sf_query("a", "WH", "Small", T0, 5 * SECOND, credits_cloud_services=0.25, labels={"query_tag": "x"}),
        sf_query("b", "WH", None, T0 + SECOND, SECOND, warehouse_type=None, compilation_ms=0),  # type: ignore[arg-type]
        replace(
            bq_job("j", "p", T0, SECOND, 10, 3, tables=("p.d.a", "p.d.b"), cache_hit=True), bytes_billed=None
        ),
        QueryRecord(
            vendor="bigquery", query_id="bare", start_time_ms=None, end_time_ms=None, status="RUNNING"
        ),
    ]
    table = QueryTable.from_records(records)
    assert len(table) == 4
    assert list(table) == records
    assert table[2].referenced_tables == ("p.d.a", "p.d.b") and table[2].bytes_billed is None
    assert table[-1].query_text == "" and table[-1].start_time_ms is None and table[-1].labels == {}
    assert table[1:3] == records[1:3]
    assert table.index_of("j") == 2 and table.index_of("nope") is None
    assert np.isnan(table.numbers("start_time_ms")[3])
    with pytest.raises(IndexError):
        table[4]


def test_a_history_converts_records_once() -> None:
    history = WarehouseHistory("snowflake", "t", None, None, queries=(sf_query("a", "W", "Small", T0, 1),))
    assert isinstance(history.queries, QueryTable)
    assert history.queries == [sf_query("a", "W", "Small", T0, 1)]


def test_constant_columns_and_concat() -> None:
    one = QueryTable.from_columns(
        2,
        {
            "vendor": "snowflake",
            "query_id": ["x", "y"],
            "start_time_ms": [1, 2],
            "end_time_ms": [3, None],
            "status": "SUCCESS",
            "warehouse": ["A", None],
        },
    )
    two = QueryTable.from_columns(
        1,
        {
            "vendor": "snowflake",
            "query_id": ["z"],
            "start_time_ms": [5],
            "end_time_ms": [6],
            "status": "FAILED",
            "warehouse": ["B"],
        },
    )
    both = QueryTable.concat([one, two])
    assert [q.query_id for q in both] == ["x", "y", "z"]
    assert [q.warehouse for q in both] == ["A", None, "B"]
    assert [q.status for q in both] == ["SUCCESS", "SUCCESS", "FAILED"]
    assert both[1].end_time_ms is None and both[0].referenced_tables == () and both[0].bytes_scanned == 0


def test_per_category_calls_once_per_distinct_value() -> None:
    table = QueryTable.from_records(
        [sf_query(str(i), "W", "Small", T0, 1, text=f"select {i % 3}") for i in range(30)]
        + [sf_query("none", "W", "Small", T0, 1, statement_type=None)]
    )
    calls: list[str] = []
    out = per_category(table.frame["query_text"], lambda t: calls.append(t) or t.upper(), "?")
    assert sorted(calls) == ["select 0", "select 1", "select 2"]
    assert out[4] == "SELECT 1"
    kinds = per_category(table.frame["statement_type"], str.lower, "missing")
    assert kinds[-1] == "missing" and kinds[0] == "select"


# --- column maths against a plain row-by-row reference --------------------------------------


def _reference_credits(queries: list[QueryRecord], metering: list[MeteringHour]) -> dict[str, float]:
    """The cost-per-query rule written the slow, obvious way (dbt-snowflake-monitoring)."""

    def span(q: QueryRecord) -> tuple[float, float]:
        lo = (
            q.start_time_ms
            + (q.queued_overload_ms or 0)
            + (q.compilation_ms or 0)
            + (q.queued_provisioning_ms or 0)
        )
        return min(lo, q.end_time_ms), q.end_time_ms  # type: ignore[type-var, return-value]

    pieces: dict[int, dict[str, float]] = {}
    for i, m in enumerate(metering):
        for q in queries:
            if q.warehouse == m.warehouse and q.warehouse_size:
                lo, hi = span(q)
                ms = min(hi, m.end_time_ms) - max(lo, m.start_time_ms)
                if ms > 0:
                    pieces.setdefault(i, {})[q.query_id] = ms
    out = dict.fromkeys((q.query_id for q in queries), 0.0)
    covered = dict.fromkeys(out, 0.0)
    for i, shares in pieces.items():
        total = sum(shares.values())
        for qid, ms in shares.items():
            out[qid] += metering[i].credits_compute * ms / total
            covered[qid] += ms
    for q in queries:
        if q.warehouse_size:
            lo, hi = span(q)
            out[q.query_id] += (
                (hi - lo - covered[q.query_id]) * (credits_per_hour(q.warehouse_size) or 0) / HOUR
            )
    return out


@pytest.mark.parametrize("seed", range(5))
def test_vectorized_credits_equal_the_row_by_row_rule(seed: int) -> None:
    rng = random.Random(seed)
    queries = [
        sf_query(
            f"q{i}",
            rng.choice(["A", "B", "C"]),
            rng.choice(["X-Small", "Medium", None]),  # type: ignore[arg-type]
            T0 + rng.randrange(6 * HOUR),
            rng.randrange(1, 90 * MINUTE),
            compilation_ms=rng.randrange(0, 2000),
            queued_overload_ms=rng.choice([0, 0, 30_000]),
        )
        for i in range(300)
    ]
    metering = [
        MeteringHour(w, T0 + h * HOUR, T0 + (h + 1) * HOUR, 2.0, rng.uniform(0.1, 4), 0.0)
        for w in ("A", "B", "D")
        for h in range(0, 8)
        if rng.random() < 0.8
    ]
    got = snowflake_query_credits(QueryTable.from_records(queries), metering)
    want = _reference_credits(queries, metering)
    assert got.credits == pytest.approx([want[q.query_id] for q in queries], rel=1e-9, abs=1e-12)
    assert not got.estimated[[i for i, q in enumerate(queries) if not q.warehouse_size]].any()


def test_merged_busy_time_and_billed_seconds_agree_with_intervals() -> None:
    lo = np.array([0, 5, 20, 21, np.nan], dtype=float)
    hi = np.array([10, 8, 30, 25, 40], dtype=float)
    starts, ends = merged(lo, hi)
    assert list(starts) == [0, 20] and list(ends) == [10, 30]
    assert busy_ms(lo, hi) == 20
    spans = [(0, 10 * SECOND), (300 * SECOND, 310 * SECOND), (305 * SECOND, 400 * SECOND)]
    assert billed_seconds(spans, 60) == 70 + 160
    assert billed_seconds(spans, None) == 400
