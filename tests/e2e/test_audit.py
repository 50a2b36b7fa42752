"""``deanalyze audit``: the weekly job on real inputs, re-runs, bad sources and configs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DATA, load_report

from analyzer.api.audit import run_audit
from analyzer.api.audit_config import AuditConfigError, current_week, load_audit_config, parse_week
from analyzer.cli import main

REPO = DATA.parent.parent
SPARK = REPO / "examples/spark-events"
WAREHOUSE = DATA / "warehouse"
SOURCES = ("spark", "prod", "analytics")
GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def config_text(tmp_path: Path, formats: str = '["md", "json"]', spark: str = "") -> str:
    """The three real sources, with paths relative to the config's folder (``tmp_path``)."""
    def rel(path: Path) -> str:
        return os.path.relpath(path, tmp_path)

    spark = spark or f'paths = ["{rel(SPARK)}"]'
    return f"""
[output]
dir = "audit"
formats = {formats}

[[spark]]
name = "spark"
{spark}

[[snowflake]]
name = "prod"
query_history_file = "{rel(WAREHOUSE / 'snowflake_query_history.csv')}"
metering_file = "{rel(WAREHOUSE / 'snowflake_warehouse_metering.csv')}"

[[bigquery]]
name = "analytics"
jobs_file = "{rel(WAREHOUSE / 'bigquery_jobs.jsonl')}"
table_storage_file = "{rel(WAREHOUSE / 'bigquery_table_storage.csv')}"
edition = "standard"
"""


def write_config(tmp_path: Path, text: str, name: str = "audit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["audit", *args])
    return result.exit_code, result.stdout, result.stderr


def snapshot(folder: Path) -> dict[str, str]:
    """Every file's text with the run's ``generated_at`` stamp masked."""
    return {p.name: GENERATED_AT.sub("<generated_at>", p.read_text()) for p in sorted(folder.iterdir())}


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(".")]


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """W47, then W48, then W48 again, through the CLI (snapshots taken between the runs)."""
    tmp = tmp_path_factory.mktemp("audit-cli")
    config = write_config(tmp, config_text(tmp))
    runs = {week: run("--config", str(config), "--week", week) for week in ("2026-W47", "2026-W48")}
    first_w48 = snapshot(tmp / "audit/2026-W48")
    time.sleep(1.1)  # a new generated_at: only it may differ
    rerun = run("--config", str(config), "--week", "2026-W48")
    return {"root": tmp / "audit", "runs": runs, "first_w48": first_w48, "rerun": rerun}


def test_cli_writes_every_report_and_a_summary(two_weeks: dict[str, Any]) -> None:
    for week, (code, out, err) in two_weeks["runs"].items():
        assert code == 0, err
        assert err == "" and f"audit {week}: 3 source(s)" in out
        names = sorted(p.name for p in (two_weeks["root"] / week).iterdir())
        assert names == sorted([f"{s}.{f}" for s in SOURCES for f in ("md", "json")]
                               + ["summary.json", "summary.md"])
        for source in SOURCES:
            load_report((two_weeks["root"] / week / f"{source}.json").read_text())
            assert (two_weeks["root"] / week / f"{source}.md").read_text().startswith("# deanalyze report")


def report_totals(doc: dict) -> tuple[float, float, dict[str, int]]:
    cost = sum(a["cost"]["total_usd"] for a in doc["applications"])
    cost += sum(w["total_usd"] for w in doc["warehouses"])
    savings = sum(f["estimated_savings_usd"] for f in doc["findings"])
    severities = ("critical", "high", "medium", "low")
    counts = {s: sum(f["severity"] == s for f in doc["findings"]) for s in severities}
    return cost, savings, counts


def test_summary_totals_equal_the_reports(two_weeks: dict[str, Any]) -> None:
    folder = two_weeks["root"] / "2026-W47"
    summary = json.loads((folder / "summary.json").read_text())
    assert [s["name"] for s in summary["sources"]] == list(SOURCES)
    for entry in summary["sources"]:
        cost, savings, counts = report_totals(load_report((folder / f"{entry['name']}.json").read_text()))
        assert entry["status"] == "ok" and entry["errors"] == []
        assert entry["total_usd"] == pytest.approx(cost, abs=1e-5) and cost > 0
        assert entry["estimated_savings_usd"] == pytest.approx(savings, abs=1e-5)
        assert entry["findings_by_severity"] == counts
        assert len(entry["finding_keys"]) == len(entry["findings"]) > 0
    totals = summary["totals"]
    assert totals["total_usd"] == pytest.approx(sum(s["total_usd"] for s in summary["sources"]))
    assert totals["findings_by_severity"]["critical"] == sum(
        s["findings_by_severity"]["critical"] for s in summary["sources"])


