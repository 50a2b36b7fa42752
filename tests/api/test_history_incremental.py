"""Incremental reads: logs already in the history are not read again, and the report stays the same."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import analyzer.api.spark as spark_api
from analyzer.api import analyze_spark_logs
from analyzer.api.history import analyze_spark_with_history, open_store
from analyzer.api.history.incremental import HistoryLogCache, decode_app, encode_app
from analyzer.core.report import Report
from rules.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "spark-events"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every log the reader parses, by display name."""
    seen: list[str] = []
    real = spark_api.read_application

    def counting(source):  # type: ignore[no-untyped-def]
        seen.append(source.display)
        return real(source)

    monkeypatch.setattr(spark_api, "read_application", counting)
    return seen


def same(a: Report, b: Report) -> None:
    assert a.applications == b.applications
    assert a.findings == b.findings and a.costs == b.costs and a.errors == b.errors


def test_an_unchanged_folder_is_not_read_again_and_reports_the_same(tmp_path: Path, reads: list[str]) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(EXAMPLES, logs)
    history = tmp_path / "h.duckdb"
    first = analyze_spark_with_history(history, [str(logs)])
    assert len(reads) == 9
    second = analyze_spark_with_history(history, [str(logs)])
    assert len(reads) == 9  # nothing read the second time
    same(first, second)
    same(first, analyze_spark_logs([str(logs)]))  # and both equal a plain fresh read


def test_a_new_or_changed_log_is_read_a_copied_one_is_not(tmp_path: Path, reads: list[str]) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(EXAMPLES, logs)
    history = tmp_path / "h.duckdb"
    analyze_spark_with_history(history, [str(logs)])
    reads.clear()
    sample = logs / "local-1430917381534"
    os.utime(sample, ns=(1, 1))  # same content, new mtime: found by its fingerprint
    shutil.copy(sample, tmp_path / "copy-of-sample")  # same content elsewhere
    app = logs / "application_1553914137147_0018"
    app.write_text(app.read_text().replace('"LargeBlocks"', '"LargeBlocks2"'))
    report = analyze_spark_with_history(history, [str(logs), str(tmp_path / "copy-of-sample")])
    assert reads == [str(app)]
    assert {a.name for a in report.applications} >= {"LargeBlocks2", "Spark shell"}
    reads.clear()
    analyze_spark_with_history(history, [str(logs), str(tmp_path / "copy-of-sample")])
    assert reads == []  # the moved and copied logs were remembered under their new stamps


def test_another_deanalyze_version_reads_again(tmp_path: Path, reads: list[str]) -> None:
    history = tmp_path / "h.duckdb"
    analyze_spark_with_history(history, [str(EXAMPLES)])
    with open_store(history) as store:
        store.execute("UPDATE log_files SET tool_version = '0.0.1'")
    reads.clear()
    analyze_spark_with_history(history, [str(EXAMPLES)])
    assert len(reads) == 9


def test_a_changed_rules_config_changes_the_findings_without_reading(
    tmp_path: Path, reads: list[str]
) -> None:
    history = tmp_path / "h.duckdb"
    before = analyze_spark_with_history(history, [str(EXAMPLES)])
    config = tmp_path / "rules.toml"
    rule = before.findings[0].rule_id
    config.write_text(f'[rules."{rule}"]\nenabled = false\n')
    reads.clear()
    after = analyze_spark_with_history(history, [str(EXAMPLES)], rules_config=load_config(str(config)))
    assert reads == []
    assert rule in {f.rule_id for f in before.findings} and rule not in {f.rule_id for f in after.findings}
    with open_store(history, read_only=True) as store:
        hashes = store.execute("SELECT DISTINCT rules_hash FROM runs").fetchall()
        recorded = store.execute("SELECT count(*) FROM findings WHERE rule_id = ?", [rule]).fetchone()
    assert len(hashes) == 1 and recorded == (0,)  # the runs' rows now carry the new config's findings


def test_stored_applications_round_trip(tmp_path: Path) -> None:
    report = analyze_spark_logs([str(EXAMPLES)])
    for app in report.applications:
        assert decode_app(encode_app(app)) == app
    cache = HistoryLogCache(tmp_path / "h.duckdb")
    assert cache.lookup([]) == []
    with open_store(tmp_path / "h.duckdb") as store:
        assert cache.flush(store) == 0
    assert replace(report.applications[0]) == report.applications[0]


def test_the_history_is_not_held_while_logs_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "h.duckdb"
    real = spark_api.read_application
    opened: list[str] = []

    def read_and_write_elsewhere(source):  # type: ignore[no-untyped-def]
        with open_store(history, wait_s=0):  # another writer gets in at once
            opened.append(source.display)
        return real(source)

    monkeypatch.setattr(spark_api, "read_application", read_and_write_elsewhere)
    report = analyze_spark_with_history(history, [str(EXAMPLES / "local-1430917381534")])
    assert len(report.applications) == 1 and len(opened) == 1
