"""The versioned JSON document (``--format json``); its contract is ``schema/report.schema.json``.

Field meanings follow Spark's History Server: stage sums include failed task attempts,
``task_duration_ms`` uses the History Server's quantiles. Properties that look like
credentials were already redacted by the connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from analyzer.core.catalog import PriceCatalog
from analyzer.core.cost import AppCost, WhatIf
from analyzer.core.findings import Claim, Finding
from analyzer.core.model import Application, Executor, Job, Quantiles, SqlExecution, Stage
from analyzer.core.report import Report
from analyzer.core.safe_text import terminal_safe_json
from analyzer.core.warehouse_model import WarehouseHistory
from reports.evidence import shown_sql, spark_sql
from reports.fmt import iso_time_ms
from reports.renderer import Renderer

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost  # imports pandas: only for warehouse reports


class JsonRenderer(Renderer):
    """Pretty-printed UTF-8 JSON, keys in contract order."""

    media_type = "application/json"

    def render(self, report: Report) -> bytes:
        """The report as indented JSON, newline-terminated."""
        return terminal_safe_json(orjson.dumps(report_document(report), option=orjson.OPT_INDENT_2)) + b"\n"


def report_document(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON-ready data."""
    costs = {(c.app_id, c.attempt_id): c for c in report.costs}
    return {
        "schema_version": report.schema_version,
        "generated_at": report.generated_at,
        "tool": {"name": "deanalyze", "version": report.tool_version},
        "pricing": catalog_document(report.catalog),
        "applications": [application_document(a, costs.get((a.app_id, a.attempt_id)),
                                              show_sql_literals=report.show_sql_literals)
                         for a in report.applications],
        "warehouses": [warehouse_document(h, c, report)
                       for h, c in zip(report.warehouses, report.warehouse_costs, strict=True)],
        "findings": [finding_document(f, show_sql_literals=report.show_sql_literals)
                     for f in report.findings],
        "errors": [{"source": e.source, "message": e.message} for e in report.errors],
    }


def catalog_document(catalog: PriceCatalog | None) -> dict[str, Any] | None:
    """Which prices the money figures used, and where they came from."""
    if catalog is None:
        return None
    return {"catalog": catalog.name, "as_of": catalog.as_of, "source": catalog.source,
            "currency": catalog.currency, "vcpu_hour": catalog.vcpu_hour, "gib_hour": catalog.gib_hour,
            "spot_discount": catalog.spot_discount, "spot_source": catalog.spot_source}


def cost_document(cost: AppCost | None) -> dict[str, Any] | None:
    """An application's bill, its waste ledger in dollars and core-hours, and its savings."""
    if cost is None:
        return None
    return {
        "total_usd": round(cost.total_usd, 6),
        "executor_usd": round(cost.executor_usd, 6),
        "driver_usd": round(cost.driver_usd, 6),
        "executor_core_hours": round(cost.executor_core_hours, 6),
        "usd_per_core_hour": round(cost.usd_per_core_hour, 6),
        "ledger": {k: round(v, 6) for k, v in cost.ledger_usd.items()},
        "ledger_core_hours": {k: round(v, 6) for k, v in cost.ledger_core_hours.items()},
        "estimated_savings_usd": round(cost.savings_usd, 6),
        "runs_per_month": cost.runs_per_month,
        "monthly_usd": None if cost.monthly_usd is None else round(cost.monthly_usd, 2),
        "notes": list(cost.notes),
        "what_if": what_if_document(cost.what_if),
    }


def what_if_document(w: WhatIf | None) -> dict[str, Any] | None:
    """Sparklens' what-if: predicted wall time and cost per executor count, and the critical path."""
    if w is None:
        return None
    return {"unit": w.unit, "cores_per_executor": w.cores_per_executor,
            "model_error": round(w.model_error, 4), "critical_path_ms": w.critical_path_ms,
            "rows": [{"executors": r.executors, "predicted_ms": r.predicted_ms, "usd": round(r.usd, 6),
                      "observed": r.observed} for r in w.rows]}


