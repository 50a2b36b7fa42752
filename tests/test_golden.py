"""Golden-file tests of the Markdown and JSON reports: the bundled sample logs, and the
Snowflake and BigQuery export fixtures (findings, bills, costliest query patterns).

Regenerate after an intended change with:

    DEANALYZE_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py

and review the diff of tests/golden/ like any other code change.
"""

from __future__ import annotations

import dataclasses
import json
import os

import jsonschema
import pytest
from conftest import TESTS

from analyzer.api import analyze_spark_logs, analyze_warehouse
from connectors.bigquery import read_bigquery_export
from connectors.snowflake import read_snowflake_export
from reports import RENDERERS

GOLDEN = TESTS / "golden"
ROOT = TESTS.parent
UPDATE = os.environ.get("DEANALYZE_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cwd = os.getcwd()
    os.chdir(ROOT)  # sources are reported relative to where the user runs deanalyze
    try:
        report = analyze_spark_logs(["examples/spark-events"])
    finally:
        os.chdir(cwd)
    return dataclasses.replace(report, generated_at="2026-01-01T00:00:00+00:00", tool_version="golden")


@pytest.mark.parametrize(("fmt", "name"), [("md", "sample-report.md"), ("json", "sample-report.json")])
def test_report_matches_golden_file(sample_report, fmt: str, name: str) -> None:  # type: ignore[no-untyped-def]
    rendered = RENDERERS[fmt]().render(sample_report).decode()
    path = GOLDEN / name
    if UPDATE:
        path.write_text(rendered)
    assert path.exists(), f"{name} missing; create it with DEANALYZE_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(), (
        f"{name} changed; regenerate with DEANALYZE_UPDATE_GOLDEN=1 if intended"
    )


def _warehouse_report(vendor: str):  # type: ignore[no-untyped-def]
    cwd = os.getcwd()
    os.chdir(ROOT)  # sources are reported relative to where the user runs deanalyze
    try:
        data = "tests/data/warehouse/"
        if vendor == "snowflake":
            history = read_snowflake_export(data + "snowflake_query_history.csv",
                                            data + "snowflake_warehouse_metering.csv")
        else:
            history = read_bigquery_export(data + "bigquery_jobs.jsonl", data + "bigquery_table_storage.csv")
        report = analyze_warehouse([history])
    finally:
        os.chdir(cwd)
    return dataclasses.replace(report, generated_at="2026-01-01T00:00:00+00:00", tool_version="golden")


@pytest.mark.parametrize("vendor", ["snowflake", "bigquery"])
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_warehouse_report_matches_golden_file(vendor: str, fmt: str) -> None:
    rendered = RENDERERS[fmt]().render(_warehouse_report(vendor)).decode()
    path = GOLDEN / f"{vendor}-report.{fmt}"
    if UPDATE:
        path.write_text(rendered)
    assert path.exists(), f"{path.name} missing; create it with DEANALYZE_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(), (
        f"{path.name} changed; regenerate with DEANALYZE_UPDATE_GOLDEN=1 if intended"
    )


@pytest.mark.parametrize("name", ["sample-report.json", "snowflake-report.json", "bigquery-report.json"])
def test_golden_json_follows_the_schema(report_schema: dict, name: str) -> None:
    jsonschema.validate(json.loads((GOLDEN / name).read_text()), report_schema)


def test_savings_never_exceed_the_bill(sample_report) -> None:  # type: ignore[no-untyped-def]
    for cost in sample_report.costs:
        assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd)
        own = [f for f in sample_report.findings if f.subject.get("app_id") == cost.app_id]
        assert sum(f.estimated_savings_usd for f in own) <= cost.total_usd + 1e-9


def test_conf_lines_are_extracted_without_sentence_punctuation() -> None:
    from reports.markdown_report import _CONF

    text = ('Use --conf spark.sql.shuffle.partitions=480. Or --conf a.b=250k, and '
            '--conf spark.executor.extraJavaOptions="-XX:+UseG1GC -XX:MaxGCPauseMillis=200" (G1).')
    assert _CONF.findall(text) == ["spark.sql.shuffle.partitions=480", "a.b=250k",
                                   'spark.executor.extraJavaOptions="-XX:+UseG1GC -XX:MaxGCPauseMillis=200"']
