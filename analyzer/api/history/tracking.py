"""Findings followed across runs: new, persisting, resolved, and what fixing one actually saved.

Why: a recommendation is only worth its prediction if someone checks. A finding is the same
finding from run to run when its rule and its subject without the run ids match
(``record.finding_key``) within one recurring application. In the application's latest
run it is *new* (first seen there) or *persisting*; absent from the latest run after being
seen, it is *resolved*. For a resolved Spark finding the realised saving per run is the
median cost of the last runs that had it minus the median cost of the runs since; the
predicted saving is what the rule estimated in the last run that had it.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Sequence
from typing import Any

from analyzer.api.history.store import HistoryStore
from analyzer.core.fleet import FindingTrack

COMPARED_RUNS = 3


def _ms(value: dt.datetime | None) -> int | None:
    return None if value is None else int(value.replace(tzinfo=dt.UTC).timestamp() * 1000)


def finding_tracks(store: HistoryStore, *, since: dt.date | None = None,
                   app_keys: set[str] | None = None) -> list[FindingTrack]:
    """Every finding of the selected applications, with its status and savings."""
    where, params = ("WHERE day >= ?", [since]) if since else ("", [])
    observations = store.rows("SELECT run_key, app_key, start_time AS observed, cost_usd "
                              f"FROM runs {where}", params)
    observations += store.rows("SELECT run_key, app_key, CAST(day AS TIMESTAMP) AS observed, observed_at, "
                               f"NULL AS cost_usd FROM recordings {where}", params)
    never = dt.datetime.min
    observations.sort(key=lambda o: (o["observed"] or never, o.get("observed_at") or never, o["run_key"]))
    found = store.rows("SELECT run_key, app_key, rule_id, severity, finding_key, subject, saving_usd "
                       f"FROM findings {where}", params)
    by_run: dict[str, dict[str, dict[str, Any]]] = {}
    for f in found:
        by_run.setdefault(f["run_key"], {})[f["finding_key"]] = f
    runs_of: dict[str, list[dict[str, Any]]] = {}
    for o in observations:
        if app_keys is None or o["app_key"] in app_keys or _warehouse_selected(o["app_key"], app_keys):
            runs_of.setdefault(o["app_key"], []).append(o)
    tracks = []
    for app_key, runs in runs_of.items():
        keys = dict.fromkeys(k for r in runs for k in by_run.get(r["run_key"], {}))
        tracks += [_track(app_key, key, runs, by_run) for key in keys]
    order = {"new": 0, "persisting": 1, "resolved": 2}
    tracks.sort(key=lambda t: (order[t.status], -t.predicted_saving_usd, t.rule_id))
    return tracks


def _warehouse_selected(app_key: str, app_keys: set[str]) -> bool:
    """Warehouse findings belong to a source: kept when any recurring key of that source is selected."""
    kind, _, source = app_key.partition(":")
    return any(k.startswith(f"{kind}:") and k.endswith(f"@{source}") for k in app_keys)


def _track(app_key: str, key: str, runs: Sequence[dict[str, Any]],
           by_run: dict[str, dict[str, dict[str, Any]]]) -> FindingTrack:
    seen = [i for i, r in enumerate(runs) if key in by_run.get(r["run_key"], {})]
    first, last = seen[0], seen[-1]
    latest = by_run[runs[last]["run_key"]][key]
    status = ("new" if first == last else "persisting") if last == len(runs) - 1 else "resolved"
    realised = None
    if status == "resolved":
        before = [r["cost_usd"] for r in runs[: last + 1] if r["cost_usd"] is not None][-COMPARED_RUNS:]
        after = [r["cost_usd"] for r in runs[last + 1:] if r["cost_usd"] is not None]
        if before and after:
            change = float(statistics.median(before) - statistics.median(after))
            realised = round(change, 12) + 0.0  # float noise is no saving (and no "-0.00")
    subject = json.loads(latest["subject"]) if latest["subject"] else {}
    label = next((str(subject[k]) for k in ("stage_name", "app_name", "warehouse", "reservation", "project",
                                            "table") if subject.get(k)), app_key)
    return FindingTrack(key=key, rule_id=latest["rule_id"], app_key=app_key, subject=label,
                        severity=latest["severity"], status=status,
                        first_seen_ms=_ms(runs[first]["observed"]),
                        last_seen_ms=_ms(runs[last]["observed"]), runs_seen=len(seen),
                        predicted_saving_usd=float(latest["saving_usd"] or 0.0), realised_saving_usd=realised)
