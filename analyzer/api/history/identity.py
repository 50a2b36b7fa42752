"""Which job definition a run belongs to: the stable key that groups runs into a recurring application.

Why: a nightly job gets a fresh application id every night and often a name with the date in
it (``etl-2026-11-30``, ``load_batch_0042``); Dr. Elephant grouped runs per job definition, and
so do we. The key is, first match wins: a configured property (``spark.app.name``, or any
other), the Airflow dag and task ids a run carries in its properties (OpenLineage's
``spark.openlineage.parentJobName`` or ``spark.airflow.dag_id``/``task_id``), a Databricks
job id, else the application name with dates, hex ids and digits normalised. For warehouses:
the dbt model named in the Snowflake ``query_tag`` (JSON) or BigQuery job labels, else the
query pattern's fingerprint.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence

from analyzer.core.model import Application

_DATE = re.compile(r"\d{4}[-_/.]?\d{2}[-_/.]?\d{2}([T _-]?\d{2}[:_-]?\d{2}([:_-]?\d{2})?)?")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_DIGITS = re.compile(r"\d+")
_DATABRICKS_JOB = re.compile(r"\bjob-(\d+)-run-\d+")
AIRFLOW_KEYS = (("spark.airflow.dag_id", "spark.airflow.task_id"),)
OPENLINEAGE_PARENT = "spark.openlineage.parentJobName"
DBT_KEYS = ("dbt_model", "node_id", "dbt_node_id", "model")


def log_key(display: str) -> str:
    """A log's key in the store: local paths made absolute (the same file named relatively or not)."""
    return display if "://" in display else os.path.abspath(display)


def normalise_name(name: str) -> str:
    """``etl-2026-11-30 run 42`` -> ``etl-<date> run <n>``: what stays the same from run to run."""
    text = _DATE.sub("<date>", name)
    text = _HEX.sub("<id>", text)
    return _DIGITS.sub("<n>", text).strip()


def spark_app_key(app: Application, key_properties: Sequence[str] = ()) -> str:
    """The recurring-application key of one Spark run (see the module docstring for the order)."""
    props = app.properties
    for prop in key_properties:
        if props.get(prop):
            return f"spark:{prop}={props[prop]}"
    for dag_key, task_key in AIRFLOW_KEYS:
        if props.get(dag_key):
            return f"spark:airflow={props[dag_key]}.{props.get(task_key, '')}".rstrip(".")
    if props.get(OPENLINEAGE_PARENT):
        return f"spark:airflow={props[OPENLINEAGE_PARENT]}"
    job = databricks_job_id(props)
    if job:
        return f"spark:databricks-job={job}"
    return f"spark:{normalise_name(app.name or '')}"


def databricks_job_id(props: Mapping[str, str]) -> str | None:
    """The Databricks job id from the job-cluster name or the cluster's ``JobId`` tag."""
    for key in ("spark.databricks.job.id", "spark.databricks.clusterUsageTags.jobId"):
        if props.get(key):
            return props[key]
    match = _DATABRICKS_JOB.search(props.get("spark.databricks.clusterUsageTags.clusterName", ""))
    if match:
        return match[1]
    return cluster_tags(props).get("JobId")


def cluster_tags(props: Mapping[str, str]) -> dict[str, str]:
    """Databricks cluster tags (``clusterAllTags``, a JSON list of key/value objects)."""
    raw = props.get("spark.databricks.clusterUsageTags.clusterAllTags")
    if not raw:
        return {}
    try:
        items = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(items, list):
        return {}
    return {str(i["key"]): str(i["value"]) for i in items
            if isinstance(i, dict) and "key" in i and "value" in i}


def tag_values(labels: Mapping[str, str]) -> dict[str, str]:
    """A query's labels with a JSON ``query_tag`` (dbt's) opened into its keys; the raw tag stays."""
    out = dict(labels)
    tag = labels.get("query_tag")
    if tag and tag.lstrip().startswith("{"):
        try:
            parsed = json.loads(tag)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            out.update({str(k): str(v) for k, v in parsed.items() if isinstance(v, str | int | float)})
    return out


def dbt_model(labels: Mapping[str, str]) -> str | None:
    """The dbt model a query ran for, from its opened tags or labels."""
    for key in DBT_KEYS:
        if labels.get(key):
            return labels[key]
    return None
