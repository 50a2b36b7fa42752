"""The history's entry points: analyse with a history, record a report, build the fleet view.

Why one module: the CLI stays thin (options parsed, one call here, one exit code) and the
weekly audit makes the same calls, so a run recorded by ``deanalyze spark-logs --history``
and one recorded by the audit are the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer import __version__
from analyzer.api.history.incremental import HistoryLogCache
from analyzer.api.history.owners import DEFAULT_OWNER_KEYS, check_owner_keys
from analyzer.api.history.record import record_spark, record_warehouse
from analyzer.api.history.recurring import recurring_apps
from analyzer.api.history.regressions import METHOD
from analyzer.api.history.store import HistoryError, HistoryStore, open_store, wait_seconds
from analyzer.api.history.tracking import finding_tracks
from analyzer.core.fleet import UNATTRIBUTED, DailyCost, FleetReport
from analyzer.core.report import Report
from analyzer.core.warehouse_model import WarehouseHistory

if TYPE_CHECKING:
    from analyzer.api.spark import LogCache
    from analyzer.core.sources import Source

METHODOLOGY = (
    "Recurring applications: Spark runs grouped by a configured property, the Airflow dag/task ids or "
    "Databricks job id in their properties, else their name with dates, ids and digits normalised; "
    "warehouse queries by the dbt model in their query tag or labels, else their query pattern (one run = "
    "one day of its queries).",
    METHOD,
    "Findings are the same finding from run to run when rule and subject (without run ids) match; realised "
    "saving = median cost of the last runs with the finding minus the median cost of the runs since.",
    "Owners: the first attribution key present on a run or query (owner keys per source); the rest is "
    "shown as unattributed.",
)


def analyze_into_history(history: str | os.PathLike[str], analyze: Callable[[LogCache], Report], *,
                         source_name: str = "", key_properties: Sequence[str] = (),
                         owner_keys: Mapping[str, Sequence[str]] | None = None,
                         rules_config: object | None = None) -> Report:
    """Run ``analyze`` with the history's log cache, then record the report it returns.

    ``analyze`` is any analysis entry point given the cache (``analyze_spark_logs(...,
    history=cache)``, a source registry's call); warehouse analyses ignore it. The history is
    opened (created, migrated) first, so an unusable one fails before a long read, but it is
    not held during the analysis: writers only wait for each other's short writes
    (``store.wait_seconds``).
    """
    wait_s = wait_seconds()
    with open_store(history, wait_s=wait_s):
        pass
    cache = HistoryLogCache(history, wait_s=wait_s)
    report = analyze(cache)
    with open_store(history, wait_s=wait_s) as store:
        store.execute("BEGIN TRANSACTION")
        cache.flush(store)
        _record(store, report, source_name, key_properties, owner_keys, rules_config)
        store.execute("COMMIT")
    return report


def analyze_source_into_history(history: str | os.PathLike[str] | None, source: Source,
                                settings: Mapping[str, Any], *, source_name: str = "",
                                owner_keys: Sequence[str] = (), app_keys: Sequence[str] = (),
                                **analyze: Any) -> Report:
    """``analyze_source`` (the CLI's and the audit's one call), recorded into ``history`` when given.

    ``owner_keys`` replace the source kind's default attribution keys (``owners``);
    ``app_keys`` are Spark properties that name a recurring application (``identity``).
    Raises ``HistoryError`` for an unusable or busy history or a bad owner key.
    """
    from analyzer.api.analyze import analyze_source

    if history is None:
        return analyze_source(source, settings, **analyze)
    kind = "spark" if source.kind == "spark" else source.name
    try:
        keys = check_owner_keys(kind, owner_keys) if owner_keys and kind in DEFAULT_OWNER_KEYS else ()
    except ValueError as err:
        raise HistoryError(f"--owner-key: {err}") from None
    def run(cache: LogCache) -> Report:
        return analyze_source(source, settings, history=cache, **analyze)

    return analyze_into_history(history, run, source_name=source_name or source.name, key_properties=app_keys,
                                owner_keys={kind: keys} if keys else None,
                                rules_config=analyze.get("rules_config"))


def analyze_spark_with_history(history: str | os.PathLike[str], paths: Sequence[str], *,
                               source_name: str = "", key_properties: Sequence[str] = (),
                               owner_keys: Sequence[str] | None = None, **analyze: Any) -> Report:
    """``analyze_spark_logs`` reading only logs the history does not hold, then recording the report.

    ``analyze`` takes ``analyze_spark_logs``'s keyword arguments (jobs, rules_config, ...).
    """
    from analyzer.api.spark import analyze_spark_logs

    return analyze_into_history(history, lambda cache: analyze_spark_logs(paths, history=cache, **analyze),
                                source_name=source_name, key_properties=key_properties,
                                owner_keys=None if owner_keys is None else {"spark": owner_keys},
                                rules_config=analyze.get("rules_config"))


def analyze_warehouse_with_history(history: str | os.PathLike[str], read: Callable[[], WarehouseHistory],
                                   source: str, *, source_name: str = "",
                                   owner_keys: Mapping[str, Sequence[str]] | None = None,
                                   **analyze: Any) -> Report:
    """``analyze_warehouse_source`` and the report's histories recorded day by day."""
    from analyzer.api.warehouse import analyze_warehouse_source

    return analyze_into_history(history, lambda _cache: analyze_warehouse_source(read, source, **analyze),
                                source_name=source_name, owner_keys=owner_keys,
                                rules_config=analyze.get("rules_config"))


def record_report(history: str | os.PathLike[str], report: Report, *, source_name: str = "",
                  key_properties: Sequence[str] = (), owner_keys: Mapping[str, Sequence[str]] | None = None,
                  rules_config: object | None = None) -> None:
    """Record an already-made report (Spark applications and warehouse histories alike)."""
    with open_store(history, wait_s=wait_seconds()) as store:
        store.execute("BEGIN TRANSACTION")
        _record(store, report, source_name, key_properties, owner_keys, rules_config)
        store.execute("COMMIT")


def _record(store: HistoryStore, report: Report, source_name: str, key_properties: Sequence[str],
            owner_keys: Mapping[str, Sequence[str]] | None, rules_config: object | None) -> None:
    if report.applications:
        record_spark(store, report, source_name=source_name, key_properties=key_properties,
                     owner_keys=(owner_keys or {}).get("spark"), rules_config=rules_config)
    if report.warehouses:
        record_warehouse(store, report, source_name=source_name, owner_keys=owner_keys,
                         rules_config=rules_config)


def fleet_report(history: str | os.PathLike[str], *, since: dt.date | str | None = None,
                 app: str | None = None) -> FleetReport:
    """The fleet view of a history: recurring applications, regressions, findings, daily cost by owner.

    ``app`` is a case-insensitive glob over application names and keys; ``since`` a day.
    """
    day = dt.date.fromisoformat(since) if isinstance(since, str) else since
    with open_store(history, read_only=True, wait_s=wait_seconds()) as store:
        apps, regressions = recurring_apps(store, since=day, pattern=app)
        keys = {a.key for a in apps}
        tracks = finding_tracks(store, since=day, app_keys=keys if app else None)
        daily = _daily_costs(store, day, keys if app else None)
    return FleetReport(
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), tool_version=__version__,
        history=os.fspath(history), applications=tuple(apps), regressions=tuple(regressions),
        findings=tuple(tracks), daily_costs=tuple(daily), since=None if day is None else day.isoformat(),
        app_pattern=app, methodology=METHODOLOGY)


