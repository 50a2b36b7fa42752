"""The command line leaks nothing and cannot be driven by its input (issue 11), end to end.

A file name with a newline is one stderr line; escape codes in a name never reach stderr raw;
a URL's ``user:pass@`` and ``?sig=`` token appear in no output, no error and no history row;
Spark SQL literals are masked unless ``--show-sql-literals``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EVENTS

SAMPLE = EVENTS / "apache-spark/spark-events/local-1430917381534"
SQL = "SELECT * FROM customers WHERE email = 'alice@example.com' AND card = 4111111111111111"
LITERALS = ("alice@example.com", "4111111111111111")
SECRETS = ("SECRET", "user:pass", "pass@")


def deanalyze(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in its own process, so stderr is the real stream a terminal shows."""
    exe = Path(sys.executable).with_name("deanalyze")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "analyzer.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def sql_log(folder: Path) -> Path:
    """The sample log with one SQL execution whose description carries an email and a card number."""
    events = [{"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "executionId": 0,
               "description": SQL, "details": "", "physicalPlanDescription": "", "time": 1430917382000,
               "sparkPlanInfo": {"nodeName": "Scan", "simpleString": "Scan", "children": [], "metrics": []}},
              {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd", "executionId": 0,
               "time": 1430917383000}]
    lines = SAMPLE.read_text().splitlines()
    lines[4:4] = [json.dumps(e) for e in events]
    log = folder / "sql-app"
    log.write_text("\n".join(lines) + "\n")
    return log


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The sample log over HTTP on 127.0.0.1: the base URL."""
    (tmp_path / "app.log").write_bytes(SAMPLE.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://user:pass@127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_newline_in_a_file_name_is_one_stderr_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad\nname"
    bad.write_text("x")
    proc = deanalyze("spark-logs", str(bad), "--format", "json")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("deanalyze: '") and "bad\\nname'" in lines[0]
    assert json.loads(proc.stdout)["errors"][0]["source"] == str(bad)  # the JSON keeps the exact name


def test_escape_codes_in_a_file_name_never_reach_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "a\x1b]0;pwned\x07\x1b[2J\u202e.log"
    bad.write_text("x")
    proc = deanalyze("spark-logs", str(bad), "--format", "md")
    assert not [c for c in ("\x1b", "\x07", "\u202e") if c in proc.stderr + proc.stdout]
    assert "\\x1b]0;pwned\\x07" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_url_credentials_and_tokens_appear_nowhere(served: str, tmp_path: Path) -> None:
    history = tmp_path / "runs.duckdb"
    url = f"{served}/app.log?sig=SECRET&se=2030"
    missing = f"{served}/missing.log?sig=SECRET"
    proc = deanalyze("spark-logs", url, missing, "--format", "json", "--history", str(history))
    doc = json.loads(proc.stdout)
    assert doc["applications"] and doc["errors"], proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert not [s for s in SECRETS if s in text]
    assert doc["applications"][0]["source"].endswith("127.0.0.1:" + served.rsplit(":", 1)[1] + "/app.log?***")
    assert "?***" in doc["errors"][0]["source"]

    import duckdb

    with duckdb.connect(str(history), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        stored = " ".join(str(con.execute(f'select * from "{t}"').fetchall()) for t in tables)
    assert "127.0.0.1" in stored and not [s for s in SECRETS if s in stored]
    assert b"SECRET" not in history.read_bytes()

    for fmt in ("md", "html"):
        proc = deanalyze("spark-logs", url, missing, "--format", fmt, "--plotlyjs", "cdn")
        assert not [s for s in SECRETS if s in proc.stdout + proc.stderr]


def test_spark_sql_literals_masked_unless_asked(tmp_path: Path) -> None:
    log = sql_log(tmp_path)
    doc = json.loads(deanalyze("spark-logs", str(log), "--format", "json").stdout)
    assert doc["applications"][0]["sql_executions"][0]["description"] == \
        "SELECT * FROM customers WHERE email = ? AND card = ?"
    shown = deanalyze("spark-logs", str(log), "--format", "json", "--show-sql-literals").stdout
    assert all(s in shown for s in LITERALS)


def test_audit_lines_are_escaped_and_redacted(tmp_path: Path) -> None:
    bad = tmp_path / "a\nb\x1b]0;t\x07.log"
    bad.write_text("x")
    config = tmp_path / "audit.toml"
    paths = [str(bad), "https://u:p@127.0.0.1:9/x.log?sig=SECRET"]
    config.write_text(f'[output]\ndir = "out"\nformats = ["json"]\n\n[[spark]]\nname = "s"\n'
                      f"paths = {json.dumps(paths)}\n")
    proc = deanalyze("audit", "--config", str(config), "--week", "2026-W48")
    problems = [line for line in proc.stderr.splitlines() if line.startswith("deanalyze: audit: spark")]
    assert len(problems) == 1 and "'" in problems[0], proc.stderr
    assert not [c for c in ("\x1b", "\x07") if c in proc.stderr]
    assert not [s for s in SECRETS if s in proc.stderr]
    report = (tmp_path / "out" / "2026-W48" / "s.json").read_text()
    assert not [s for s in SECRETS if s in report]
