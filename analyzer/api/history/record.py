"""A finished ``Report`` into rows of the history: runs, stages, findings, warehouse hours.

Why these rows and not the whole report: trends and regressions need per run its identity,
timing, cost and input, and per stage its wall-clock and task time; the findings are kept
with the rule, severity, subject and saving so they can be followed from run to run. The
full normalised application already sits in ``log_files`` for incremental reads. Warehouse
histories are summed per hour x query pattern (or dbt model) x warehouse/reservation x owner,
as dbt-snowflake-monitoring attributes credits: a million queries become a few thousand rows.

Recording is idempotent: a run recorded again (the same log in next week's audit) replaces
its rows (or is left alone when nothing changed), and a warehouse window replaces the hours
it covers for that source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from analyzer import __version__
from analyzer.api.history.code_version import rules_version
from analyzer.api.history.identity import log_key, spark_app_key
from analyzer.api.history.owners import DEFAULT_OWNER_KEYS, spark_owner
from analyzer.api.history.store import HistoryStore
from analyzer.core.findings import Finding
from analyzer.core.report import Report

RUN_IDS = ("app_id", "attempt_id", "app_name")


def rules_hash(rules_config: object | None) -> str:
    """A short hash of the rules' code and the effective rules config: what produced the findings."""
    return hashlib.sha256(f"{rules_version()} {rules_config!r}".encode()).hexdigest()[:16]


def finding_key(finding: Finding) -> str:
    """``rule_id`` + subject without the run ids, so one job's finding is the same from run to run."""
    subject = {k: v for k, v in finding.subject.items() if k not in RUN_IDS}
    return f"{finding.rule_id} {json.dumps(subject, sort_keys=True, default=str)}"


def _ts(ms: float | None) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(tzinfo=None)


def run_key(app_id: str, attempt_id: str | None, start_time_ms: int | None) -> str:
    """The primary key of a Spark run in ``runs``: the start time tells apart application ids a
    cluster reuses (``local-...`` on two laptops, a YARN id after a ResourceManager reset)."""
    return f"spark:{app_id}/{attempt_id or ''}@{start_time_ms if start_time_ms is not None else ''}"


def record_spark(store: HistoryStore, report: Report, *, source_name: str = "",
                 key_properties: Sequence[str] = (), owner_keys: Sequence[str] | None = None,
                 rules_config: object | None = None) -> int:
    """Store every application of a Spark report; returns the number of runs written.

    A run already stored with the same log, key, owner, cost, deanalyze version and rules
    config is left as it is: an unchanged rerun writes nothing.
    """
    owner_keys = DEFAULT_OWNER_KEYS["spark"] if owner_keys is None else owner_keys
    now, rhash = dt.datetime.now(dt.UTC).replace(tzinfo=None), rules_hash(rules_config)
    costs = {(c.app_id, c.attempt_id): c for c in report.costs}
    apps = report.applications
    stored = _signatures(store, [run_key(a.app_id, a.attempt_id, a.start_time_ms) for a in apps])
    runs, stages, keys = [], [], {}
    for app in report.applications:
        key = run_key(app.app_id, app.attempt_id, app.start_time_ms)
        cost = costs.get((app.app_id, app.attempt_id))
        app_key, (owner, owner_key) = spark_app_key(app, key_properties), spark_owner(app, owner_keys)
        start = _ts(app.start_time_ms)
        total, saved = (None, None) if cost is None else (cost.total_usd, cost.savings_usd)
        log = log_key(app.source)
        if stored.get(key) == (source_name, app_key, log, owner, total, saved, __version__, rhash):
            continue
        keys[(app.app_id, app.attempt_id)] = (key, app_key, None if start is None else start.date())
        runs.append([
            key, "spark", source_name, app_key, app.app_id, app.attempt_id, app.name, app.user, log,
            None, None if start is None else start.date(), start, _ts(app.end_time_ms), app.duration_ms,
            total,
            None if cost is None else cost.executor_core_hours,
            None if cost is None else json.dumps(cost.ledger_usd), saved,
            sum(s.metrics.input_bytes for s in app.stages),
            sum(s.metrics.shuffle_read_bytes for s in app.stages),
            sum(s.metrics.output_bytes for s in app.stages),
            sum(sum(s.task_durations_ms) for s in app.stages),
            owner, owner_key, json.dumps(dict(app.properties), sort_keys=True), __version__, rhash, now])
        stages += [[key, s.stage_id, s.attempt_id, s.name, s.status, s.num_tasks, s.duration_ms,
                    sum(s.task_durations_ms), s.metrics.input_bytes, s.metrics.shuffle_read_bytes,
                    s.metrics.shuffle_write_bytes,
                    s.metrics.memory_bytes_spilled + s.metrics.disk_bytes_spilled,
                    None if s.tasks.duration_ms is None else s.tasks.duration_ms.p50,
                    None if s.tasks.duration_ms is None else s.tasks.duration_ms.max] for s in app.stages]
    findings = []
    for f in report.findings:
        attempt = f.subject.get("attempt_id")
        found = keys.get((str(f.subject.get("app_id")), None if attempt is None else str(attempt)))
        if found is not None:
            findings.append([found[0], "spark", source_name, found[1], found[2], now, f.rule_id, f.severity,
                             finding_key(f), json.dumps(dict(f.subject), default=str), f.title,
                             f.estimated_savings_usd])
    if runs:
        _replace(store, "runs", "run_key", [r[0] for r in runs], runs)
        _replace(store, "stages", "run_key", [r[0] for r in runs], stages)
        _replace(store, "findings", "run_key", [r[0] for r in runs], findings)
        store.execute("UPDATE runs SET fingerprint = l.fingerprint FROM log_files l "
                      "WHERE runs.log_source = l.source_key AND runs.fingerprint IS NULL")
    return len(runs)


