"""Healthy jobs written by real Spark get no finding of medium severity or higher from ANY rule."""

from __future__ import annotations

import pytest
from conftest import DATA

from analyzer.api import analyze_spark_logs

HEALTHY = ["stage/balanced", "stage/skew-aqe-on", "sql/healthy-sql", "sql/partition-pruned",
           "cluster/balanced"]
# Planted problems large enough for the production defaults (the others are too small to
# check in and are tested with lowered damping in the per-theme rule tests).
PLANTED = {
    "stage/skew-aqe-off": "spark.skew",
    "stage/spill": "spark.spill",
    "sql/broadcast": "spark.large-broadcast",
}


@pytest.mark.parametrize("scenario", HEALTHY)
def test_healthy_job_stays_quiet_with_default_thresholds(scenario: str) -> None:
    report = analyze_spark_logs([str(DATA / "scenarios" / scenario)])
    assert len(report.applications) == 1
    assert [(f.rule_id, f.severity) for f in report.findings if f.severity_rank >= 1] == []


@pytest.mark.parametrize(("scenario", "rule_id"), PLANTED.items())
def test_planted_problem_is_found_with_default_thresholds(scenario: str, rule_id: str) -> None:
    report = analyze_spark_logs([str(DATA / "scenarios" / scenario)])
    found = [f for f in report.findings if f.rule_id == rule_id]
    assert found and found[0].severity_rank >= 1
    assert "--conf " in found[0].recommendation or "spark." in found[0].recommendation
    assert found[0].estimated_savings_usd > 0