def test_first_week_has_no_previous_week(two_weeks: dict[str, Any]) -> None:
    folder = two_weeks["root"] / "2026-W47"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["previous_week"] is None and summary["week_start"] == "2026-11-16"
    assert all(s["comparison"] is None for s in summary["sources"])
    assert "No previous week" in (folder / "summary.md").read_text()


def test_second_week_compares_with_the_first(two_weeks: dict[str, Any]) -> None:
    folder = two_weeks["root"] / "2026-W48"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["previous_week"] == "2026-W47"
    for entry in summary["sources"]:
        c = entry["comparison"]
        assert c["previous_week"] == "2026-W47" and c["previous_total_usd"] == entry["total_usd"]
        assert c["cost_delta_usd"] == 0 and c["cost_delta_pct"] == 0
        assert c["new_findings"] == [] and c["resolved_findings"] == []
    assert summary["totals"]["compared_cost_delta_usd"] == 0
    md = (folder / "summary.md").read_text()
    assert "Compared with 2026-W47." in md and "| spark | spark | ok |" in md


def test_rerunning_a_week_is_idempotent(two_weeks: dict[str, Any]) -> None:
    code, _, err = two_weeks["rerun"]
    assert code == 0 and err == ""
    again = snapshot(two_weeks["root"] / "2026-W48")
    assert again == two_weeks["first_w48"]
    assert all(text.count("<generated_at>") <= 1 for text in again.values())
    assert no_temp_files(two_weeks["root"])


def test_library_two_weeks_with_html(tmp_path: Path) -> None:
    config = load_audit_config(write_config(tmp_path, config_text(tmp_path)))
    config = dataclasses.replace(config, formats=("json", "html"), plotlyjs="cdn",
                                 sources=config.sources[1:])  # warehouses only: quick
    first = run_audit(config, "2026-W47")
    second = run_audit(config, "2026-W48")
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert second.folder == tmp_path / "audit/2026-W48"
    assert second.summary == json.loads((second.folder / "summary.json").read_text())
    assert (second.folder / "analytics.html").read_text().lstrip().lower().startswith("<!doctype html")
    for result, entry in zip(second.sources, second.summary["sources"], strict=True):
        assert entry["total_usd"] == pytest.approx(sum(c.total_usd for c in result.report.warehouse_costs))
        assert entry["comparison"]["cost_delta_usd"] == 0


def test_changed_findings_are_new_and_resolved(tmp_path: Path) -> None:
    """W47 reads the skew run, W48 the spill run: the skew finding is resolved, the spill one new."""
    def week(app: str, name: str) -> dict[str, Any]:
        text = config_text(tmp_path, '["json"]', spark=f'paths = ["{SPARK / app}"]')
        config = load_audit_config(write_config(tmp_path, text))
        return run_audit(dataclasses.replace(config, sources=config.sources[:1]), name).summary

    w47, w48 = week("local-1795878654566", "2026-W47"), week("local-1795878785108", "2026-W48")
    before, now = w47["sources"][0], w48["sources"][0]
    c = now["comparison"]
    assert before["total_usd"] > 0 and now["total_usd"] > 0
    assert c["cost_delta_usd"] == pytest.approx(now["total_usd"] - before["total_usd"], abs=1e-6)
    assert c["cost_delta_pct"] == pytest.approx(100 * c["cost_delta_usd"] / before["total_usd"], abs=0.01)
    assert {f["key"] for f in c["new_findings"]} == set(now["finding_keys"])
    assert {f["key"] for f in c["resolved_findings"]} == set(before["finding_keys"])
    assert "spark.spill" in {f["rule_id"] for f in c["new_findings"]}
    assert "spark.skew" in {f["rule_id"] for f in c["resolved_findings"]}


def test_previous_week_is_the_latest_earlier_week_with_a_summary(tmp_path: Path) -> None:
    config = load_audit_config(write_config(tmp_path, config_text(tmp_path, '["json"]')))
    config = dataclasses.replace(config, sources=config.sources[1:2])
    run_audit(config, "2026-W45")
    run_audit(config, "2026-W50")
    (tmp_path / "audit/2026-W47").mkdir()  # no summary.json: not a finished week
    (tmp_path / "audit/notes").mkdir()
    assert run_audit(config, "2026-W48").summary["previous_week"] == "2026-W45"


def test_removed_format_leaves_no_stale_report(tmp_path: Path) -> None:
    config = load_audit_config(write_config(tmp_path, config_text(tmp_path)))
    config = dataclasses.replace(config, sources=config.sources[1:2])
    run_audit(config, "2026-W48")
    run_audit(dataclasses.replace(config, formats=("md",)), "2026-W48")
    assert sorted(p.name for p in (tmp_path / "audit/2026-W48").iterdir()) == [
        "prod.md", "summary.json", "summary.md"]


