"""The fleet view as a versioned JSON document (``deanalyze history --format json``).

Contract (``fleet_schema_version`` 1.0): ``applications[]`` with ``key``, ``name``, ``kind``
and ``runs[]`` (``app_id``, ``attempt_id``, ``start_time``, ``duration_ms``, ``cost_usd``,
``input_bytes``); ``regressions[]`` with ``key``, ``app_id``, ``metric`` (``duration_ms`` or
``cost_usd``), ``baseline``, ``value``, ``change`` (ratio) and ``stages`` (the ids or query
patterns that moved most, most first); ``findings[]`` followed across runs; ``owners[]`` and
``daily_costs[]``. Times are ISO-8601 UTC like the run report's. The JSON Schema is
``schema/fleet.schema.json``.
"""

from __future__ import annotations

from typing import Any

import orjson

from analyzer.core.fleet import UNATTRIBUTED, FindingTrack, FleetReport, RecurringApp, Regression, RunSummary
from analyzer.core.safe_text import terminal_safe_json
from reports.fleet_renderer import FleetRenderer
from reports.fmt import iso_time_ms

FLEET_SCHEMA_VERSION = "1.0"


class FleetJsonRenderer(FleetRenderer):
    """Pretty-printed UTF-8 JSON, keys in contract order."""

    media_type = "application/json"

    def render(self, fleet: FleetReport) -> bytes:
        """The fleet report as indented JSON, newline-terminated."""
        return terminal_safe_json(orjson.dumps(fleet_document(fleet), option=orjson.OPT_INDENT_2)) + b"\n"


def fleet_document(fleet: FleetReport) -> dict[str, Any]:
    """The whole fleet report as JSON-ready data."""
    total = fleet.total_usd
    owners = fleet.cost_by_owner()
    unattributed = dict(owners).get(UNATTRIBUTED, 0.0)
    return {
        "fleet_schema_version": FLEET_SCHEMA_VERSION,
        "generated_at": fleet.generated_at,
        "tool": {"name": "deanalyze", "version": fleet.tool_version},
        "history": fleet.history,
        "since": fleet.since,
        "app_pattern": fleet.app_pattern,
        "total_usd": round(total, 6),
        "unattributed_usd": round(unattributed, 6),
        "unattributed_share": round(unattributed / total, 6) if total else None,
        "owners": [{"owner": o, "usd": round(u, 6), "share": round(u / total, 6) if total else None}
                   for o, u in owners],
        "applications": [application_document(a) for a in fleet.applications],
        "regressions": [regression_document(r) for r in fleet.regressions],
        "findings": [finding_document(f) for f in fleet.findings],
        "daily_costs": [{"day": d.day, "kind": d.kind, "source": d.source, "owner": d.owner,
                         "usd": round(d.usd, 6)} for d in fleet.daily_costs],
        "methodology": list(fleet.methodology),
    }


def application_document(app: RecurringApp) -> dict[str, Any]:
    """One recurring application and its runs, oldest first."""
    return {"key": app.key, "name": app.name, "kind": app.kind, "owner": app.owner,
            "run_count": len(app.runs), "total_usd": round(app.total_usd, 6),
            "usd_per_run": _round(app.usd_per_run), "usd_per_month": _round(app.usd_per_month),
            "duration_change": _round(app.duration_change), "input_change": _round(app.input_change),
            "runs": [run_document(r) for r in app.runs]}


def run_document(run: RunSummary) -> dict[str, Any]:
    """One run (for a warehouse pattern: one day of its queries, ``queries`` of them)."""
    return {"app_id": run.app_id, "attempt_id": run.attempt_id, "start_time": iso_time_ms(run.start_time_ms),
            "duration_ms": run.duration_ms, "cost_usd": _round(run.cost_usd), "input_bytes": run.input_bytes,
            "source": run.source, "queries": run.runs, "owner": run.owner}


def regression_document(r: Regression) -> dict[str, Any]:
    """One regressed run: the metric, its baseline and value, what moved and what changed."""
    return {"key": r.key, "name": r.name, "app_id": r.app_id, "attempt_id": r.attempt_id,
            "start_time": iso_time_ms(r.start_time_ms), "metric": r.metric, "baseline": _round(r.baseline),
            "value": _round(r.value), "change": _round(r.change), "mad": _round(r.mad),
            "baseline_runs": r.baseline_runs, "input_change": _round(r.input_change),
            "stages": [s.stage for s in r.stages],
            "stage_details": [{"stage": s.stage, "name": s.name, "baseline_ms": _round(s.baseline_ms),
                               "value_ms": _round(s.value_ms)} for s in r.stages],
            "config_changes": [{"key": c.key, "before": c.before, "after": c.after}
                               for c in r.config_changes]}


def finding_document(f: FindingTrack) -> dict[str, Any]:
    """One finding followed across runs."""
    return {"key": f.key, "rule_id": f.rule_id, "app_key": f.app_key, "subject": f.subject,
            "severity": f.severity, "status": f.status, "first_seen": iso_time_ms(f.first_seen_ms),
            "last_seen": iso_time_ms(f.last_seen_ms), "runs_seen": f.runs_seen,
            "predicted_saving_usd": _round(f.predicted_saving_usd),
            "realised_saving_usd": _round(f.realised_saving_usd)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
