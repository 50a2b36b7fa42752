"""Compare deanalyze's model with Spark History Server REST answers (the oracle).

Used by the bundled-fixture tests (``tests/data``) and by the corpus test over
``../shared/spark-events``. Answers are either the History Server's own files
(``stages.json``, ``application.json``, ``taskSummary_<stage>_<attempt>.json``) or the
compact ``expected.json`` that ``tests/data/make_fixtures.py`` derives from them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from analyzer.core.model import Application, Quantiles, Stage

# History Server stage field -> (model attribute path)
STAGE_FIELDS = {
    "status": "status", "name": "name", "numTasks": "num_tasks",
    "numCompleteTasks": "num_complete_tasks", "numFailedTasks": "num_failed_tasks",
    "numKilledTasks": "num_killed_tasks",
    "executorRunTime": "metrics.executor_run_time_ms", "executorCpuTime": "metrics.executor_cpu_time_ns",
    "executorDeserializeTime": "metrics.executor_deserialize_time_ms",
    "resultSerializationTime": "metrics.result_serialization_time_ms",
    "jvmGcTime": "metrics.jvm_gc_time_ms", "peakExecutionMemory": "metrics.peak_execution_memory_bytes",
    "inputBytes": "metrics.input_bytes", "inputRecords": "metrics.input_records",
    "outputBytes": "metrics.output_bytes", "outputRecords": "metrics.output_records",
    "shuffleReadBytes": "metrics.shuffle_read_bytes", "shuffleReadRecords": "metrics.shuffle_read_records",
    "shuffleRemoteBytesRead": "metrics.shuffle_remote_bytes_read",
    "shuffleFetchWaitTime": "metrics.shuffle_fetch_wait_time_ms",
    "shuffleWriteBytes": "metrics.shuffle_write_bytes",
    "shuffleWriteRecords": "metrics.shuffle_write_records",
    "shuffleWriteTime": "metrics.shuffle_write_time_ns",
    "memoryBytesSpilled": "metrics.memory_bytes_spilled", "diskBytesSpilled": "metrics.disk_bytes_spilled",
    "submissionTime": "submission_time_ms", "completionTime": "completion_time_ms",
    "firstTaskLaunchedTime": "first_task_launched_time_ms",
}
_TIME_FIELDS = {"submissionTime", "completionTime", "firstTaskLaunchedTime"}

# taskSummary path -> TaskDistributions attribute
SUMMARY_FIELDS = {
    ("duration",): "duration_ms", ("executorRunTime",): "executor_run_time_ms",
    ("jvmGcTime",): "jvm_gc_time_ms", ("inputMetrics", "bytesRead"): "input_bytes",
    ("shuffleReadMetrics", "readBytes"): "shuffle_read_bytes",
    ("shuffleWriteMetrics", "writeBytes"): "shuffle_write_bytes",
    ("memoryBytesSpilled",): "memory_bytes_spilled", ("diskBytesSpilled",): "disk_bytes_spilled",
}


def shs_time_ms(text: str | None) -> int | None:
    """``2021-05-25T15:19:45.449GMT`` -> epoch ms."""
    if not text:
        return None
    stamp = dt.datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(stamp.timestamp() * 1000 + 0.5)


def compact_answer(folder: Path) -> dict[str, Any]:
    """The parts of a History Server answer folder that the comparison uses."""
    stages = json.loads((folder / "stages.json").read_text())
    summaries: dict[str, Any] = {}
    for s in stages:
        f = folder / f"taskSummary_{s['stageId']}_{s['attemptId']}.json"
        if f.exists() and f.stat().st_size:
            raw = json.loads(f.read_text())
            summaries[f"{s['stageId']}.{s['attemptId']}"] = {
                ".".join(path): _dig(raw, path) for path in SUMMARY_FIELDS
            }
    app = json.loads((folder / "application.json").read_text())
    return {
        "application": {"id": app["id"], "name": app["name"], "attempts": app["attempts"]},
        "stages": [{k: s.get(k) for k in ("stageId", "attemptId", *STAGE_FIELDS)} for s in stages],
        "task_summaries": summaries,
    }


def _dig(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = raw
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _attr(stage: Stage, path: str) -> Any:
    value: Any = stage
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _as_list(q: Quantiles | None) -> list[float] | None:
    return None if q is None else [q.min, q.p25, q.p50, q.p75, q.max]


def compare(app: Application, answer: dict[str, Any]) -> list[str]:
    """Every difference between ``app`` and the History Server's answer, as text."""
    problems: list[str] = []
    mine = {(s.stage_id, s.attempt_id): s for s in app.stages}
    if len(mine) != len(answer["stages"]):
        problems.append(f"stage attempts: shs={len(answer['stages'])} mine={len(mine)}")
    for s in answer["stages"]:
        key = (s["stageId"], s["attemptId"])
        stage = mine.get(key)
        if stage is None:
            problems.append(f"stage {key} missing")
            continue
        for shs_name, path in STAGE_FIELDS.items():
            expected = s.get(shs_name)
            if shs_name in _TIME_FIELDS:
                expected = shs_time_ms(expected)
            if expected != _attr(stage, path):
                problems.append(f"stage {key} {shs_name}: shs={expected} mine={_attr(stage, path)}")
        summary = answer["task_summaries"].get(f"{key[0]}.{key[1]}")
        if summary:
            for shs_path, attr in SUMMARY_FIELDS.items():
                expected = summary.get(".".join(shs_path))
                got = _as_list(getattr(stage.tasks, attr))
                if expected and expected != got:
                    problems.append(
                        f"stage {key} taskSummary {'.'.join(shs_path)}: shs={expected} mine={got}"
                    )
    problems += _compare_app(app, answer["application"])
    return problems


def _compare_app(app: Application, expected: dict[str, Any]) -> list[str]:
    attempts = ([a for a in expected["attempts"] if a.get("attemptId") == app.attempt_id]
                or expected["attempts"])
    a = attempts[0]
    problems = []
    if expected["id"] != app.app_id:
        problems.append(f"app id: shs={expected['id']} mine={app.app_id}")
    if expected["name"] != app.name:
        problems.append(f"app name: shs={expected['name']} mine={app.name}")
    if a["completed"] != app.complete:
        problems.append(f"completed: shs={a['completed']} mine={app.complete}")
    if a.get("startTimeEpoch") != app.start_time_ms:
        problems.append(f"start: shs={a.get('startTimeEpoch')} mine={app.start_time_ms}")
    if a["completed"] and a.get("duration") != app.duration_ms:
        problems.append(f"duration: shs={a.get('duration')} mine={app.duration_ms}")
    if a.get("sparkUser") not in (None, "") and a.get("sparkUser") != app.user:
        problems.append(f"user: shs={a.get('sparkUser')} mine={app.user}")
    if a.get("appSparkVersion") and a.get("appSparkVersion") != app.spark_version:
        problems.append(f"spark version: shs={a.get('appSparkVersion')} mine={app.spark_version}")
    return problems
