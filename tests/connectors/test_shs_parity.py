"""Every stage figure equals Spark 4.3 History Server's, for every log it could read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ANSWERS, EVENTS
from shs_oracle import compact_answer, compare

from analyzer.api import find_logs, read_log
from analyzer.core.model import Application

BUNDLED_INDEX = json.loads((ANSWERS / "INDEX.json").read_text())
BUNDLED = sorted(k for k, v in BUNDLED_INDEX.items() if v is not None)


def read_one(path: Path) -> Application:
    sources, errors = find_logs([str(path)])
    assert not errors and len(sources) == 1, (errors, sources)
    app = read_log(sources[0])
    assert isinstance(app, Application), app
    return app


@pytest.mark.parametrize("rel", BUNDLED)
def test_bundled_log_matches_history_server(rel: str) -> None:
    answer = json.loads((ANSWERS / f"{BUNDLED_INDEX[rel]}.json").read_text())
    app = read_one(EVENTS / rel)
    assert compare(app, answer) == []
    assert len(app.stages) == len(answer["stages"]) > 0 or not answer["stages"]


def test_oracle_detects_a_difference() -> None:
    rel = "apache-spark/spark-events/local-1430917381534"
    answer = json.loads((ANSWERS / f"{BUNDLED_INDEX[rel]}.json").read_text())
    answer["stages"][0]["executorRunTime"] += 1
    answer["task_summaries"]["0.0"]["duration"][2] += 1
    problems = compare(read_one(EVENTS / rel), answer)
    assert any("executorRunTime" in p for p in problems)
    assert any("taskSummary duration" in p for p in problems)


@pytest.mark.corpus
def test_whole_corpus_matches_history_server(shared_events: Path) -> None:
    index = json.loads((shared_events / "shs-4.3" / "INDEX.json").read_text())
    checked, failures = 0, {}
    for rel, answer_dir in sorted(index.items()):
        if answer_dir is None:
            continue
        problems = compare(read_one(shared_events / rel),
                           compact_answer(shared_events / "shs-4.3" / answer_dir))
        checked += 1
        if problems:
            failures[rel] = problems[:5]
    assert failures == {}
    assert checked >= 100


@pytest.mark.corpus
def test_whole_corpus_reads_or_reports_cleanly(shared_events: Path) -> None:
    """Logs the History Server could not read are still read by us, or named as errors."""
    index = json.loads((shared_events / "shs-4.3" / "INDEX.json").read_text())
    sources, errors = find_logs([str(shared_events / rel) for rel in index])
    assert errors == []
    results = [read_log(s) for s in sources]
    apps = [r for r in results if isinstance(r, Application)]
    assert len(apps) == len(index)


@pytest.mark.corpus
def test_whole_corpus_report_follows_the_schema(shared_events: Path) -> None:
    from conftest import load_report

    from analyzer.api import analyze_spark_logs
    from reports import RENDERERS

    report = analyze_spark_logs([str(shared_events)], jobs=2)
    doc = load_report(RENDERERS["json"]().render(report).decode())
    copies = [e for e in doc["errors"] if e["message"].endswith("application id and attempt, analysed once")]
    assert len(doc["applications"]) + len(copies) >= 130  # the corpus holds copies: each application once
    assert all(e["message"] and "\n" not in e["message"] for e in doc["errors"])
