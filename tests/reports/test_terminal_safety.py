"""Terminal safety of every text format: names from the input never drive a terminal (issue 11).

An application, warehouse or user name carrying ESC/OSC/BEL/CR or a bidi override must reach
neither the Markdown nor the HTML report raw; Spark SQL descriptions have their literals masked
as warehouse SQL does, unless ``show_sql_literals``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import EVENTS, load_report
from hypothesis import given, settings
from hypothesis import strategies as st
from warehouse_history_factory import SECOND, T0, sf_query

from analyzer.api import analyze_spark_logs, analyze_warehouse
from analyzer.api.terminal import problem_line
from analyzer.core.findings import Finding
from analyzer.core.model import InputError
from analyzer.core.report import Report
from analyzer.core.safe_text import printable, printable_document, quote_name, redact_url
from analyzer.core.warehouse_model import WarehouseHistory
from reports import RENDERERS
from reports.html_report import HtmlRenderer

SAMPLE = EVENTS / "apache-spark/spark-events/local-1430917381534"
# Clear screen, set the window title (OSC ... BEL), carriage return, right-to-left override, C1 CSI.
HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\r\u202eboss\x9b31m"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
SQL = "SELECT * FROM customers WHERE email = 'alice@example.com' AND card = 4111111111111111"
SECRETS = ("alice@example.com", "4111111111111111")


def hostile_log(folder: Path) -> Path:
    """The sample log with a hostile application and user name and one SQL execution carrying literals."""
    name = json.dumps(HOSTILE)[1:-1]
    text = SAMPLE.read_text().replace('"App Name":"Spark shell"', f'"App Name":"{name}"')
    text = text.replace('"User":"irashid"', f'"User":"{name}"')
    sql = [{"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "executionId": 0,
            "description": SQL, "details": "", "physicalPlanDescription": "", "time": 1430917382000,
            "sparkPlanInfo": {"nodeName": "Scan", "simpleString": "Scan", "children": [], "metrics": []}},
           {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd", "executionId": 0,
            "time": 1430917383000}]
    lines = text.splitlines()
    lines[4:4] = [json.dumps(e) for e in sql]  # after the application start
    log = folder / "local-1430917381534"
    log.write_text("\n".join(lines) + "\n")
    return log


@pytest.fixture(scope="module")
def spark_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    report = analyze_spark_logs([str(hostile_log(tmp_path_factory.mktemp("hostile")))])
    app = report.applications[0]
    finding = Finding(rule_id="spark.test", severity="high", title=f"Slow query in {app.name}",
                      subject={"app_id": app.app_id, "attempt_id": app.attempt_id, "app_name": app.name},
                      evidence={"sql_execution_id": 0, "sql_description": SQL, "user": app.user},
                      recommendation="Filter earlier.", estimated_savings_usd=1.0, avoidable_core_hours=1.0)
    errors = (InputError(source=f"/logs/{HOSTILE}", message=f"cannot read {HOSTILE}"),)
    return replace(report, findings=(finding,), errors=errors)


def warehouse_report() -> Report:
    history = WarehouseHistory("snowflake", f"qh-{HOSTILE}.csv", T0, T0 + 3_600_000, queries=tuple(
        sf_query(f"q{i}", f"WH_{HOSTILE}", "Small", T0 + i * 60 * SECOND, 30 * SECOND,
                 text=f"select '{HOSTILE}' from orders", user=HOSTILE) for i in range(5)))
    return replace(analyze_warehouse([history]), show_sql_literals=True)  # literals shown: still no controls


def render(report: Report, fmt: str) -> str:
    renderer = HtmlRenderer(plotlyjs="cdn") if fmt == "html" else RENDERERS[fmt]()
    return renderer.render(report).decode()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_spark_names_never_reach_text_formats_raw(spark_report: Report, fmt: str) -> None:
    out = render(spark_report, fmt)
    assert not [c for c in RAW if c in out]
    assert not UNSAFE.search(out)
    assert "\\x1b[2J" in out  # shown, as a visible escape


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_warehouse_and_user_names_never_reach_text_formats_raw(fmt: str) -> None:
    out = render(warehouse_report(), fmt)
    assert not UNSAFE.search(out)
    assert "\\x1b" in out


def test_json_escapes_controls(spark_report: Report) -> None:
    out = render(spark_report, "json")
    assert not UNSAFE.search(out)  # C0 by the encoder; DEL, C1 and bidi by terminal_safe_json
    assert load_report(out)["applications"][0]["name"] == HOSTILE  # the data itself stays exact


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_spark_sql_literals_masked_by_default(spark_report: Report, fmt: str) -> None:
    out = render(spark_report, fmt)
    assert not [s for s in SECRETS if s in out]
    assert "customers" in out


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_spark_sql_literals_shown_on_request(spark_report: Report, fmt: str) -> None:
    out = render(replace(spark_report, show_sql_literals=True), fmt)
    assert all(s in out for s in SECRETS)


def test_json_masks_sql_executions_but_keeps_call_sites(spark_report: Report) -> None:
    doc = load_report(render(spark_report, "json"))
    descriptions = [q["description"] for q in doc["applications"][0]["sql_executions"]]
    assert descriptions[0] == "SELECT * FROM customers WHERE email = ? AND card = ?"
    app = replace(spark_report.applications[0],
                  sql_executions=(replace(spark_report.applications[0].sql_executions[0],
                                          description="collect at <console>:23"),))
    doc = load_report(render(replace(spark_report, applications=(app,)), "json"))
    assert doc["applications"][0]["sql_executions"][0]["description"] == "collect at <console>:23"


# --- the helpers ----------------------------------------------------------------------------------------

def test_printable_examples() -> None:
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert printable("one\ntwo\rthree\ttab") == "one\\ntwo\\rthree\\ttab"
    assert printable("\u202eabc\x9b\x7f") == "\\u202eabc\\x9b\\x7f"
    assert printable("café ✓ 日本") == "café ✓ 日本"
    assert printable(None) == ""


@settings(derandomize=True, max_examples=300)
@given(st.text())
def test_printable_leaves_no_control_and_is_idempotent(text: str) -> None:
    out = printable(text)
    assert not UNSAFE.search(out) and "\n" not in out and "\t" not in out
    assert printable(out) == out
    assert printable_document(text).count("\n") == text.count("\n")


def test_quote_name_only_when_needed() -> None:
    assert quote_name("/logs/app-1.zstd") == "/logs/app-1.zstd"
    assert quote_name("/tmp/bad\nname") == "'/tmp/bad\\nname'"
    assert quote_name("/tmp/a b") == "'/tmp/a b'"
    assert quote_name("it's") == "'it\\'s'"


@settings(derandomize=True, max_examples=200)
@given(st.text(), st.text())
def test_problem_line_is_one_safe_line(source: str, message: str) -> None:
    line = problem_line(source, message)
    assert "\n" not in line and not UNSAFE.search(line)


def test_redact_url() -> None:
    assert redact_url("https://user:pass@h/app.zstd?sig=SECRET") == "https://***@h/app.zstd?***"
    assert redact_url("cannot read s3://k:s@b/x?X-Amz-Signature=abc!/member: boom") == \
        "cannot read s3://***@b/x?***!/member: boom"
    assert redact_url("/local/what?.log") == "/local/what?.log"
    assert redact_url(redact_url("https://u@h/p?a=1#frag")) == redact_url("https://u@h/p?a=1#frag")


def test_input_errors_and_applications_are_redacted_at_construction(spark_report: Report) -> None:
    error = InputError(source="https://u:p@h/x?sig=SECRET", message="fetch https://h/x?sig=SECRET failed")
    assert "SECRET" not in error.source + error.message and "u:p" not in error.source
    app = replace(spark_report.applications[0], source="gs://key:pw@b/log?token=SECRET")
    assert app.source == "gs://***@b/log?***"
