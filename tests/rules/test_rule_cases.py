"""Every rule against its case file: hand-built models, config overrides, hand-computed expectations.

Why a data-driven test: each rule's severity boundaries, damping and evidence are pinned in
``tests/rules/cases/<rule id>.toml`` (sqlfluff's ``std_rule_cases`` idea), with the expected
numbers worked out by hand in comments beside each model, never by calling the rule's own
helpers. The real-Spark scenario logs stay for the end-to-end tests.

A case file::

    rule = "spark.skew"            # must match the file name

    [[case]]
    name = "time ratio exactly 4 is medium"
    config = { min_stage_seconds = 5 }             # options of the rule, merged by rules.config
    xfail = "why the rule is believed wrong"       # optional: a suspected bug, left unfixed (strict:
                                                   # a fixed rule fails the case until the line goes)
    [case.model]                                  # tests/rules/builders.py: spark_app / warehouse_history
    ...
    [case.expect]
    no_finding = true                              # or:
    severity = "medium"
    count = 1                                      # findings of the rule (default: 1 unless no_finding)
    subject = { cause = "spill" }                  # picks the finding to compare among several
    confidence = "high"
    evidence = { time_ratio = 4.0 }                # a subset of the finding's evidence, exact
    approx = { "early_warning.measured_avoidable.core_hours" = 1e-9 }   # absolute tolerances, by path
    title = ["for the driver, between jobs 0 and 1"]                  # substrings of the title
    recommendation = ["--conf spark.sql.shuffle.partitions=212"]       # substrings
    avoidable_core_hours = 0.05                    # exact unless listed in approx
    avoidable_usage = { credits = 20.0 }

TOML has no null, so an expected value of ``"<none>"`` means None.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from builders import NONE, spark_app, warehouse_history

from analyzer.core.findings import Finding
from rules.config import parse_config
from rules.registry import all_rules, rules_by_id

CASES = Path(__file__).resolve().parent / "cases"
MIN_CASES = 4
CASE_KEYS = {"name", "model", "config", "expect", "xfail"}
EXPECT_KEYS = {"no_finding", "severity", "count", "subject", "confidence", "evidence", "approx", "title",
               "recommendation", "avoidable_core_hours", "avoidable_usage"}


@dataclass(frozen=True)
class Case:
    """One case of one rule file."""

    rule_id: str
    name: str
    model: dict[str, Any]
    config: dict[str, Any]
    expect: dict[str, Any]
    xfail: str | None


def load_cases() -> list[Case]:
    """Every case of every case file, in file then case order."""
    cases = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rule_id = data.get("rule", path.stem)
        for item in data.get("case", []):
            cases.append(Case(rule_id=rule_id, name=item["name"], model=item.get("model", {}),
                              config=item.get("config", {}), expect=item["expect"], xfail=item.get("xfail")))
    return cases


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=f"{case.rule_id}::{case.name}", marks=marks)


def run_case(case: Case) -> list[Finding]:
    """Build the model, merge the config through the public loader, and run the rule's ``check``."""
    rule = rules_by_id()[case.rule_id]
    config = parse_config({"rules": {case.rule_id: case.config}}).config_for(rule)
    model = spark_app(case.model) if rule.kind == "spark" else warehouse_history(case.model)
    return list(rule().check(model, config))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [_param(c) for c in load_cases()])
def test_rule_case(case: Case) -> None:
    findings = run_case(case)
    expect = case.expect
    if expect.get("no_finding"):
        assert findings == [], [f"{f.severity}: {f.title}" for f in findings]
        return
    assert len(findings) == expect.get("count", 1), [f"{f.severity}: {f.title}" for f in findings]
    wanted = expect.get("subject", {})
    chosen = [f for f in findings
              if all(f.subject.get(k) == (None if v == NONE else v) for k, v in wanted.items())]
    assert len(chosen) == 1, f"{len(chosen)} findings match subject {wanted}"
    finding = chosen[0]
    tolerances: dict[str, float] = expect.get("approx", {})
    assert finding.severity == expect["severity"], finding.evidence
    if "confidence" in expect:
        assert finding.confidence == expect["confidence"]
    assert_subset(dict(finding.evidence), expect.get("evidence", {}), "", tolerances)
    for text in expect.get("title", []):
        assert text in finding.title, finding.title
    for text in expect.get("recommendation", []):
        assert text in finding.recommendation, finding.recommendation
    if "avoidable_core_hours" in expect:
        assert_value(finding.avoidable_core_hours, expect["avoidable_core_hours"], "avoidable_core_hours",
                     tolerances)
    if "avoidable_usage" in expect:
        assert_subset(dict(finding.avoidable_usage), expect["avoidable_usage"], "avoidable_usage.",
                      tolerances)


