"""The example Airflow DAG in real Apache Airflow, over the bundled data.

Airflow lives in a virtual environment of its own (``.ci/airflow-venv.sh``, default
``/opt/deanalyze-airflow``, or ``$DEANALYZE_AIRFLOW_VENV``); each check runs a short script
with that venv's python, an ``AIRFLOW_HOME`` in a temporary folder and a SQLite metadata
database made by ``airflow db migrate``. The tasks run this checkout's ``deanalyze``
command (``DEANALYZE_BIN``), so the test checks the DAG against the CLI under test.

Skipped when the venv is missing, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "examples/airflow"
EXAMPLE = REPO / "examples/audit.toml"
VENV = Path(os.environ.get("DEANALYZE_AIRFLOW_VENV", "/opt/deanalyze-airflow"))
DAG_ID = "deanalyze_weekly_audit"
LOGICAL_DATE = "2026-11-23T06:00:00+00:00"  # a Monday: the data interval is 2026-11-16 06:00 to this
WEEK = "2026-W47"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")  # generated_at of reports and summary

pytestmark = pytest.mark.airflow

LOAD = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.2
except ImportError:
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get(sys.argv[2])
tasks = {t.task_id: {"upstream": sorted(t.upstream_task_ids), "retries": t.retries,
                     "backoff": float(t.retry_exponential_backoff), "trigger_rule": str(t.trigger_rule),
                     "callbacks": [f.__name__ for f in (t.on_failure_callback or [])]}
         for t in (dag.tasks if dag else [])}
print("RESULT " + json.dumps({"errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                              "tasks": tasks, "timetable": str(dag.timetable) if dag else None}))
"""

RUN = """
import datetime as dt, json, sys
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.2
except ImportError:
    from airflow.models.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
conf = json.loads(sys.argv[4])
run = dag.test(logical_date=dt.datetime.fromisoformat(sys.argv[3]), run_conf=conf or None)
states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
print("RESULT " + json.dumps({"state": str(run.state), "tasks": states,
                              "interval": [str(run.data_interval_start), str(run.data_interval_end)]}))
"""