def claim_document(c: Claim | None) -> dict[str, Any] | None:
    """How the ledger counted a finding's saving: ``max(0, counted × usd_per_unit − change_cost_usd)``."""
    if c is None:
        return None
    return {"resource": c.resource, "part": c.part, "unit": c.unit, "asked": round(c.asked, 6),
            "counted": round(c.counted, 6), "usd_per_unit": c.usd_per_unit,
            "change_cost_usd": round(c.change_cost_usd, 6), "overlaps_with": list(c.overlaps_with),
            "standalone_usd": round(c.standalone_usd, 6), "note": c.note}


def application_document(app: Application, cost: AppCost | None = None, *,
                         show_sql_literals: bool = False) -> dict[str, Any]:
    """One application attempt with its cost, stages, executors, jobs and SQL summaries.

    SQL descriptions have their literals masked unless ``show_sql_literals`` (``--show-sql-literals``).
    """
    integrity = app.integrity
    return {
        "app_id": app.app_id,
        "attempt_id": app.attempt_id,
        "name": app.name,
        "user": app.user,
        "spark_version": app.spark_version,
        "master": app.master,
        "complete": app.complete,
        "start_time": iso_time_ms(app.start_time_ms),
        "end_time": iso_time_ms(app.end_time_ms),
        "duration_ms": app.duration_ms,
        "source": app.source,
        "cost": cost_document(cost),
        "integrity": {
            "events_read": integrity.events_read,
            "unparsed_lines": integrity.unparsed_lines,
            "truncated_tail": integrity.truncated_tail,
            "task_end_events": integrity.task_end_events,
            "tasks_expected": integrity.tasks_expected,
            "first_error": integrity.first_error,
            "files_read": integrity.files_read,
        },
        "stages": [stage_document(s) for s in app.stages],
        "executors": [executor_document(e) for e in app.executors],
        "jobs": [job_document(j) for j in app.jobs],
        "sql_executions": [sql_document(q, show_sql_literals=show_sql_literals) for q in app.sql_executions],
    }


def stage_document(stage: Stage) -> dict[str, Any]:
    """One stage attempt with History-Server-equal figures."""
    m = stage.metrics
    return {
        "stage_id": stage.stage_id,
        "attempt_id": stage.attempt_id,
        "name": stage.name,
        "status": stage.status,
        "num_tasks": stage.num_tasks,
        "num_complete_tasks": stage.num_complete_tasks,
        "num_failed_tasks": stage.num_failed_tasks,
        "num_killed_tasks": stage.num_killed_tasks,
        "num_speculative_tasks": stage.num_speculative_tasks,
        "submission_time": iso_time_ms(stage.submission_time_ms),
        "completion_time": iso_time_ms(stage.completion_time_ms),
        "duration_ms": stage.duration_ms,
        "executor_run_time_ms": m.executor_run_time_ms,
        "executor_cpu_time_ns": m.executor_cpu_time_ns,
        "jvm_gc_time_ms": m.jvm_gc_time_ms,
        "input_bytes": m.input_bytes,
        "output_bytes": m.output_bytes,
        "shuffle_read_bytes": m.shuffle_read_bytes,
        "shuffle_write_bytes": m.shuffle_write_bytes,
        "memory_bytes_spilled": m.memory_bytes_spilled,
        "disk_bytes_spilled": m.disk_bytes_spilled,
        "task_duration_ms": quantiles_document(stage.tasks.duration_ms),
        "task_run_time_ms": quantiles_document(stage.tasks.executor_run_time_ms),
        "task_input_bytes": quantiles_document(stage.tasks.input_bytes),
        "task_shuffle_read_bytes": quantiles_document(stage.tasks.shuffle_read_bytes),
        "failure_reason": stage.failure_reason,
        "failure_causes": {cause: n for cause, n in stage.failure_causes},
    }


def quantiles_document(q: Quantiles | None) -> dict[str, float] | None:
    """``{min, p25, p50, p75, max}`` or null when the stage had no successful task."""
    if q is None:
        return None
    return {"min": q.min, "p25": q.p25, "p50": q.p50, "p75": q.p75, "max": q.max}


def executor_document(e: Executor) -> dict[str, Any]:
    """One executor's identity, size and lifetime."""
    return {
        "executor_id": e.executor_id,
        "host": e.host,
        "total_cores": e.total_cores,
        "add_time": iso_time_ms(e.add_time_ms),
        "remove_time": iso_time_ms(e.remove_time_ms),
        "remove_reason": e.remove_reason,
        "max_storage_memory_bytes": e.max_storage_memory_bytes,
    }