def assert_subset(actual: dict[str, Any], expected: dict[str, Any], prefix: str,
                  tolerances: dict[str, float]) -> None:
    """Every expected key is present with the expected value (nested tables compared the same way)."""
    for key, want in expected.items():
        path = f"{prefix}{key}"
        assert key in actual, f"evidence has no {path!r}: {sorted(actual)}"
        assert_value(actual[key], want, path, tolerances)


def assert_value(got: Any, want: Any, path: str, tolerances: dict[str, float]) -> None:
    """Exact equality, except floats within the tolerance listed for their path; tables as subsets."""
    if isinstance(want, dict) and isinstance(got, dict):
        assert_subset(got, want, f"{path}.", tolerances)
    elif isinstance(want, list) and isinstance(got, list | tuple):
        assert len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_value(g, w, f"{path}[{i}]", tolerances)
    elif path in tolerances:
        assert math.isclose(float(got), float(want), rel_tol=0.0, abs_tol=tolerances[path]), \
            f"{path}: {got!r} != {want!r} ± {tolerances[path]}"
    elif want == NONE:
        assert got is None, f"{path}: {got!r} is not None"
    elif isinstance(want, bool) or isinstance(got, bool):
        assert got is want, f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


# --- The case files themselves -------------------------------------------------------------------


def test_every_rule_has_a_case_file_with_enough_cases() -> None:
    counts: dict[str, int] = {}
    for case in load_cases():
        counts[case.rule_id] = counts.get(case.rule_id, 0) + 1
    missing = {rule.id: counts.get(rule.id, 0) for rule in all_rules() if counts.get(rule.id, 0) < MIN_CASES}
    assert not missing, f"rules with fewer than {MIN_CASES} cases: {missing}"


def test_every_case_file_names_an_existing_rule() -> None:
    known = set(rules_by_id())
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data.get("rule") == path.stem, f"{path.name}: rule = {data.get('rule')!r}"
        assert path.stem in known, f"{path.name} names no rule"
        names = [c["name"] for c in data.get("case", [])]
        assert len(names) == len(set(names)), f"{path.name}: duplicate case names"
        assert set(data) <= {"rule", "case"}, f"{path.name}: unknown top-level keys"


def test_case_and_expectation_keys_are_known() -> None:
    """A misspelt key (``evidnce``) would silently check nothing."""
    for path in sorted(CASES.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8")).get("case", []):
            where = f"{path.name}::{case.get('name')}"
            assert set(case) <= CASE_KEYS, f"{where}: unknown keys {set(case) - CASE_KEYS}"
            assert set(case["expect"]) <= EXPECT_KEYS, f"{where}: unknown {set(case['expect']) - EXPECT_KEYS}"


def test_every_case_file_has_a_healthy_case_and_two_graded_severities() -> None:
    by_rule: dict[str, list[Case]] = {}
    for case in load_cases():
        by_rule.setdefault(case.rule_id, []).append(case)
    for rule_id, cases in by_rule.items():
        assert any(c.expect.get("no_finding") for c in cases), f"{rule_id}: no case without a finding"
        graded = {c.expect.get("severity") for c in cases if not c.xfail} - {None, "info"}
        assert len(graded) >= 2, f"{rule_id}: cases on one side of a boundary only: {graded}"


def test_every_case_expects_a_verdict() -> None:
    for case in load_cases():
        assert case.expect.get("no_finding") or "severity" in case.expect, f"{case.rule_id}::{case.name}"
