"""Every rule is registered, documented, and its defaults load and round-trip through config."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import jsonschema
import orjson
import pytest

import rules.spark
import rules.warehouse
from analyzer.api.output import EXIT_FINDINGS, EXIT_OK, exit_code
from analyzer.core.findings import GATED_SEVERITIES, SEVERITIES, Finding, severity_at_least
from analyzer.core.report import SCHEMA_VERSION, Report
from reports.json_report import JsonRenderer
from rules.config import ConfigError, load_config, parse_config
from rules.engine import DOC_SECTIONS, RuleBase, Thresholds, config_fields
from rules.registry import rules_by_id

SPARK_RULE_IDS = {
    "spark.skew", "spark.spill", "spark.gc-pressure", "spark.oversized-cluster", "spark.too-many-partitions",
    "spark.oversized-partitions", "spark.full-scan", "spark.small-files", "spark.cartesian-join",
    "spark.large-broadcast", "spark.task-failures", "spark.driver-bound",
}


@pytest.mark.parametrize("package", [rules.spark, rules.warehouse], ids=lambda p: p.__name__)
def test_every_rule_module_registers_a_rule(package) -> None:  # type: ignore[no-untyped-def]
    """A rule class written but left out of SPARK_RULES / WAREHOUSE_RULES would never run."""
    registered = {rules_by_id()[r].__module__ for r in rules_by_id()}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        rule_classes = [v for v in vars(module).values()
                        if isinstance(v, type) and issubclass(v, RuleBase) and v.id
                        and v.__module__ == module.__name__]
        if rule_classes:
            assert module.__name__ in registered, f"{module.__name__} defines a rule that is not registered"


@pytest.mark.parametrize("rule_id", sorted(rules_by_id()))
def test_rule_is_documented_and_configurable(rule_id: str) -> None:
    rule = rules_by_id()[rule_id]
    doc = rule.documentation()
    assert rule.summary() and rule.summary().endswith(".")
    for section in DOC_SECTIONS:
        assert section in doc, f"{rule_id} docstring lacks {section}"
    options = config_fields(rule.default_config())
    assert options, f"{rule_id} has no documented options"
    for name, value, help_text in options:
        assert help_text, f"{rule_id}.{name} has no doc"
        assert value is not None
    assert any(isinstance(v, Thresholds) for _, v, _ in options), f"{rule_id} has no four-level thresholds"
    # defaults round-trip through the TOML config loader
    table = {n: (v.as_dict() if isinstance(v, Thresholds) else v) for n, v, _ in options}
    assert parse_config({"rules": {rule_id: table}}).config_for(rule) == rule.default_config()


WAREHOUSE_RULE_IDS = {
    "warehouse.full-scan", "warehouse.select-star", "warehouse.repeated-query",
    "snowflake.oversized-warehouse",
    "snowflake.undersized-warehouse", "snowflake.idle-warehouse", "bigquery.pricing-model",
}


def test_rule_ids_are_the_contract() -> None:
    assert set(rules_by_id()) >= SPARK_RULE_IDS
    assert set(rules_by_id()) >= WAREHOUSE_RULE_IDS
    assert {rules_by_id()[r].kind for r in SPARK_RULE_IDS} == {"spark"}
    assert {rules_by_id()[r].kind for r in WAREHOUSE_RULE_IDS} == {"warehouse"}


def test_rule_kinds_match_their_package() -> None:
    assert all(rule.kind == "spark" for rule in rules.spark.SPARK_RULES)
    assert all(rule.kind == "warehouse" for rule in rules.warehouse.WAREHOUSE_RULES)
    assert len(rules_by_id()) == len(rules.spark.SPARK_RULES) + len(rules.warehouse.WAREHOUSE_RULES)


def test_thresholds_boundaries() -> None:
    t = Thresholds(low=2, medium=4, high=8, critical=16)
    assert [t.severity(v) for v in (1.99, 2, 3.99, 4, 8, 15.9, 16, 100)] == [
        None, "low", "low", "medium", "high", "high", "critical", "critical"]
    d = Thresholds(low=0.5, medium=0.3, high=0.2, critical=0.1, ascending=False)
    assert [d.severity(v) for v in (0.51, 0.5, 0.3, 0.1, 0.0)] == [
        None, "low", "medium", "critical", "critical",
    ]
    with pytest.raises(ValueError):
        Thresholds(low=4, medium=2, high=8, critical=16)


def test_config_errors_name_the_problem(tmp_path) -> None:
    bad = tmp_path / "deanalyze.toml"
    bad.write_text('[rules."spark.nope"]\nx = 1\n')
    with pytest.raises(ConfigError, match="unknown rule id 'spark.nope'"):
        load_config(bad)
    bad.write_text("not = [valid")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)


def test_suppression_by_rule_and_app_pattern() -> None:
    config = parse_config({
        "suppress": {"apps": ["adhoc-*"], "rules": [{"rule": "spark.spill", "app": "etl-*"}]},
        "rules": {"spark.spill": {"enabled": True}},
    })
    assert config.is_suppressed("spark.spill", "adhoc-1")
    assert config.is_suppressed("spark.spill", "etl-daily")
    assert not config.is_suppressed("spark.spill", "report-daily")
    off = parse_config({"rules": {"spark.spill": {"enabled": False}}})
    assert off.is_suppressed("spark.spill", "anything")


def test_a_rule_failing_on_one_input_loses_only_its_findings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import EVENTS

    from analyzer.api import analyze_spark_logs
    from rules.spark.spill import StageSpill

    def broken(self, app, config):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(StageSpill, "check", broken)
    report = analyze_spark_logs([str(EVENTS / "apache-spark/spark-events/local-1430917381534")])
    assert len(report.applications) == 1
    assert [e.message for e in report.errors] == [
        "rule spark.spill failed: ZeroDivisionError: boom (rerun with --debug)"]
    with pytest.raises(ZeroDivisionError):
        analyze_spark_logs([str(EVENTS / "apache-spark/spark-events/local-1430917381534")], debug=True)


# -- severities, confidence and the --fail-on gate -----------------------------------------------

def _finding(severity: str, confidence: str = "high") -> Finding:
    return Finding(rule_id="spark.skew", severity=severity, subject={"app_id": "a"}, title="t", evidence={},
                   recommendation="r", confidence=confidence)


def test_info_is_below_every_gate_and_thresholds_never_grade_it() -> None:
    assert SEVERITIES[1:] == GATED_SEVERITIES == ("low", "medium", "high", "critical")
    assert SEVERITIES[0] == "info"
    assert [_finding(s).severity_rank for s in SEVERITIES] == [-1, 0, 1, 2, 3]
    t = Thresholds(low=2, medium=4, high=8, critical=16)
    assert {t.severity(v) for v in (0.0, 1.0, 2.0, 5.0, 100.0)} == {None, "low", "medium", "critical"}
    assert severity_at_least("low", "info") and not severity_at_least("info", "low")
    with pytest.raises(ValueError, match="unknown severity"):
        _finding("severe")
    with pytest.raises(ValueError, match="unknown confidence"):
        _finding("low", confidence="certain")


@pytest.mark.parametrize(("severities", "fail_on", "code"), [
    (("info",), "low", EXIT_OK),  # an early warning never fails a run
    (("info", "info"), "low", EXIT_OK),
    (("info", "low"), "low", EXIT_FINDINGS),
    (("low",), "medium", EXIT_OK),
    (("critical",), "never", EXIT_OK),
    (("medium", "info"), "medium", EXIT_FINDINGS),
])
def test_fail_on_counts_gated_severities_only(severities: tuple[str, ...], fail_on: str, code: int) -> None:
    report = Report(generated_at="2026-12-01T00:00:00+00:00", applications=(),
                    findings=tuple(_finding(s) for s in severities))
    assert exit_code(report, fail_on) == code


def test_json_findings_carry_confidence_and_scale_note(report_schema: dict) -> None:  # type: ignore[type-arg]
    early = dataclasses.replace(_finding("info", "medium"), scale_note="at 100x the data: 5 min")
    doc = orjson.loads(JsonRenderer().render(Report(generated_at="2026-12-01T00:00:00+00:00",
                                                    applications=(), findings=(early,))))
    jsonschema.validate(doc, report_schema)
    (f,) = doc["findings"]
    assert (f["severity"], f["confidence"], f["scale_note"]) == ("info", "medium", "at 100x the data: 5 min")
    assert doc["schema_version"] == SCHEMA_VERSION >= "1.2"
