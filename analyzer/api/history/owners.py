"""Who pays: attribution keys per source, tried in order, the first present one names the owner.

Why configurable: teams encode ownership differently (a YARN queue, a Kubernetes namespace,
Databricks cluster tags, a dbt ``meta`` key in the Snowflake ``query_tag``, BigQuery job
labels), as dbt-snowflake-monitoring attributes credits to whatever tag the team uses. A
key is a short spec:

- Spark: ``prop:<spark property>``, ``tag:<Databricks cluster tag>``, ``user``
- Snowflake: ``tag:<key>`` (a key of a JSON ``query_tag``, dbt's included), ``query_tag``,
  ``user``, ``warehouse``
- BigQuery: ``label:<key>`` (job labels, dbt's included), ``user``, ``reservation``, ``project``

An owner is written ``<key>=<value>`` (``spark.yarn.queue=etl``) so owners from different
keys never merge. Runs no key matches are the unattributed share, shown as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analyzer.api.history.identity import cluster_tags
from analyzer.core.model import Application

DEFAULT_OWNER_KEYS: dict[str, tuple[str, ...]] = {
    "spark": ("tag:team", "prop:spark.yarn.queue", "prop:spark.kubernetes.namespace", "user"),
    "snowflake": ("tag:team", "tag:owner", "user", "warehouse"),
    "bigquery": ("label:team", "label:owner", "user", "reservation"),
}
_PREFIXES = {"spark": ("prop:", "tag:"), "snowflake": ("tag:",), "bigquery": ("label:", "tag:")}
_PLAIN = {"spark": ("user",), "snowflake": ("query_tag", "role", "user", "warehouse"),
          "bigquery": ("user", "reservation", "project")}


def check_owner_keys(kind: str, keys: Sequence[str]) -> tuple[str, ...]:
    """The keys, validated for ``kind``; raises ``ValueError`` (one line) on an unknown spec."""
    for key in keys:
        if key in _PLAIN[kind] or (key.startswith(_PREFIXES[kind]) and key.split(":", 1)[1]):
            continue
        allowed = ", ".join([*_PLAIN[kind], *(p + "<name>" for p in _PREFIXES[kind])])
        raise ValueError(f"owner key {key!r} is not one of {allowed} for {kind}")
    return tuple(keys)


def spark_owner(app: Application, keys: Sequence[str]) -> tuple[str | None, str | None]:
    """(owner, key that matched) of one Spark run; (None, None) when no key matches."""
    tags: dict[str, str] | None = None
    for key in keys:
        value: str | None = None
        if key == "user":
            value = app.user
        elif key.startswith("prop:"):
            value = app.properties.get(key[5:])
        elif key.startswith("tag:"):
            tags = cluster_tags(app.properties) if tags is None else tags
            value = tags.get(key[4:])
        if value:
            name = key.split(":", 1)[1] if ":" in key else key
            return f"{name}={value}", key
    return None, None


def warehouse_owner(labels: Mapping[str, str], columns: Mapping[str, str | None],
                    keys: Sequence[str]) -> tuple[str | None, str | None]:
    """(owner, key) of one query: ``labels`` are its opened tags/labels, ``columns`` user, warehouse..."""
    for key in keys:
        if key.startswith(("tag:", "label:")):
            value = labels.get(key.split(":", 1)[1])
        elif key == "query_tag":
            value = labels.get("query_tag")
        else:
            value = columns.get("warehouse" if key == "reservation" else key)
        if value:
            name = key.split(":", 1)[1] if ":" in key else key
            return f"{name}={value}", key
    return None, None