def _signatures(store: HistoryStore, keys: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """What each stored run was recorded with, to leave unchanged runs alone."""
    if not keys:
        return {}
    rows = store.execute("SELECT run_key, source_name, app_key, log_source, owner, cost_usd, savings_usd, "
                         "tool_version, rules_hash FROM runs WHERE run_key IN (SELECT unnest(?::VARCHAR[]))",
                         [list(keys)]).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _replace(store: HistoryStore, table: str, column: str, keys: Sequence[Any],
             rows: list[list[Any]]) -> None:
    """Delete the rows of ``keys`` and insert ``rows`` (through Arrow: one statement, not one per row)."""
    import pyarrow as pa

    if keys:
        frame = pa.table({"k": pa.array(list(keys), type=pa.string())})
        store.db.register("old_keys", frame)
        store.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT k FROM old_keys)")
        store.db.unregister("old_keys")
    _insert(store, table, rows)


def _insert(store: HistoryStore, table: str, rows: list[list[Any]]) -> None:
    if not rows:
        return
    import pyarrow as pa

    names = [d[0] for d in store.execute(f"SELECT * FROM {table} LIMIT 0").description]
    columns = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    store.db.register("new_rows", pa.table(columns))
    store.execute(f"INSERT INTO {table} SELECT * FROM new_rows")
    store.db.unregister("new_rows")


def record_warehouse(store: HistoryStore, report: Report, *, source_name: str = "",
                     owner_keys: Mapping[str, Sequence[str]] | None = None,
                     rules_config: object | None = None) -> int:
    """Store a warehouse report's histories as hour x pattern x warehouse x owner rows; returns the rows.

    The rows of the hours the history's window touches are replaced: a window that overlaps an
    earlier one (weekly live reads, a re-recorded export) counts every query once. Only an
    edge hour the new window covers in part loses the earlier window's part of that hour.
    """
    from analyzer.api.history.warehouse_rows import usage_rows

    now, rhash = dt.datetime.now(dt.UTC).replace(tzinfo=None), rules_hash(rules_config)
    total = 0
    for history, cost in zip(report.warehouses, report.warehouse_costs, strict=True):
        keys = (owner_keys or {}).get(history.vendor) or DEFAULT_OWNER_KEYS[history.vendor]
        rows = usage_rows(history, cost, keys)
        name = source_name or history.source
        window = _window_hours(history.window_start_ms, history.window_end_ms, [r["hour"] for r in rows])
        if window is not None:
            store.execute("DELETE FROM warehouse_usage WHERE source_name = ? AND kind = ? "
                          "AND hour BETWEEN ? AND ?", [name, history.vendor, *window])
        _insert(store, "warehouse_usage", [[history.vendor, name, r["day"], r["app_key"], r["pattern"],
                                            r["warehouse"], r["owner"], r["owner_key"], r["runs"],
                                            r["bytes_scanned"], r["credits"], r["slot_hours"],
                                            r["execution_ms"], r["cost_usd"], r["example_sql"], __version__,
                                            rhash, now, r["hour"]] for r in rows])
        end = max(r["day"] for r in rows) if rows else now.date()
        key = f"{history.vendor}:{name}:{end}"
        found = [[key, history.vendor, name, f"{history.vendor}:{name}", end, now, f.rule_id, f.severity,
                  finding_key(f), json.dumps(dict(f.subject), default=str), f.title, f.estimated_savings_usd]
                 for f in report.findings if _belongs(f, history.vendor)]
        _replace(store, "findings", "run_key", [key], found)
        recording = [key, history.vendor, name, f"{history.vendor}:{name}", end, now]
        _replace(store, "recordings", "run_key", [key], [recording])
        total += len(rows)
    return total


def _window_hours(start_ms: float | None, end_ms: float | None,
                  hours: Sequence[dt.datetime]) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last hour a history's window touches (its queries' hours when it names none)."""
    def hour(ms: float | None, fallback: dt.datetime | None) -> dt.datetime | None:
        stamp = _ts(ms)
        return fallback if stamp is None else stamp.replace(minute=0, second=0, microsecond=0)

    first = hour(start_ms, min(hours) if hours else None)
    last = hour(end_ms, max(hours) if hours else None)
    return None if first is None or last is None else (first, last)


def _belongs(finding: Finding, vendor: str) -> bool:
    return finding.rule_id.startswith(vendor) or finding.rule_id.startswith("warehouse.")