def render_fleet(fleet: FleetReport, fmt: str, *, plotlyjs: str = "inline") -> bytes:
    """``fleet`` as Markdown, JSON or the HTML dashboard (``plotlyjs``: inline or cdn)."""
    from reports.fleet_renderer import FLEET_RENDERERS

    options = {"plotlyjs": plotlyjs} if fmt == "html" else {}
    return FLEET_RENDERERS[fmt](**options).render(fleet)


def _daily_costs(store: HistoryStore, since: dt.date | None, keys: set[str] | None) -> list[DailyCost]:
    where = "WHERE day >= ?" if since else ""
    params = [since] if since else []
    rows = store.rows("SELECT day, kind, source_name, owner, app_key, sum(cost_usd) AS usd "
                      f"FROM runs {where} GROUP BY ALL", params)
    rows += store.rows("SELECT day, kind, source_name, owner, app_key || '@' || source_name AS app_key, "
                       f"sum(cost_usd) AS usd FROM warehouse_usage {where} GROUP BY ALL", params)
    totals: dict[tuple[str, str, str, str], float] = {}
    for r in rows:
        if r["day"] is None or (keys is not None and r["app_key"] not in keys):
            continue
        k = (r["day"].isoformat(), r["kind"], r["source_name"] or "", r["owner"] or UNATTRIBUTED)
        totals[k] = totals.get(k, 0.0) + float(r["usd"] or 0.0)
    return [DailyCost(day=d, kind=kind, source=src, owner=o, usd=u)
            for (d, kind, src, o), u in sorted(totals.items())]
