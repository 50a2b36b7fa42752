"""`deanalyze spark-history URL` end to end: the same applications and stage figures as `spark-logs`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from history_server import HistoryServer

from analyzer.cli import main


def _report(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _figures(doc: dict) -> dict:
    """Per application attempt: the stages with their figures, and the bill."""
    return {(a["app_id"], a.get("attempt_id")): (json.dumps(a["stages"], sort_keys=True), a["cost"])
            for a in doc["applications"]}


@pytest.mark.spark
def test_history_server_runs_equal_the_same_logs_read_from_disk(history_server: HistoryServer) -> None:
    remote = _report("spark-history", history_server.url, "--timeout", "30")
    local = _report("spark-logs", *(str(p) for paths in history_server.apps.values() for p in paths))
    assert remote["errors"] == []
    assert _figures(remote) == _figures(local)
    assert len(remote["applications"]) == sum(len(p) for p in history_server.apps.values())


@pytest.mark.spark
def test_history_server_filters_and_unknown_ids(history_server: HistoryServer) -> None:
    result = CliRunner().invoke(main, ["spark-history", history_server.url, "--app-id", "local-1430917381534",
                                       "--app-id", "nope", "--format", "json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert [a["app_id"] for a in doc["applications"]] == ["local-1430917381534"]
    assert len(doc["errors"]) == 1 and "nope" in doc["errors"][0]["message"]


def test_bad_settings_are_usage_errors(tmp_path: Path) -> None:
    for args in (["--header", "no colon"], ["--since", "yesterday-ish"], ["--limit", "0"]):
        result = CliRunner().invoke(main, ["spark-history", "http://127.0.0.1:9", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
