"""Spark findings priced through the ledger of claims: each executor core-hour counted once.

Each finding claims core-hours of one bucket of its application's waste ledger
(``analyzer.core.cost.RULE_BUCKET``: skew tail, idle cores, driver-only time, failed work, or
task time for every other rule). A finding about one stage claims that stage's part of the
bucket, so two fixes of one stage compose (see ``analyzer.core.ledger``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from analyzer.core.findings import Finding
from analyzer.core.ledger import ClaimRequest, count_claims, saving_usd, superseded
from analyzer.core.model import Application
from analyzer.core.units import MS_PER_HOUR

RULE_BUCKET = {
    "spark.skew": "skew_tail", "spark.oversized-cluster": "idle_cores",
    "spark.driver-bound": "driver_only", "spark.task-failures": "failed_work",
}


class PricedRun(Protocol):
    """What the ledger needs of ``analyzer.core.cost.AppCost`` (which imports this module)."""

    @property
    def usd_per_core_hour(self) -> float: ...  # noqa: D102

    @property
    def ledger_core_hours(self) -> dict[str, float]: ...  # noqa: D102


BUCKET_WORDS = {"useful": "task time", "failed_work": "failed work", "driver_only": "driver-only time",
                "skew_tail": "skew tail", "idle_cores": "idle cores", "driver": "driver"}


def assign_savings(findings: Sequence[Finding], cost: PricedRun, app: Application) -> list[Finding]:
    """Count each finding's core-hours once in its bucket's ledger (``analyzer.core.ledger``) and price them.

    A finding about one stage claims that stage's share of its bucket (for task time: the
    stage's task core-hours), so two fixes of one stage compose instead of adding up; a
    finding about a SQL execution is counted in proportion to what stage claims left; an
    application-wide finding claims its fraction of the bucket. Nothing is scaled to fit.
    """
    key = f"{app.app_id}/{app.attempt_id}" if app.attempt_id else app.app_id
    stage_hours = _stage_core_hours(app, cost)
    requests = [_request(f, cost, key, stage_hours) for f in findings]
    capacity = {f"application {key} ({BUCKET_WORDS[b]})": h for b, h in cost.ledger_core_hours.items()}
    claims = count_claims(requests, capacity)
    return [superseded(replace(f, estimated_savings_usd=saving_usd(c, 6), claim=c,
                               savings_bucket=RULE_BUCKET.get(f.rule_id, "useful")))
            for f, c in zip(findings, claims, strict=True)]


def _request(f: Finding, cost: PricedRun, key: str, stage_hours: Mapping[int, float]) -> ClaimRequest:
    bucket = RULE_BUCKET.get(f.rule_id, "useful")
    stage, sql = f.subject.get("stage_id"), f.subject.get("sql_execution_id")
    part, size, proportional = "", None, False
    if isinstance(stage, int):
        part, size = f"stage {stage}", stage_hours.get(stage) if bucket == "useful" else None
    elif sql is not None:
        part, proportional = f"SQL execution {sql}", True
    return ClaimRequest(label=f"{f.rule_id} · {part or f.subject_label()}",
                        resource=f"application {key} ({BUCKET_WORDS[bucket]})", unit="core_hours",
                        asked=max(0.0, f.avoidable_core_hours), usd_per_unit=cost.usd_per_core_hour,
                        part=part, part_capacity=size, proportional=proportional)


def _stage_core_hours(app: Application, cost: PricedRun) -> dict[int, float]:
    """Task core-hours of each stage (attempts summed), on the scale of the ledger's useful bucket."""
    hours: dict[int, float] = defaultdict(float)
    for s in app.stages:
        hours[s.stage_id] += sum(s.task_durations_ms) / MS_PER_HOUR
    total = sum(hours.values())
    in_ledger = cost.ledger_core_hours.get("useful", 0.0) + cost.ledger_core_hours.get("failed_work", 0.0)
    scale = min(1.0, in_ledger / total) if total else 1.0
    return {k: v * scale for k, v in hours.items()}