def job_document(j: Job) -> dict[str, Any]:
    """One job and the stages and SQL execution it belongs to."""
    return {
        "job_id": j.job_id,
        "status": j.status,
        "submission_time": iso_time_ms(j.submission_time_ms),
        "completion_time": iso_time_ms(j.completion_time_ms),
        "stage_ids": list(j.stage_ids),
        "sql_execution_id": j.sql_execution_id,
    }


def sql_document(q: SqlExecution, *, show_sql_literals: bool = False) -> dict[str, Any]:
    """A SQL execution's timing and plan size (the plan text stays out of the JSON; literals masked)."""
    return {
        "execution_id": q.execution_id,
        "description": spark_sql(q.description, show_sql_literals),
        "start_time": iso_time_ms(q.start_time_ms),
        "duration_ms": q.duration_ms,
        "job_ids": list(q.job_ids),
        "plan_nodes": len(q.nodes),
        "error_message": q.error_message,
    }


def warehouse_document(history: WarehouseHistory, cost: WarehouseCost, report: Report) -> dict[str, Any]:
    """One warehouse query history: its window, its bill per warehouse/project, pricing-model comparison,
    and its costliest query patterns (SQL literals masked unless the user opted out)."""
    return {
        "vendor": history.vendor,
        "source": history.source,
        "window_start": iso_time_ms(history.window_start_ms),
        "window_end": iso_time_ms(history.window_end_ms),
        "query_count": len(history.queries),
        "total_usd": round(cost.total_usd, 6),
        "total_credits": round(cost.total_credits, 6),
        "cloud_services_billed_credits": round(cost.cloud_services_billed_credits, 6),
        "edition": cost.edition,
        "pools": [{
            "name": t.name, "kind": t.kind, "query_count": t.query_count, "usd": round(t.usd, 6),
            "compute_credits": round(t.compute_credits, 6), "idle_credits": t.idle_credits,
            "idle_usd": round(t.idle_usd, 6), "cloud_services_credits": round(t.cloud_services_credits, 6),
            "tib_billed": round(t.tib_billed, 6), "slot_hours": round(t.slot_hours, 6), "metered": t.metered,
        } for t in sorted(cost.warehouses.values(), key=lambda t: -t.usd)],
        "pricing_models": [{
            "project": p.project, "jobs": p.jobs, "tib_billed": round(p.tib_billed, 6),
            "slot_hours": round(p.slot_hours, 6), "on_demand_usd": round(p.on_demand_usd, 6),
            "editions_usd": round(p.editions_usd, 6), "actual_usd": round(p.actual_usd, 6),
        } for p in cost.projects.values()],
        "top_query_patterns": [{
            "fingerprint": p.fingerprint, "runs": p.runs, "usd": round(p.usd, 6), "share": round(p.share, 6),
            "pools": list(p.pools), "example_query_id": p.example_query_id,
            "example_sql": shown_sql(report, p.example_query_id, p.example_sql),
        } for p in cost.patterns],
        "notes": list(cost.notes),
    }


def finding_document(f: Finding, *, show_sql_literals: bool = False) -> dict[str, Any]:
    """A finding as the rule engine produced it; a Spark SQL description in it has its literals masked."""
    evidence = dict(f.evidence)
    description = evidence.get("sql_description")
    if isinstance(description, str):
        evidence["sql_description"] = spark_sql(description, show_sql_literals)
    return {
        "rule_id": f.rule_id,
        "severity": f.severity,
        "subject": dict(f.subject),
        "title": f.title,
        "evidence": evidence,
        "recommendation": f.recommendation,
        "tradeoffs": f.tradeoffs,
        "avoidable_core_hours": round(f.avoidable_core_hours, 6),
        "avoidable_usage": dict(f.avoidable_usage),
        "estimated_savings_usd": f.estimated_savings_usd,
        "savings_bucket": f.savings_bucket,
        "confidence": f.confidence,
        "scale_note": f.scale_note,
        "claim": claim_document(f.claim),
    }
