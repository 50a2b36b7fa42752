"""--jobs: every usable CPU by default (auto), a positive number otherwise, the same report either way."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import EVENTS

from analyzer.api.audit_config import AuditConfigError, load_audit_config
from analyzer.api.sources import SPARK_ANALYSIS_OPTIONS
from analyzer.cli import main

LOGS = str(EVENTS / "apache-spark" / "spark-events")


def _json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["spark-logs", LOGS, "--format", "json", *args])
    assert result.exit_code in (0, 1, 3), result.output
    doc = json.loads(result.stdout)
    doc.pop("generated_at")
    return doc


def test_jobs_defaults_to_auto_and_every_value_gives_the_same_report() -> None:
    assert next(o for o in SPARK_ANALYSIS_OPTIONS if o.name == "jobs").default == "auto"
    assert _json() == _json("--jobs", "1") == _json("--jobs", "auto") == _json("-j", "3")


def test_bad_jobs_values_are_usage_errors() -> None:
    for value in ("0", "-1", "many", "1.5"):
        result = CliRunner().invoke(main, ["spark-logs", LOGS, "--jobs", value])
        assert result.exit_code == 2 and "positive whole number or 'auto'" in result.output, value


def test_audit_tables_take_auto_or_a_number(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    for value, ok in (('"auto"', True), ("2", True), ("0", False), ('"two"', False), ("true", False)):
        config.write_text(f'[[spark]]\nname = "a"\npaths = ["x"]\njobs = {value}\n')
        try:
            load_audit_config(config)
            assert ok, value
        except AuditConfigError as err:
            assert not ok and "jobs" in str(err), (value, err)
