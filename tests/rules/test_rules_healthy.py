"""Every planted problem in the real-Spark scenario logs is found at the default thresholds; healthy jobs
stay quiet.

Most scenario logs are seconds long, below the rules' production damping: their planted problem is an
``info`` early warning (what was seen, how small it is here, what it becomes at 100x the data), which
claims no money. Those large enough for the production defaults get a graded finding with a saving.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import DATA

from analyzer.api import analyze_spark_logs
from analyzer.cli import main
from analyzer.core.report import Report

HEALTHY = ["stage/balanced", "stage/skew-aqe-on", "sql/healthy-sql", "sql/partition-pruned",
           "cluster/balanced"]
# scenario -> (planted rule, severity at the default thresholds)
PLANTED = {
    "stage/skew-aqe-off": ("spark.skew", "medium"),
    "stage/spill": ("spark.spill", "high"),
    "stage/gc-heavy": ("spark.gc-pressure", "info"),
    "stage/many-tiny-tasks": ("spark.too-many-partitions", "info"),
    "stage/oversized-partitions": ("spark.oversized-partitions", "info"),
    "stage/task-retries": ("spark.task-failures", "info"),
    "sql/cross-join": ("spark.cartesian-join", "info"),
    "sql/full-scan": ("spark.full-scan", "info"),
    "sql/small-files": ("spark.small-files", "low"),
    "sql/broadcast": ("spark.large-broadcast", "medium"),
    "cluster/driver-bound": ("spark.driver-bound", "info"),
    "cluster/oversized": ("spark.oversized-cluster", "info"),
}


def _report(scenario: str) -> Report:
    report = analyze_spark_logs([str(DATA / "scenarios" / scenario)])
    assert not report.errors and len(report.applications) == 1
    return report


@pytest.mark.parametrize("scenario", HEALTHY)
def test_healthy_job_stays_quiet_with_default_thresholds(scenario: str) -> None:
    report = _report(scenario)
    assert [(f.rule_id, f.severity) for f in report.findings if f.severity_rank >= 1] == []
    # not even an early warning: nothing in these runs grows into a problem at 100x the data
    assert [(f.rule_id, f.severity) for f in report.findings] == []


@pytest.mark.parametrize(("scenario", "planted"), PLANTED.items())
def test_planted_problem_is_found_with_default_thresholds(scenario: str, planted: tuple[str, str]) -> None:
    rule_id, severity = planted
    found = [f for f in _report(scenario).findings if f.rule_id == rule_id]
    assert [f.severity for f in found][:1] == [severity]
    f = found[0]
    assert f.confidence in ("high", "medium", "low")
    if severity == "info":  # an early warning: the size here, the size at scale, and no money claimed
        assert f.scale_note.startswith(("Small in this run: ", "Every pair compared was kept"))
        assert "100×" in f.scale_note
        assert f.estimated_savings_usd == 0 and f.avoidable_core_hours == 0
        assert isinstance(f.evidence["early_warning"], dict)
    else:
        assert f.scale_note == "" and "early_warning" not in f.evidence
    assert "--conf " in f.recommendation or "spark." in f.recommendation or "`" in f.recommendation


@pytest.mark.parametrize("scenario", ["stage/skew-aqe-off", "stage/spill", "sql/broadcast"])
def test_graded_planted_problem_claims_a_saving(scenario: str) -> None:
    rule_id, _ = PLANTED[scenario]
    found = [f for f in _report(scenario).findings if f.rule_id == rule_id]
    assert found[0].estimated_savings_usd > 0


@pytest.mark.parametrize(("scenario", "code"), [
    ("cluster/driver-bound", 0),  # only an early warning: --fail-on low never counts info
    ("sql/small-files", 1),       # two low findings
])
def test_fail_on_low_counts_low_findings_but_not_early_warnings(scenario: str, code: int) -> None:
    result = CliRunner().invoke(main, ["spark-logs", str(DATA / "scenarios" / scenario), "--format", "json",
                                       "--fail-on", "low"])
    assert result.exit_code == code, result.output[-500:]
