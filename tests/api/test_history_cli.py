"""The run history on the command line and in the weekly audit: record, report, export, dashboard."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "spark-events"
WAREHOUSE = ROOT / "tests" / "data" / "warehouse"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_record_report_export_and_dashboard(tmp_path: Path) -> None:
    history = str(tmp_path / "h.duckdb")
    for _ in range(2):
        code, _, err = run("spark-logs", str(EXAMPLES), "--history", history, "--format", "json",
                           "-o", str(tmp_path / "r.json"))
        assert code == 0, err
    code, _, err = run("snowflake", "--query-history-file", str(WAREHOUSE / "snowflake_query_history.csv"),
                       "--metering-file", str(WAREHOUSE / "snowflake_warehouse_metering.csv"),
                       "--history", history, "--owner-key", "tag:dashboard", "-o", str(tmp_path / "sf.md"))
    assert code == 0, err
    code, out, err = run("history", "--history", history, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    names = {a["name"] for a in doc["applications"]}
    assert {"LargeBlocks", "Spark shell", "fct_orders"} <= names
    spark_shell = next(a for a in doc["applications"] if a["name"] == "Spark shell")
    assert len(spark_shell["runs"]) == 2  # two logs of the same name, recorded once each
    assert any(o["owner"] == "dashboard=sales" for o in doc["owners"])
    code, out, _ = run("history", "--history", history, "--app", "large*")
    assert code == 0 and "LargeBlocks" in out and "fct_orders" not in out
    code, out, err = run("history", "export", "--history", history, "--to", str(tmp_path / "export"))
    assert code == 0 and "runs 9" in out, err
    assert (tmp_path / "export" / "warehouse_usage").is_dir()
    page = tmp_path / "fleet.html"
    code, _, err = run("dashboard", "--history", history, "-o", str(page), "--plotlyjs", "cdn")
    assert code == 0 and "Fleet" not in err and page.stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["history", "--history", "missing.duckdb"], "no such history file"),
    (["history"], "give the history file"),
    (["dashboard", "--history", "missing.duckdb", "-o", "x.html"], "no such history file"),
    (["spark-logs", str(EXAMPLES), "--history", "h.duckdb", "--owner-key", "queue"], "--owner-key"),
])
def test_unusable_history_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*args)
    assert code == 2 and message in err and "Traceback" not in err + out


def test_bad_since(tmp_path: Path) -> None:
    history = str(tmp_path / "h.duckdb")
    assert run("spark-logs", str(EXAMPLES / "local-1430917381534"), "--history", history, "-o",
               str(tmp_path / "r.md"))[0] == 0
    code, _, err = run("history", "--history", history, "--since", "yesterday")
    assert code == 2 and "--since" in err


def test_a_busy_history_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEANALYZE_HISTORY_WAIT", "0.5")
    history = tmp_path / "h.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, duckdb
        con = duckdb.connect({str(history)!r})
        print("locked", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, _, err = run("spark-logs", str(EXAMPLES), "--history", str(history),
                           "-o", str(tmp_path / "r.md"))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert code == 2
    assert err.strip() == (f"deanalyze: {history}: another deanalyze process is writing this history "
                           "(waited 0.5 s); try again when it has finished")


def test_two_weekly_audits_write_one_history(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    shutil.copytree(EXAMPLES, tmp_path / "spark-events")
    config.write_text(textwrap.dedent(f"""
        [output]
        dir = "audit"
        formats = ["json"]
        history = "fleet.duckdb"

        [[spark]]
        name = "example-spark"
        paths = ["spark-events/"]
        owner_keys = ["prop:spark.yarn.queue"]

        [[snowflake]]
        name = "example-snowflake"
        query_history_file = "{WAREHOUSE / 'snowflake_query_history.csv'}"
        metering_file = "{WAREHOUSE / 'snowflake_warehouse_metering.csv'}"

        [[bigquery]]
        name = "example-bigquery"
        jobs_file = "{WAREHOUSE / 'bigquery_jobs.jsonl'}"
        table_storage_file = "{WAREHOUSE / 'bigquery_table_storage.csv'}"
    """))
    for week in ("2026-W48", "2026-W49"):
        code, _, err = run("audit", "--config", str(config), "--week", week)
        assert code == 0, err
        assert (tmp_path / "audit" / week / "fleet.html").stat().st_size > 3_000_000
    assert [p.name for p in tmp_path.glob("*.duckdb")] == ["fleet.duckdb"]
    code, out, err = run("history", "--history", str(tmp_path / "fleet.duckdb"), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    kinds = {a["kind"] for a in doc["applications"]}
    assert kinds == {"spark", "snowflake", "bigquery"}
    large = next(a for a in doc["applications"] if a["name"] == "LargeBlocks")
    assert [r["app_id"] for r in large["runs"]] == ["application_1553914137147_0018"]  # recorded once
    assert doc["owners"][-1]["owner"] == "(unattributed)"  # the queue key leaves most Spark runs unowned
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text().replace('["prop:spark.yarn.queue"]', '["queue"]'))
    code, _, err = run("audit", "--config", str(bad))
    assert code == 2 and "owner_keys" in err
