"""The costliest query patterns: runs grouped by fingerprint, costs that add up, literals masked."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import DATA
from warehouse_history_factory import MINUTE, SECOND, T0, sf_query

from analyzer.api import analyze_warehouse
from analyzer.core.catalog import load_catalog
from analyzer.core.warehouse_cost import price_history
from analyzer.core.warehouse_model import WarehouseHistory
from analyzer.core.warehouse_usage import query_fingerprints
from connectors.snowflake import read_snowflake_export
from reports import RENDERERS

WAREHOUSE = DATA / "warehouse"


def _history() -> WarehouseHistory:
    return read_snowflake_export(str(WAREHOUSE / "snowflake_query_history.csv"),
                                 str(WAREHOUSE / "snowflake_warehouse_metering.csv"))


def test_pattern_costs_are_the_sum_of_their_runs() -> None:
    history = _history()
    cost = price_history(history, load_catalog())
    prints = query_fingerprints(history.queries)
    ids = history.queries.frame["query_id"].to_numpy()
    assert cost.patterns, "the fixture week has paid queries"
    assert [p.usd for p in cost.patterns] == sorted((p.usd for p in cost.patterns), reverse=True)
    for p in cost.patterns:
        runs = ids[prints == p.fingerprint]
        assert p.runs == len(runs)
        assert p.usd == pytest.approx(sum(cost.queries[q].usd for q in runs))
        assert p.example_query_id in set(runs)
        assert cost.queries[p.example_query_id].usd == max(cost.queries[q].usd for q in runs)
    spent = sum(cost.queries[q].usd for q in ids)
    assert sum(p.share for p in cost.patterns) <= 1 + 1e-9
    assert cost.patterns[0].share == pytest.approx(cost.patterns[0].usd / spent)


def test_runs_that_differ_only_in_literals_are_one_pattern() -> None:
    queries = [sf_query(f"q{i}", "BI_WH", "Small", T0 + i * 5 * MINUTE, 30 * SECOND,
                        text=f"select * from orders where customer_id = {1000 + i}") for i in range(12)]
    queries.append(sf_query("other", "BI_WH", "Small", T0 + 2 * MINUTE, 10 * SECOND, text="select 1"))
    cost = price_history(WarehouseHistory("snowflake", "t", T0, T0 + 3_600_000, queries=tuple(queries)),
                         load_catalog())
    top = cost.patterns[0]
    assert top.runs == 12 and top.pools == ("BI_WH",)
    assert top.example_sql == "select * from orders where customer_id = ?"
    assert len(cost.patterns) == 2 and cost.patterns[1].runs == 1


def test_reports_show_patterns_masked_unless_asked() -> None:
    report = analyze_warehouse([_history()])
    doc = RENDERERS["json"]().render(report)
    patterns = json.loads(doc)["warehouses"][0]["top_query_patterns"]
    assert patterns
    assert all(set(p) >= {"fingerprint", "runs", "usd", "share", "example_sql"} for p in patterns)
    raw = {q.query_id: q.query_text for q in report.warehouses[0].queries}
    masked_example = next(p for p in patterns if raw[p["example_query_id"]] != p["example_sql"])
    shown = dataclasses.replace(report, show_sql_literals=True)
    shown_doc = json.loads(RENDERERS["json"]().render(shown))["warehouses"][0]["top_query_patterns"]
    again = next(p for p in shown_doc if p["example_query_id"] == masked_example["example_query_id"])
    assert again["example_sql"] == raw[again["example_query_id"]]
    markdown = RENDERERS["md"]().render(report).decode()
    assert "### Costliest query patterns" in markdown
    assert masked_example["example_sql"].split()[0] in markdown
    assert raw[masked_example["example_query_id"]] not in markdown


def test_no_queries_no_patterns() -> None:
    empty = WarehouseHistory("snowflake", "t", None, None, queries=())
    assert price_history(empty, load_catalog()).patterns == ()
    assert query_fingerprints(empty.queries).shape == (0,)
    assert np.asarray(query_fingerprints(empty.queries)).dtype == object
