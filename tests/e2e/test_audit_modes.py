"""``deanalyze audit --source NAME`` and ``--summary-only``: one week built source by source.

The per-source runs plus the summary must leave the same week folder, and the same
summary, as one plain ``deanalyze audit``: that is what lets a scheduler run each source
as a task of its own (examples/airflow/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from audit_configs import write_audit_config
from click.testing import CliRunner
from conftest import DATA

from analyzer.cli import main

SPARK_LOG = (DATA.parent.parent / "examples/spark-events/local-1795878654566").resolve()  # small: quick
WAREHOUSE = DATA / "warehouse"
SOURCES = ("spark", "prod", "analytics")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


def write_config(folder: Path, formats: str = '["md", "json"]') -> Path:
    """The three real sources, by absolute path: two output folders must get the same reports."""
    return write_audit_config(folder, formats=formats, spark=True, table_storage=True)


def audit(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["audit", "--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def reports(folder: Path) -> dict[str, str]:
    """The week folder's visible files (reports and summary), timestamps masked."""
    return {p.name: STAMP.sub("<stamp>", p.read_text()) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two weeks audited whole in one folder, source by source then summarised in another."""
    whole, split = tmp_path_factory.mktemp("whole"), tmp_path_factory.mktemp("split")
    runs: dict[str, list[tuple[int, str, str]]] = {"whole": [], "split": []}
    for week in ("2026-W47", "2026-W48"):
        runs["whole"].append(audit(write_config(whole), "--week", week))
        for name in SOURCES:
            runs["split"].append(audit(write_config(split), "--week", week, "--source", name))
        runs["split"].append(audit(write_config(split), "--week", week, "--summary-only"))
    return {"whole": whole / "audit", "split": split / "audit", "runs": runs}


def test_source_runs_and_summary_equal_the_whole_audit(both_ways: dict[str, Any]) -> None:
    for code, _, err in both_ways["runs"]["whole"] + both_ways["runs"]["split"]:
        assert code == 0 and err == "", err
    for week in ("2026-W47", "2026-W48"):
        assert reports(both_ways["split"] / week) == reports(both_ways["whole"] / week)
    summary = json.loads((both_ways["split"] / "2026-W48/summary.json").read_text())
    assert summary["previous_week"] == "2026-W47" and [s["name"] for s in summary["sources"]] == list(SOURCES)
    assert all(s["comparison"]["cost_delta_usd"] == 0 for s in summary["sources"])


def test_a_source_run_writes_its_reports_and_state_only(both_ways: dict[str, Any]) -> None:
    _, out, _ = both_ways["runs"]["split"][0]
    assert "audit 2026-W47: 1 source(s), reports in" in out
    states = sorted(p.name for p in (both_ways["split"] / "2026-W47/.sources").iterdir())
    assert states == sorted(f"{name}.json" for name in SOURCES)
    assert not (both_ways["whole"] / "2026-W47/.sources").exists()  # a whole run leaves the folder as before
    assert "summary in" in both_ways["runs"]["split"][3][1]


def test_unknown_source_and_both_modes_are_usage_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, out, err = audit(config, "--week", "2026-W48", "--source", "nope")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--source: 'nope' is not a source of" in err and "spark, prod, analytics" in err
    code, _, err = audit(config, "--source", "prod", "--summary-only")
    assert code == 2 and "give one or the other" in err
    assert not (tmp_path / "audit").exists()


def test_summary_of_a_source_that_never_ran_is_a_failure(tmp_path: Path) -> None:
    config = write_config(tmp_path, '["json"]')
    assert audit(config, "--week", "2026-W48", "--source", "prod", "--source", "analytics")[0] == 0
    code, _, err = audit(config, "--week", "2026-W48", "--summary-only")
    assert code == 3 and err.count("\n") == 1
    assert err.startswith("deanalyze: audit: spark source 'spark': no result for this week")
    summary = json.loads((tmp_path / "audit/2026-W48/summary.json").read_text())
    status = {s["name"]: (s["status"], s["exit_code"], s["files"]) for s in summary["sources"]}
    assert status == {"spark": ("failed", 3, []), "prod": ("ok", 0, ["prod.json"]),
                      "analytics": ("ok", 0, ["analytics.json"])}


def test_summary_only_applies_its_own_fail_on(tmp_path: Path) -> None:
    config = write_config(tmp_path, '["json"]')
    for name in SOURCES:
        assert audit(config, "--week", "2026-W48", "--source", name)[0] == 0
    assert audit(config, "--week", "2026-W48", "--summary-only", "--fail-on", "low")[0] == 1
    summary = json.loads((tmp_path / "audit/2026-W48/summary.json").read_text())
    assert summary["exit_code"] == 1 and {s["exit_code"] for s in summary["sources"]} == {1}


def test_one_source_rerun_after_a_whole_audit(tmp_path: Path) -> None:
    """The other sources' results come from the week's summary; a dropped format is removed."""
    config = write_config(tmp_path)
    assert audit(config, "--week", "2026-W48")[0] == 0
    whole = reports(tmp_path / "audit/2026-W48")
    config = write_config(tmp_path, '["md"]')
    assert audit(config, "--week", "2026-W48", "--source", "prod")[0] == 0
    names = sorted(p.name for p in (tmp_path / "audit/2026-W48").iterdir() if p.is_file())
    assert "prod.json" not in names and "prod.md" in names and "spark.json" in names
    code, _, err = audit(config, "--week", "2026-W48", "--summary-only")
    assert code == 0 and err == ""
    summary = json.loads((tmp_path / "audit/2026-W48/summary.json").read_text())
    files = {s["name"]: s["files"] for s in summary["sources"]}
    assert files == {"spark": ["spark.md", "spark.json"], "prod": ["prod.md"],
                     "analytics": ["analytics.md", "analytics.json"]}
    assert reports(tmp_path / "audit/2026-W48")["spark.json"] == whole["spark.json"]


def test_a_whole_audit_refreshes_the_states_source_runs_made(tmp_path: Path) -> None:
    config = write_config(tmp_path, '["json"]')
    assert audit(config, "--week", "2026-W48", "--source", "prod")[0] == 0
    state = tmp_path / "audit/2026-W48/.sources/prod.json"
    before = state.stat().st_mtime_ns
    assert audit(config, "--week", "2026-W48")[0] == 0
    assert state.stat().st_mtime_ns > before
    assert sorted(p.name for p in state.parent.iterdir()) == ["analytics.json", "prod.json", "spark.json"]
