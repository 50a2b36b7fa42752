"""Recurring applications from the store: runs grouped by job definition, with cost and trends.

Why here and not in SQL alone: the grouping key is computed when a run is recorded
(``identity``), so this module only reads rows back, orders each application's runs, and
adds what a person asks first: cost per run and per month, whether duration and input are
trending, and which runs regressed (``regressions``). A warehouse pattern's or dbt model's
"run" is one day of its queries; its stages are the query patterns under the key.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import statistics
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from analyzer.api.history.regressions import StageTimes, find_regressions
from analyzer.api.history.store import HistoryStore
from analyzer.core.fleet import RecurringApp, Regression, RunSummary

DAYS_PER_MONTH = 30.44
TREND_RUNS = 3
_MS_PER_DAY = 86_400_000


def _epoch_ms(value: dt.datetime | dt.date | None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return int(value.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _matches(pattern: str | None, *texts: str | None) -> bool:
    return pattern is None or any(t is not None and fnmatch.fnmatchcase(t.lower(), pattern.lower())
                                  for t in texts)


def spark_runs(store: HistoryStore, since: dt.date | None) -> list[dict[str, Any]]:
    """Every recorded Spark run since ``since``, oldest first."""
    where, params = ("WHERE day >= ?", [since]) if since else ("", [])
    return store.rows("SELECT run_key, app_key, name, app_id, attempt_id, start_time, duration_ms, "
                      f"cost_usd, input_bytes, source_name, owner FROM runs {where} "
                      "ORDER BY start_time, run_key", params)


def warehouse_days(store: HistoryStore, since: dt.date | None) -> list[dict[str, Any]]:
    """Warehouse usage per source, recurring key and day, oldest first."""
    where, params = ("WHERE day >= ?", [since]) if since else ("", [])
    return store.rows(
        "SELECT kind, source_name, app_key, day, sum(runs) AS runs, sum(cost_usd) AS cost_usd, "
        "sum(bytes_scanned) AS bytes, sum(execution_ms) AS execution_ms, min(example_sql) AS example_sql, "
        f"arg_max(owner, cost_usd) AS owner FROM warehouse_usage {where} "
        "GROUP BY kind, source_name, app_key, day ORDER BY day, app_key", params)


def recurring_apps(store: HistoryStore, *, since: dt.date | None = None,
                   pattern: str | None = None) -> tuple[list[RecurringApp], list[Regression]]:
    """Every recurring application (Spark and warehouse) matching ``pattern``, and their regressions."""
    apps: list[RecurringApp] = []
    regressions: list[Regression] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in spark_runs(store, since):
        groups.setdefault(row["app_key"], []).append(row)
    stage_cache = _StageCache(store)
    for key, rows in groups.items():
        name = rows[-1]["name"] or key
        if not _matches(pattern, name, key):
            continue
        runs = tuple(RunSummary(app_id=r["app_id"], attempt_id=r["attempt_id"],
                                start_time_ms=_epoch_ms(r["start_time"]), duration_ms=r["duration_ms"],
                                cost_usd=r["cost_usd"], input_bytes=r["input_bytes"], source=r["source_name"],
                                owner=r["owner"]) for r in rows)
        stage_cache.keys.update({id(run): r["run_key"] for run, r in zip(runs, rows, strict=True)})
        apps.append(_app(key, name, "spark", runs, per_month=_spark_per_month(runs)))
        regressions += find_regressions(key, name, runs, stage_cache.stages, stage_cache.properties)
    wh_groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in warehouse_days(store, since):
        wh_groups.setdefault((row["kind"], row["source_name"], row["app_key"]), []).append(row)
    for (kind, source, key), rows in wh_groups.items():
        name = key.split("=", 1)[1] if key.split(":", 1)[1].startswith("dbt=") else rows[-1]["example_sql"]
        if not _matches(pattern, name, key):
            continue
        runs = tuple(RunSummary(app_id=str(r["day"]), attempt_id=None, start_time_ms=_epoch_ms(r["day"]),
                                duration_ms=int(r["execution_ms"] or 0), cost_usd=float(r["cost_usd"] or 0.0),
                                input_bytes=int(r["bytes"] or 0), source=source, runs=int(r["runs"]),
                                owner=r["owner"]) for r in rows)
        days = max(1.0, ((runs[-1].start_time_ms or 0) - (runs[0].start_time_ms or 0)) / _MS_PER_DAY + 1)
        total = sum(r.cost_usd or 0.0 for r in runs)
        full_key = f"{key}@{source}"
        apps.append(_app(full_key, name or key, kind, runs, per_month=total / days * DAYS_PER_MONTH))
        times = partial(_pattern_times, store, source, key)
        regressions += find_regressions(full_key, name or key, runs, times)
    apps.sort(key=lambda a: -a.total_usd)
    regressions.sort(key=lambda r: (-(r.start_time_ms or 0), -r.change))
    return apps, regressions


def _app(key: str, name: str, kind: str, runs: tuple[RunSummary, ...],
         per_month: float | None) -> RecurringApp:
    costs = [r.cost_usd for r in runs if r.cost_usd is not None]
    total = float(sum(costs))
    owners = [r.owner for r in runs if r.owner]  # the latest run's owner: ownership moves
    return RecurringApp(key=key, name=name, kind=kind, runs=runs, total_usd=total,
                        usd_per_run=total / sum(r.runs for r in runs) if runs else None,
                        usd_per_month=per_month,
                        duration_change=_trend([r.duration_ms for r in runs]),
                        input_change=_trend([r.input_bytes for r in runs]),
                        owner=owners[-1] if owners else None)


def _trend(values: Sequence[float | None]) -> float | None:
    """Median of the last runs over the median of the first runs (None with fewer than two runs)."""
    known = [float(v) for v in values if v is not None]
    if len(known) < 2:
        return None
    n = min(TREND_RUNS, len(known) // 2)
    first, last = statistics.median(known[:n]), statistics.median(known[-n:])
    return None if first <= 0 else last / first


def _spark_per_month(runs: Sequence[RunSummary]) -> float | None:
    """Runs a month from the span of the recorded runs, times the median cost of a run."""
    starts = sorted(r.start_time_ms for r in runs if r.start_time_ms is not None)
    costs = [r.cost_usd for r in runs if r.cost_usd is not None]
    if len(starts) < 2 or not costs or starts[-1] == starts[0]:
        return None
    per_month = (len(starts) - 1) / ((starts[-1] - starts[0]) / _MS_PER_DAY) * DAYS_PER_MONTH
    return float(statistics.median(costs)) * per_month


class _StageCache:
    """Stage times and properties of Spark runs, read from the store on first use."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.keys: dict[int, str] = {}  # id(RunSummary) -> its run_key (the summaries live as long as this)

    def stages(self, run: RunSummary) -> StageTimes:
        rows = self.store.execute(
            "SELECT stage_id, any_value(name), sum(coalesce(duration_ms, 0)) FROM stages WHERE run_key = ? "
            "GROUP BY stage_id", [self.keys[id(run)]]).fetchall()
        return {str(sid): (str(name), float(ms)) for sid, name, ms in rows}

    def properties(self, run: RunSummary) -> Mapping[str, str]:
        row = self.store.one("SELECT properties FROM runs WHERE run_key = ?",
                             [self.keys[id(run)]])
        return json.loads(row[0]) if row and row[0] else {}


def _pattern_times(store: HistoryStore, source: str, key: str, run: RunSummary) -> StageTimes:
    """Execution time per query pattern under one warehouse key on one day."""
    rows = store.execute("SELECT pattern, min(example_sql), sum(execution_ms) FROM warehouse_usage "
                         "WHERE source_name = ? AND app_key = ? AND day = ? GROUP BY pattern",
                         [source, key, dt.date.fromisoformat(run.app_id)]).fetchall()
    return {str(p): (str(sql), float(ms or 0)) for p, sql, ms in rows}
