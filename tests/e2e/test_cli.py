"""The ``deanalyze spark-logs`` command end to end: formats, exit codes, errors, output file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from click.testing import CliRunner
from conftest import EVENTS, load_report

from analyzer.cli import main
from analyzer.core.report import SCHEMA_VERSION

SAMPLE = EVENTS / "apache-spark/spark-events/local-1430917381534"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_output_follows_the_schema(report_schema: dict) -> None:
    code, out, _ = run("spark-logs", str(EVENTS / "apache-spark/spark-events"), "--format", "json")
    assert code == 0
    doc = load_report(out)
    jsonschema.validate(doc, report_schema)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["errors"] == []
    app = next(a for a in doc["applications"] if a["app_id"] == "local-1430917381534")
    stage = next(s for s in app["stages"] if s["stage_id"] == 0)
    assert stage["num_tasks"] == 100 and stage["status"] == "COMPLETE"
    assert set(stage["task_duration_ms"]) == {"min", "p25", "p50", "p75", "max"}
    assert app["start_time"].endswith("Z") and app["duration_ms"] == 10505


def test_markdown_is_the_default() -> None:
    code, out, _ = run("spark-logs", str(SAMPLE))
    assert code == 0
    assert out.startswith("# deanalyze report")
    assert "| 0.0 | map at &lt;console&gt;:26 | COMPLETE | 100 (0) |" in out


def test_unreadable_input_exit_code_and_one_line_error(tmp_path: Path, report_schema: dict) -> None:
    bad = tmp_path / "app-1.lz4"
    bad.write_bytes(b"LZ4Block\x99corrupt")
    code, out, err = run("spark-logs", str(SAMPLE), str(bad), "--format", "json")
    assert code == 3
    doc = load_report(out)
    jsonschema.validate(doc, report_schema)
    assert len(doc["applications"]) == 1
    assert doc["errors"][0]["source"] == str(bad)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"deanalyze: {bad}: ")
    assert "Traceback" not in err


def test_usage_error_exit_code() -> None:
    assert run("spark-logs")[0] == 2
    assert run("spark-logs", str(SAMPLE), "--format", "xml")[0] == 2


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    code, out, _ = run("spark-logs", str(SAMPLE), "--format", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert load_report(target.read_text())["applications"][0]["app_id"] == "local-1430917381534"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_hostile_app_name_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    log = tmp_path / "local-1"
    log.write_text(
        SAMPLE.read_text().replace('"App Name":"Spark shell"', '"App Name":"<script>alert(1)</script>|x"')
    )
    _, html, _ = run("spark-logs", str(log), "--format", "html")
    _, md, _ = run("spark-logs", str(log))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in md


def test_installed_console_script_runs_with_jobs(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("deanalyze")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "analyzer.cli"]
    proc = subprocess.run([*cmd, "spark-logs", str(EVENTS / "apache-spark/spark-events"), "--format", "json",
                           "--jobs", "2"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr
    assert len(load_report(proc.stdout)["applications"]) == 18


def test_output_to_a_device_is_written_in_place() -> None:
    code, out, _ = run("spark-logs", str(SAMPLE), "--format", "json", "-o", os.devnull)
    assert code == 0 and out == ""
    assert not os.path.isfile(os.devnull)  # still the device, not a regular file


def test_rules_lists_every_rule_with_its_severity_scale() -> None:
    code, out, _ = run("rules")
    assert code == 0
    assert "spark.skew" in out and "snowflake.idle-warehouse" in out
    assert out.count("severity low/medium/high/critical at") == len([line for line in out.splitlines()
                                                                     if not line.startswith(" ")])


def test_explain_prints_documentation_and_current_thresholds(tmp_path: Path) -> None:
    code, out, _ = run("explain", "spark.spill")
    assert code == 0 and "## Why it matters" in out and "- ratio = low=0.1" in out
    config = tmp_path / "deanalyze.toml"
    config.write_text('[rules."spark.spill"]\nratio = { low = 0.2 }\n')
    assert "- ratio = low=0.2" in run("explain", "spark.spill", "--config", str(config))[1]
    assert run("explain", "spark.nope")[0] == 2


def test_internal_error_is_one_line_and_exit_4(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import analyzer.api

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("unexpected")

    monkeypatch.setattr(analyzer.api.analyze, "analyze_found_logs", broken)
    code, _, err = run("spark-logs", str(SAMPLE))
    assert code == 4
    assert err.strip() == "deanalyze: internal error: RuntimeError: unexpected (rerun with --debug)"
