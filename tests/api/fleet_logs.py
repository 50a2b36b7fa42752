"""Replays of real event logs as new runs: fresh application ids, moved in time, times or input stretched.

The fleet tests and the incremental benchmark need many runs of one application. Rewriting a
real log keeps every event Spark wrote; only the run's identity and clocks change. Every
timestamp moves to ``start_ms`` and its distance from the application start is multiplied
by ``time_factor`` (task, stage, job and application times alike, so each stage takes that
much longer); task run times scale with it. ``input_factor`` multiplies the bytes and
records read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "data" / "spark-events"
SAMPLE = EVENTS / "apache-spark/spark-events/local-1430917381534"  # Spark shell, 2 stages, input read
SAMPLE_ID = "local-1430917381534"
TIME_KEYS = {
    "Timestamp",
    "Launch Time",
    "Finish Time",
    "Submission Time",
    "Completion Time",
    "Getting Result Time",
}
DURATION_KEYS = {"Executor Run Time", "Executor Deserialize Time", "JVM GC Time"}
INPUT_KEYS = {"Bytes Read", "Records Read"}
DAY_MS = 86_400_000


def _first_time(lines: list[str]) -> int:
    for line in lines:
        event = json.loads(line)
        if event.get("Event") == "SparkListenerApplicationStart":
            return int(event["Timestamp"])
    raise ValueError("no application start")


def _walk(node: Any, fix: Any, parent: str = "") -> Any:
    if isinstance(node, dict):
        return {k: fix(k, parent, _walk(v, fix, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, fix, parent) for v in node]
    return node


def replay(
    folder: Path,
    app_id: str,
    start_ms: int,
    *,
    time_factor: float = 1.0,
    input_factor: float = 1.0,
    source: Path = SAMPLE,
    source_id: str = SAMPLE_ID,
    extra_properties: dict[str, str] | None = None,
    app_name: str | None = None,
) -> Path:
    """Write ``source`` as the run ``app_id`` starting at ``start_ms`` into ``folder``; returns the file."""
    lines = source.read_text().splitlines()
    t0 = _first_time(lines)

    def fix(key: str, parent: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        if key in TIME_KEYS and value > 1_000_000_000_000:
            return int(start_ms + (value - t0) * time_factor)
        if key in DURATION_KEYS:
            return int(value * time_factor)
        if key in INPUT_KEYS and parent == "Input Metrics":
            return int(value * input_factor)
        return value

    out = []
    for line in lines:
        event = _walk(json.loads(line.replace(source_id, app_id)), fix)
        if extra_properties and event.get("Event") == "SparkListenerEnvironmentUpdate":
            event["Spark Properties"].update(extra_properties)
        if app_name is not None and event.get("Event") == "SparkListenerApplicationStart":
            event["App Name"] = app_name
        out.append(json.dumps(event, separators=(",", ":")))
    path = folder / app_id
    path.write_text("\n".join(out) + "\n")
    return path
