"""The weekly deanalyze audit as an Airflow DAG: one task per audit source, then the summary.

Why one task per source: a source that fails (an expired Snowflake password, a BigQuery
quota) is retried on its own, with backoff, without re-reading the others, and the
Airflow grid shows at a glance which source is stale. Each task runs the ``deanalyze`` CLI,
the product's interface; this file never imports deanalyze. It reads the audit TOML only
to learn the sources' names, so that the DAG has one task per source.

The ISO week comes from the run's data interval (Monday 06:00 UTC to the next Monday
06:00): re-running a past interval writes the same week folder, and deanalyze replaces
its files atomically, so a re-run is idempotent.

Settings (read where noted):

- ``DEANALYZE_AUDIT_CONFIG`` (environment, or the Airflow Variable of that name set as
  ``AIRFLOW_VAR_DEANALYZE_AUDIT_CONFIG``; read when the DAG file is parsed, since the
  sources decide the tasks): the audit config. Default: ``examples/audit.toml`` beside
  this folder, the bundled example.
- Output folder, per run: the DAG param ``output_dir``, else the Airflow Variable
  ``deanalyze_audit_output_dir``, else ``$DEANALYZE_AUDIT_OUTPUT_DIR``, else the config's
  ``[output] dir``.
- ``DEANALYZE_BIN`` (environment): the deanalyze command (default ``deanalyze`` on PATH),
  e.g. ``/opt/deanalyze/bin/deanalyze`` when deanalyze lives in a venv of its own.
- ``DEANALYZE_AUDIT_RETRIES`` (environment): retries per source task (default 3, with
  exponential backoff from 5 minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, CronDataIntervalTimetable, Param
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator
    from airflow.timetables.interval import CronDataIntervalTimetable

log = logging.getLogger(__name__)

DAG_ID = "deanalyze_weekly_audit"
SCHEDULE = "0 6 * * 1"  # Mondays 06:00 UTC: the data interval is the week that just ended
FAIL_ON = ["never", "low", "medium", "high", "critical"]
EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "audit.toml"

CONFIG = Path(os.environ.get("DEANALYZE_AUDIT_CONFIG")
              or os.environ.get("AIRFLOW_VAR_DEANALYZE_AUDIT_CONFIG")
              or EXAMPLE_CONFIG).expanduser().resolve()
DEANALYZE = os.environ.get("DEANALYZE_BIN", "deanalyze")
OUTPUT_DIR_DEFAULT = os.environ.get("DEANALYZE_AUDIT_OUTPUT_DIR", "")
RETRIES = int(os.environ.get("DEANALYZE_AUDIT_RETRIES", "3"))


def on_audit_failure(context: dict[str, Any]) -> None:
    """Called by Airflow when an audit task fails (after its last retry): replace it to alert people.

    The example only logs. To post to Slack instead, install
    ``apache-airflow-providers-slack`` and, for example::

        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        SlackWebhookHook(slack_webhook_conn_id="slack_audit").send(text=failure_message(context))
    """
    log.error("%s", failure_message(context))


def failure_message(context: dict[str, Any]) -> str:
    """One line naming the task, the run, the try and where the log is."""
    ti = context.get("task_instance") or context.get("ti")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or getattr(context.get("dag_run"), "run_id", "?")
    url = getattr(ti, "log_url", "")
    return (f"deanalyze audit task {task_id} failed (run {run_id}, try {getattr(ti, 'try_number', '?')}): "
            f"{context.get('exception')}" + (f" - log: {url}" if url else ""))


def audit_week(data_interval_start: dt.datetime | None, dag_run: Any = None) -> str:
    """``YYYY-Www`` of the data interval's start: the same week whenever the interval is re-run.

    A run without a data interval (an Airflow 3 manual run without a logical date) audits
    the week before the run, as a scheduled run at that moment would.
    """
    start = data_interval_start
    if start is None:
        start = (getattr(dag_run, "run_after", None) or dt.datetime.now(dt.UTC)) - dt.timedelta(days=7)
    year, week, _ = start.astimezone(dt.UTC).isocalendar()
    return f"{year:04d}-W{week:02d}"


def source_names(config: Path) -> list[str]:
    """The ``name`` of every source table (``[[spark]]``, ``[[snowflake]]``, ``[[bigquery]]``, ...).

    Only the names, and whatever kinds of source deanalyze knows: deanalyze itself validates
    the config when the tasks run, and says exactly what is wrong in the task log.
    """
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"deanalyze audit config {config}: {err} (set DEANALYZE_AUDIT_CONFIG)") from err
    names = [str(table["name"]) for section, tables in data.items() if section != "output"
             and isinstance(tables, list) for table in tables if isinstance(table, dict) and "name" in table]
    if not names:
        raise ValueError(f"deanalyze audit config {config}: no source ([[spark]], [[snowflake]], ...)")
    return names


# Values templated per run, handed to bash as environment variables (never pasted into the command).
RUN_ENV = {
    "DEANALYZE_BIN": DEANALYZE,
    "AUDIT_CONFIG": str(CONFIG),
    "AUDIT_WEEK": "{{ audit_week(data_interval_start, dag_run) }}",
    "AUDIT_OUTPUT_DIR": "{{ params.output_dir or var.value.get('deanalyze_audit_output_dir', "
                        + json.dumps(OUTPUT_DIR_DEFAULT) + ") }}",
    "AUDIT_FAIL_ON": "{{ params.fail_on }}",
}
AUDIT = ('"$DEANALYZE_BIN" audit --config "$AUDIT_CONFIG" --week "$AUDIT_WEEK" --fail-on "$AUDIT_FAIL_ON"'
         ' ${AUDIT_OUTPUT_DIR:+--output-dir "$AUDIT_OUTPUT_DIR"}')

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": RETRIES,  # live warehouse reads fail transiently (network, quotas, expired sessions)
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,  # 5, 10, 20 minutes (Airflow 2.x reads it as True)
    "max_retry_delay": dt.timedelta(hours=1),
    "execution_timeout": dt.timedelta(hours=2),
    "on_failure_callback": on_audit_failure,
}

with DAG(
    dag_id=DAG_ID,
    description="Weekly deanalyze audit: one report per source, then the week's summary",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    start_date=dt.datetime(2026, 1, 5, 6, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # two runs of the same week must not race on its folder
    default_args=DEFAULT_ARGS,
    user_defined_macros={"audit_week": audit_week},
    params={
        "output_dir": Param("", type="string",
                            description="Folder for <week>/ (empty: Variable, env, or the config's dir)"),
        "fail_on": Param("never", enum=FAIL_ON, description="Fail a task when a finding is this severe"),
    },
    tags=["deanalyze", "cost"],
    doc_md=__doc__,
) as dag:
    summary = BashOperator(
        task_id="summary",
        bash_command=AUDIT + " --summary-only",
        env=RUN_ENV,
        append_env=True,
        trigger_rule="all_done",  # summarise what the sources left, failed ones included
        retries=min(RETRIES, 1),
    )
    for name in source_names(CONFIG):
        BashOperator(
            task_id=f"audit_{name}",
            bash_command=AUDIT + ' --source "$AUDIT_SOURCE"',
            env={**RUN_ENV, "AUDIT_SOURCE": name},
            append_env=True,
        ) >> summary
