"""The upstream History Server expectations (apache/spark's HistoryServerSuite) hold too."""

from __future__ import annotations

import json
from functools import cache

import pytest
from conftest import EVENTS
from shs_oracle import STAGE_FIELDS, shs_time_ms

from analyzer.api import find_logs, read_log
from analyzer.core.model import Application, Stage

UPSTREAM = EVENTS / "apache-spark" / "HistoryServerExpectations"
CASES = json.loads((EVENTS / "apache-spark" / "HistoryServerExpectations_cases.json").read_text())["cases"]
STAGE_KINDS = {"stage list", "stage attempt", "stage (all attempts)"}
APP_KINDS = {"one application"}


@cache
def apps_by_id() -> dict[tuple[str, str | None], Application]:
    sources, errors = find_logs([str(EVENTS / "apache-spark" / "spark-events")])
    assert not errors
    apps = [read_log(s) for s in sources]
    return {(a.app_id, a.attempt_id): a for a in apps if isinstance(a, Application)}


def app_for(case: dict) -> Application:
    return apps_by_id()[(case["app_id"], case["attempt"])]


def stage_problems(stage: Stage, expected: dict) -> list[str]:
    out = []
    for shs_name, path in STAGE_FIELDS.items():
        if shs_name not in expected:
            continue
        want = expected[shs_name]
        if shs_name in ("submissionTime", "completionTime", "firstTaskLaunchedTime"):
            want = shs_time_ms(want)
        got: object = stage
        for part in path.split("."):
            got = getattr(got, part)
        if want != got:
            out.append(f"{stage.stage_id}.{stage.attempt_id} {shs_name}: expected {want}, got {got}")
    return out


def case_id(case: dict) -> str:
    return case["case"]


@pytest.mark.parametrize("case", [c for c in CASES if c["endpoint_kind"] in STAGE_KINDS], ids=case_id)
def test_stage_expectations(case: dict) -> None:
    expected = json.loads((UPSTREAM / case["file"]).read_text())
    expected = expected if isinstance(expected, list) else [expected]
    app = app_for(case)
    stages = {(s.stage_id, s.attempt_id): s for s in app.stages}
    problems = []
    for item in expected:
        stage = stages.get((item["stageId"], item["attemptId"]))
        assert stage is not None, item["stageId"]
        problems += stage_problems(stage, item)
    assert problems == []
    if case["query"] == "":
        assert case["endpoint_kind"] != "stage list" or len(expected) == len(stages)


@pytest.mark.parametrize("case", [c for c in CASES if c["endpoint_kind"] in APP_KINDS], ids=case_id)
def test_application_expectations(case: dict) -> None:
    expected = json.loads((UPSTREAM / case["file"]).read_text())
    for attempt in expected["attempts"]:
        app = apps_by_id()[(case["app_id"], attempt.get("attemptId"))]
        assert app.name == expected["name"]
        assert app.complete == attempt["completed"]
        assert app.start_time_ms == shs_time_ms(attempt["startTime"])
        assert app.duration_ms == attempt["duration"]
        assert app.user == attempt["sparkUser"]


@pytest.mark.parametrize("case", [c for c in CASES if c["endpoint_kind"] in {"job list", "job"}], ids=case_id)
def test_job_expectations(case: dict) -> None:
    expected = json.loads((UPSTREAM / case["file"]).read_text())
    expected = expected if isinstance(expected, list) else [expected]
    jobs = {j.job_id: j for j in app_for(case).jobs}
    for item in expected:
        job = jobs[item["jobId"]]
        assert job.status == item["status"]
        assert sorted(job.stage_ids) == sorted(item["stageIds"])
        assert job.submission_time_ms == shs_time_ms(item.get("submissionTime"))
        assert job.completion_time_ms == shs_time_ms(item.get("completionTime"))