def venv_python() -> Path:
    """The Airflow venv's python; skip (or fail under CI) when it is not there."""
    python = VENV / "bin/python"
    probe = [python, "-c", "import airflow"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    message = f"no Apache Airflow venv at {VENV}: run .ci/airflow-venv.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def deanalyze_bin() -> str:
    """This checkout's deanalyze command (the one the rest of the suite tests)."""
    exe = shutil.which("deanalyze", path=str(Path(sys.executable).parent)) or shutil.which("deanalyze")
    assert exe, "the deanalyze command is not installed (pip install -e .)"
    return exe


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The venv's python and an environment with a fresh AIRFLOW_HOME whose database is migrated."""
    python = venv_python()
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DEANALYZE_", "VIRTUAL_ENV"))}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "DEANALYZE_BIN": deanalyze_bin(), "DEANALYZE_AUDIT_CONFIG": str(EXAMPLE),
    })
    migrate = subprocess.run([python, "-m", "airflow", "db", "migrate"], env=env, cwd=home,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    return {"python": python, "env": env, "home": home}


def in_airflow(airflow: dict[str, Any], script: str, *args: str, **env: str) -> tuple[dict[str, Any], str]:
    """Run ``script`` with the venv's python; its ``RESULT {json}`` line and the whole output."""
    result = subprocess.run([airflow["python"], "-c", script, str(DAGS), DAG_ID, *args],
                            env={**airflow["env"], **env}, cwd=airflow["home"],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, output[-6000:]
    return json.loads(lines[-1][len("RESULT "):]), output


def source_names(config: Path) -> list[str]:
    data = tomllib.loads(config.read_text())
    return [t["name"] for section, tables in data.items() if section != "output" for t in tables]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the week folder, with the run's timestamps masked."""
    return {str(p.relative_to(folder)): STAMP.sub("<stamp>", p.read_text(errors="replace"))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_dagbag_has_one_task_per_source_and_a_summary(airflow: dict[str, Any]) -> None:
    result, output = in_airflow(airflow, LOAD)
    assert result["errors"] == {}, output[-4000:]
    sources = {f"audit_{name}" for name in source_names(EXAMPLE)}
    tasks = result["tasks"]
    assert set(tasks) == sources | {"summary"} and len(sources) == 3
    assert set(tasks["summary"]["upstream"]) == sources
    assert tasks["summary"]["trigger_rule"] in ("all_done", "TriggerRule.ALL_DONE")
    for task_id in sources:
        assert tasks[task_id]["retries"] >= 1 and tasks[task_id]["backoff"] > 1
    assert all(t["callbacks"] == ["on_audit_failure"] for t in tasks.values())
    assert "0 6 * * 1" in result["timetable"] and "CronDataIntervalTimetable" in result["timetable"]


@pytest.fixture(scope="module")
def two_runs(airflow: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same interval run twice through ``dag.test()``, the output folder given as a DAG param."""
    out = tmp_path_factory.mktemp("audit-out")
    conf = json.dumps({"output_dir": str(out)})
    first, _ = in_airflow(airflow, RUN, LOGICAL_DATE, conf)
    files = snapshot(out / WEEK)
    second, _ = in_airflow(airflow, RUN, LOGICAL_DATE, conf)
    return {"out": out, "first": first, "second": second, "files": files}


def test_dag_run_writes_the_week_folder(two_runs: dict[str, Any]) -> None:
    run = two_runs["first"]
    assert run["state"] in ("success", "DagRunState.SUCCESS"), run
    assert run["interval"][0].startswith("2026-11-16 06:00")  # the week the interval covers
    folder = two_runs["out"] / WEEK
    assert [p.name for p in two_runs["out"].iterdir()] == [WEEK]
    names = {p.name for p in folder.iterdir() if p.is_file()}
    for source in source_names(EXAMPLE):
        assert {f"{source}.md", f"{source}.json", f"{source}.html"} <= names
    assert {"summary.json", "summary.md"} <= names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["week"] == WEEK and summary["exit_code"] == 0
    assert sorted(s["name"] for s in summary["sources"]) == sorted(source_names(EXAMPLE))
    assert all(s["status"] == "ok" and s["total_usd"] > 0 for s in summary["sources"])


def test_rerunning_the_interval_is_idempotent(two_runs: dict[str, Any]) -> None:
    assert two_runs["second"]["state"] == two_runs["first"]["state"]
    assert snapshot(two_runs["out"] / WEEK) == two_runs["files"]
    assert not [p for p in two_runs["out"].rglob(".deanalyze-*")]  # no temporary file left


def test_a_failed_source_is_reported_and_summarised(airflow: dict[str, Any], tmp_path: Path) -> None:
    """No retries: the bad source's task fails (the callback logs it), the summary still runs."""
    warehouse = REPO / "tests/data/warehouse"
    config = tmp_path / "audit.toml"
    config.write_text(f"""
[output]
formats = ["json"]

[[snowflake]]
name = "good"
query_history_file = "{warehouse / 'snowflake_query_history.csv'}"
metering_file = "{warehouse / 'snowflake_warehouse_metering.csv'}"

[[snowflake]]
name = "lost"
query_history_file = "no-such-export.csv"
""")
    run, output = in_airflow(airflow, RUN, LOGICAL_DATE, "{}", DEANALYZE_AUDIT_CONFIG=str(config),
                             DEANALYZE_AUDIT_RETRIES="0", DEANALYZE_AUDIT_OUTPUT_DIR=str(tmp_path / "out"))
    tasks = {k: v.rsplit(".", 1)[-1].lower() for k, v in run["tasks"].items()}
    assert tasks == {"audit_good": "success", "audit_lost": "failed", "summary": "failed"}, run
    assert "deanalyze audit task audit_lost failed" in output
    summary = json.loads((tmp_path / "out" / WEEK / "summary.json").read_text())
    status = {s["name"]: (s["status"], s["exit_code"]) for s in summary["sources"]}
    assert status == {"good": ("ok", 0), "lost": ("failed", 3)} and summary["exit_code"] == 3
