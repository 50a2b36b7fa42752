"""``deanalyze bigquery`` and ``deanalyze snowflake`` from exported files, end to end."""

from __future__ import annotations

import dataclasses

import jsonschema
from click.testing import CliRunner
from conftest import DATA, load_report

from analyzer.cli import main
from analyzer.core.catalog import load_catalog
from analyzer.core.findings import Finding
from analyzer.core.report import Report
from analyzer.core.sql_text import mask_literals
from analyzer.core.warehouse_cost import price_history
from analyzer.core.warehouse_model import QueryRecord, WarehouseHistory
from reports.evidence import display_evidence
from reports.markdown_report import MarkdownRenderer

RAW_SQL = "select * from orders where customer_id = 42"

WAREHOUSE = DATA / "warehouse"
SNOWFLAKE = ["snowflake", "--query-history-file", str(WAREHOUSE / "snowflake_query_history.csv"),
             "--metering-file", str(WAREHOUSE / "snowflake_warehouse_metering.csv")]
BIGQUERY = ["bigquery", "--jobs-file", str(WAREHOUSE / "bigquery_jobs.jsonl"),
            "--table-storage-file", str(WAREHOUSE / "bigquery_table_storage.csv")]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_snowflake_export_json_report(report_schema: dict) -> None:
    code, out, _ = run(*SNOWFLAKE, "--format", "json")
    assert code == 0
    doc = load_report(out)
    jsonschema.validate(doc, report_schema)
    (history,) = doc["warehouses"]
    assert history["vendor"] == "snowflake" and history["query_count"] == 34
    assert history["total_usd"] > 0 and {p["kind"] for p in history["pools"]} == {"warehouse"}
    ids = {f["rule_id"] for f in doc["findings"]}
    assert "snowflake.idle-warehouse" in ids and "warehouse.full-scan" in ids
    per_pool = {}
    for f in doc["findings"]:
        per_pool.setdefault(f["subject"].get("warehouse"), 0.0)
        per_pool[f["subject"].get("warehouse")] += f["estimated_savings_usd"]
    bills = {p["name"]: p["usd"] for p in history["pools"]}
    assert all(saving <= bills[name] + 1e-6 for name, saving in per_pool.items())


def test_bigquery_export_markdown_report() -> None:
    code, out, _ = run(*BIGQUERY)
    assert code == 0
    assert "## BigQuery cost:" in out and "| project | jobs | on-demand | editions (standard) | paid |" in out
    assert "`bigquery.pricing-model`" in out


def test_sql_literals_are_masked_unless_asked() -> None:
    finding = Finding("warehouse.repeated-query", "high", {"vendor": "snowflake", "warehouse": "BI_WH"}, "t",
                      {"example_sql": mask_literals(RAW_SQL), "example_query_id": "q1"}, "r")
    history = WarehouseHistory("snowflake", "x.csv", None, None, queries=(
        QueryRecord("snowflake", "q1", 0, 1, "SUCCESS", query_text=RAW_SQL),))
    masked = Report(generated_at="t", applications=(), findings=(finding,), warehouses=(history,),
                    warehouse_costs=(price_history(history, load_catalog()),))
    shown = dataclasses.replace(masked, show_sql_literals=True)
    assert display_evidence(finding, masked)["example_sql"] == "select * from orders where customer_id = ?"
    assert display_evidence(finding, shown)["example_sql"] == RAW_SQL
    assert "example_query_id" not in display_evidence(finding, shown)
    assert "42" not in MarkdownRenderer().render(masked).decode()
    assert "customer_id = 42" in MarkdownRenderer().render(shown).decode()


def test_unreadable_export_is_one_line_and_exit_3(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "qh.csv"
    bad.write_text("NOT,A,QUERY,HISTORY\n1,2,3,4\n")
    code, out, err = run("snowflake", "--query-history-file", str(bad), "--format", "json")
    assert code == 3
    assert load_report(out)["errors"][0]["source"] == str(bad)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.count(str(bad)) == 1


def test_live_and_export_are_exclusive() -> None:
    assert run("bigquery")[0] == 2
    assert run("bigquery", "--project", "p", "--jobs-file", "x")[0] == 2
    assert run("snowflake")[0] == 2