def test_bad_sources_do_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)  # the [bigquery] extra is missing
    text = config_text(tmp_path, '["json"]') + f"""
[[spark]]
name = "lost-logs"
paths = ["{tmp_path / 'no-such-folder'}"]

[[snowflake]]
name = "lost-export"
query_history_file = "missing.csv"

[[bigquery]]
name = "live"
project = "my-project"
"""
    code, _, err = run("--config", str(write_config(tmp_path, text)), "--week", "2026-W48")
    assert code == 3 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 3
    expected = [("spark", "lost-logs", "no-such-folder"), ("snowflake", "lost-export", "missing.csv"),
                ("bigquery", "live", "pip install 'deanalyze[bigquery]'")]
    for line, (kind, name, problem) in zip(lines, expected, strict=True):
        assert line.startswith(f"deanalyze: audit: {kind} source '{name}': ") and problem in line
    folder = tmp_path / "audit/2026-W48"
    summary = json.loads((folder / "summary.json").read_text())
    status = {s["name"]: (s["status"], s["exit_code"]) for s in summary["sources"]}
    assert status == {"spark": ("ok", 0), "prod": ("ok", 0), "analytics": ("ok", 0),
                      "lost-logs": ("failed", 3), "lost-export": ("failed", 3), "live": ("failed", 3)}
    assert summary["exit_code"] == 3
    for name in status:
        doc = load_report((folder / f"{name}.json").read_text())
        assert bool(doc["errors"]) == (status[name][0] == "failed")
    assert no_temp_files(tmp_path)


def test_a_bug_in_one_source_is_exit_4_and_the_others_still_run(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("analyzer.api.analyze.analyze_found_logs", broken)
    code, _, err = run("--config", str(write_config(tmp_path, config_text(tmp_path, '["md"]'))),
                       "--week", "2026-W48")
    assert code == 4 and err.count("\n") == 1 and "internal error: ZeroDivisionError: boom" in err
    assert sorted(p.name for p in (tmp_path / "audit/2026-W48").iterdir()) == [
        "analytics.md", "prod.md", "spark.md", "summary.json", "summary.md"]


@pytest.mark.parametrize(("text", "args", "expected"), [
    (None, (), "cannot read"),
    ("[output\n", (), "invalid TOML"),
    ('[output]\ndirectory = "x"\n', (), "[output]: unknown key 'directory'"),
    ('[[spark]]\nname = "a"\npaths = ["x"]\npath = "y"\n', (), "[[spark]] 'a': unknown key 'path'"),
    ('[[spark]]\nname = "a"\npaths = ["x"]\n[[bigquery]]\nname = "a"\njobs_file = "j"\n', (),
     "name: 'a' is used twice"),
    ('[reports]\nx = 1\n', (), "unknown section [reports]"),
    ('[[spark]]\nname = "../a"\npaths = ["x"]\n', (), "must be a file-safe name"),
    ('[[spark]]\nname = "a"\npaths = ["x"]\njobs = "2"\n', (), "jobs: '2' is not a positive whole number"),
    ('[output]\nformats = ["pdf"]\n[[spark]]\nname = "a"\npaths = ["x"]\n', (), "output.formats"),
    ('[output]\nprices = "nope.toml"\n[[spark]]\nname = "a"\npaths = ["x"]\n', (), "output.prices"),
    ('[[snowflake]]\nname = "a"\n', (), "give either connection"),
    ('[[spark]]\nname = "a"\npaths = ["x"]\n', ("--week", "2026-48"), "--week: '2026-48'"),
    ('[[spark]]\nname = "a"\npaths = ["x"]\n', ("--week", "2025-W53"), "--week: '2025-W53'"),
])
def test_config_errors_are_one_line_and_exit_2(tmp_path: Path, text: str | None, args: tuple[str, ...],
                                              expected: str) -> None:
    config = tmp_path / "audit.toml"
    if text is not None:
        config.write_text(text)
    code, out, err = run("--config", str(config), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("deanalyze: ") and expected in err, err
    assert "Traceback" not in err
    if not args:
        assert str(config) in err  # the message names the file
    assert sorted(p.name for p in tmp_path.iterdir()) == (["audit.toml"] if text is not None else [])


def test_weeks() -> None:
    assert current_week(dt.date(2026, 11, 28)) == "2026-W48"
    assert current_week(dt.date(2027, 1, 1)) == "2026-W53"
    assert parse_week(" 2026-W53 ") == "2026-W53"
    for bad in ("2026-W00", "2026-W54", "2026W48", "26-W48", "2026-w48"):
        with pytest.raises(AuditConfigError):
            parse_week(bad)


def test_the_example_config_runs(tmp_path: Path) -> None:
    config = load_audit_config(REPO / "examples/audit.toml")
    assert {s.kind for s in config.sources} == {"spark", "snowflake", "bigquery"}
    result = run_audit(dataclasses.replace(config, formats=("md",)), "2026-W48", output_dir=tmp_path)
    assert result.exit_code == 0
    assert all(s["status"] == "ok" and s["total_usd"] > 0 for s in result.summary["sources"])
