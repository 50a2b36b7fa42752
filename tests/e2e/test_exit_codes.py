"""Exit codes at every boundary: each ``--fail-on`` level, and the precedence between codes.

Why: CI gates are built on these codes. A gate that fires only *above* its level, or a
partial analysis (exit 3) reported as merely "findings" (exit 1), lets a pipeline pass
silently. The expected codes are written out by hand here (README "Exit codes"), never
computed with the product's own severity helpers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.api.output import exit_code
from analyzer.cli import main
from analyzer.core.findings import Finding
from analyzer.core.model import InputError
from analyzer.core.report import Report

ROOT = Path(__file__).resolve().parents[2]
SPILL_LOG = ROOT / "examples/spark-events/local-1795878785108"  # one spark.spill finding, severity high
CLEAN_LOG = ROOT / "tests/data/spark-events/apache-spark/spark-events/local-1430917381534"  # no finding

GATES = ("low", "medium", "high", "critical")


def finding(severity: str) -> Finding:
    return Finding(rule_id="spark.spill", severity=severity, subject={"app_id": "a"}, title="t",
                   evidence={}, recommendation="r")


def report(*severities: str, errors: int = 0) -> Report:
    return Report(generated_at="2026-01-01T00:00:00+00:00", applications=(),
                  findings=tuple(finding(s) for s in severities),
                  errors=tuple(InputError(f"bad-{i}", "unreadable") for i in range(errors)))


# (finding severity, --fail-on) -> exit code, written out in full: 1 exactly when the
# finding is at or above the gate.
MATRIX = {
    ("low", "low"): 1, ("low", "medium"): 0, ("low", "high"): 0, ("low", "critical"): 0,
    ("medium", "low"): 1, ("medium", "medium"): 1, ("medium", "high"): 0, ("medium", "critical"): 0,
    ("high", "low"): 1, ("high", "medium"): 1, ("high", "high"): 1, ("high", "critical"): 0,
    ("critical", "low"): 1, ("critical", "medium"): 1, ("critical", "high"): 1, ("critical", "critical"): 1,
}


@pytest.mark.parametrize(("severity", "gate"), sorted(MATRIX))
def test_every_fail_on_level_fires_at_its_boundary_and_above(severity: str, gate: str) -> None:
    assert exit_code(report(severity), gate) == MATRIX[(severity, gate)]


@pytest.mark.parametrize("severity", GATES)
def test_never_gates_nothing(severity: str) -> None:
    assert exit_code(report(severity), "never") == 0


@pytest.mark.parametrize("gate", GATES)
def test_no_finding_passes_every_gate(gate: str) -> None:
    assert exit_code(report(), gate) == 0


def test_info_findings_never_fail_a_gate() -> None:
    try:
        info = finding("info")
    except ValueError:
        pytest.skip("this version has no info severity")
    only_info = Report(generated_at="x", applications=(), findings=(info, info))
    for gate in GATES:
        assert exit_code(only_info, gate) == 0


def test_the_worst_finding_decides_not_the_first() -> None:
    assert exit_code(report("low", "low", "critical"), "critical") == 1
    assert exit_code(report("critical", "low"), "critical") == 1
    assert exit_code(report("medium", "low", "medium"), "high") == 0


@pytest.mark.parametrize("gate", [*GATES, "never"])
@pytest.mark.parametrize("severities", [(), ("low",), ("critical",)])
def test_unreadable_inputs_win_over_findings_and_over_clean(gate: str, severities: tuple[str, ...]) -> None:
    assert exit_code(report(*severities, errors=1), gate) == 3
    assert exit_code(report(*severities, errors=2), gate) == 3


# --- the same boundaries through the command line ------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def spill_severities() -> list[str]:
    code, out, _ = run("spark-logs", str(SPILL_LOG), "--format", "json")
    assert code == 0
    return graded(json.loads(out))


def graded(doc: dict) -> list[str]:  # type: ignore[type-arg]
    """Severities a gate can count: early warnings (info) are below every gate."""
    return [f["severity"] for f in doc["findings"] if f["severity"] != "info"]


def test_the_fixture_log_has_exactly_one_graded_finding_high(spill_severities: list[str]) -> None:
    assert spill_severities == ["high"]


@pytest.mark.parametrize(("gate", "expected"), [("low", 1), ("medium", 1), ("high", 1), ("critical", 0),
                                                ("never", 0)])
def test_cli_fail_on_at_each_level(gate: str, expected: int) -> None:
    assert run("spark-logs", str(SPILL_LOG), "--fail-on", gate)[0] == expected


def test_cli_fail_on_critical_fires_when_a_config_makes_the_finding_critical(tmp_path: Path) -> None:
    config = tmp_path / "deanalyze.toml"
    config.write_text('[rules."spark.spill"]\n'
                      'ratio = { low = 0.1, medium = 0.2, high = 0.3, critical = 0.4 }\n')
    code, out, _ = run("spark-logs", str(SPILL_LOG), "--format", "json", "--config", str(config),
                       "--fail-on", "critical")
    assert code == 1
    assert graded(json.loads(out)) == ["critical"]


def test_cli_clean_log_passes_the_strictest_gate() -> None:
    assert run("spark-logs", str(CLEAN_LOG), "--fail-on", "low")[0] == 0


@pytest.mark.parametrize("gate", ["low", "high", "never"])
def test_cli_unreadable_input_beside_a_finding_is_exit_3(tmp_path: Path, gate: str) -> None:
    bad = tmp_path / "app-1.lz4"
    bad.write_bytes(b"LZ4Block\x99corrupt")
    code, out, err = run("spark-logs", str(SPILL_LOG), str(bad), "--format", "json", "--fail-on", gate)
    assert code == 3
    doc = json.loads(out)
    assert graded(doc) == ["high"]  # the readable log is still reported
    assert [e["source"] for e in doc["errors"]] == [str(bad)]
    assert err.count("\n") == 1 and err.startswith(f"deanalyze: {bad}: ")


def test_cli_empty_folder_is_exit_3_not_a_passing_gate(tmp_path: Path) -> None:
    assert run("spark-logs", str(tmp_path), "--fail-on", "low")[0] == 3


def test_cli_usage_errors_are_exit_2() -> None:
    assert run("spark-logs", str(CLEAN_LOG), "--fail-on", "info")[0] == 2
    assert run("spark-logs", str(CLEAN_LOG), "--fail-on", "HIGHEST")[0] == 2
