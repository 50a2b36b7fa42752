"""Golden-file tests of the Markdown and JSON reports: the bundled sample logs, and the
Snowflake and BigQuery export fixtures (findings, bills, costliest query patterns).

Regenerate after an intended change with:

    DEANALYZE_UPDATE_GOLDEN=1 python3 -m pytest tests/reports/test_golden.py

and review the diff of tests/golden/ like any other code change. Update mode rewrites the
files and skips the comparison (a file compared with itself proves nothing); it refuses to
run in CI (``CI`` or a CI system's variable set), where it would turn every report change
green. A changed report fails with a unified diff of the golden file, for the reviewer.
tests/reports/test_golden_by_hand.py checks the BigQuery golden report's bill against
figures computed by hand from the fixture export.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from pathlib import Path

import jsonschema
import pytest
from conftest import TESTS

from analyzer.api import analyze_spark_logs, analyze_warehouse
from connectors.bigquery import read_bigquery_export
from connectors.snowflake import read_snowflake_export
from reports import RENDERERS

GOLDEN = TESTS / "golden"
ROOT = TESTS.parent
UPDATE = os.environ.get("DEANALYZE_UPDATE_GOLDEN") == "1"
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD",
                "TEAMCITY_VERSION")
DIFF_LINES = 120


def in_ci() -> bool:
    """True on a CI runner: every CI system sets one of these (most set ``CI=true``)."""
    return any(os.environ.get(v, "").strip().lower() not in ("", "0", "false", "no") for v in CI_VARIABLES)


def check_golden(path: Path, rendered: str, *, update: bool | None = None) -> None:
    """Compare ``rendered`` with the golden file; in update mode rewrite it and skip instead.

    Why skip: a file written and then compared with itself always passes, which would make
    update mode look like a green run. Why refuse in CI: there, update mode would accept
    any change to any report without a person reading the diff.
    """
    if UPDATE if update is None else update:
        if in_ci():
            pytest.fail("DEANALYZE_UPDATE_GOLDEN=1 is refused in CI: regenerate golden files locally and "
                        "commit them with their diff reviewed", pytrace=False)
        path.write_text(rendered)
        pytest.skip(f"{path.name} rewritten: review `git diff -- {path.relative_to(ROOT)}` before committing")
    assert path.exists(), f"{path.name} missing; create it with DEANALYZE_UPDATE_GOLDEN=1"
    expected = path.read_text()
    if rendered != expected:
        diff = list(difflib.unified_diff(expected.splitlines(keepends=True),
                                         rendered.splitlines(keepends=True),
                                         f"tests/golden/{path.name}", "rendered now", n=2))
        shown = "".join(diff[:DIFF_LINES]) + (f"... {len(diff) - DIFF_LINES} more diff lines\n"
                                               if len(diff) > DIFF_LINES else "")
        pytest.fail(f"{path.name} changed; if intended, regenerate with DEANALYZE_UPDATE_GOLDEN=1 and "
                    f"review the diff:\n{shown}", pytrace=False)


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cwd = os.getcwd()
    os.chdir(ROOT)  # sources are reported relative to where the user runs deanalyze
    try:
        report = analyze_spark_logs(["examples/spark-events"])
    finally:
        os.chdir(cwd)
    return dataclasses.replace(report, generated_at="2026-01-01T00:00:00+00:00", tool_version="golden")


@pytest.mark.parametrize(("fmt", "name"), [("md", "sample-report.md"), ("json", "sample-report.json")])
def test_report_matches_golden_file(sample_report, fmt: str, name: str) -> None:  # type: ignore[no-untyped-def]
    check_golden(GOLDEN / name, RENDERERS[fmt]().render(sample_report).decode())


def _warehouse_report(vendor: str):  # type: ignore[no-untyped-def]
    cwd = os.getcwd()
    os.chdir(ROOT)  # sources are reported relative to where the user runs deanalyze
    try:
        data = "tests/data/warehouse/"
        if vendor == "snowflake":
            history = read_snowflake_export(data + "snowflake_query_history.csv",
                                            data + "snowflake_warehouse_metering.csv")
        else:
            history = read_bigquery_export(data + "bigquery_jobs.jsonl", data + "bigquery_table_storage.csv")
        report = analyze_warehouse([history])
    finally:
        os.chdir(cwd)
    return dataclasses.replace(report, generated_at="2026-01-01T00:00:00+00:00", tool_version="golden")


@pytest.mark.parametrize("vendor", ["snowflake", "bigquery"])
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_warehouse_report_matches_golden_file(vendor: str, fmt: str) -> None:
    rendered = RENDERERS[fmt]().render(_warehouse_report(vendor)).decode()
    check_golden(GOLDEN / f"{vendor}-report.{fmt}", rendered)


def test_update_mode_is_refused_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    golden = tmp_path / "x.md"
    golden.write_text("old\n")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="refused in CI"):
        check_golden(golden, "new\n", update=True)
    assert golden.read_text() == "old\n"


def test_update_mode_rewrites_and_skips_instead_of_comparing_with_itself(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    golden = ROOT / "tests" / "golden" / "x-update-check.md"
    try:
        with pytest.raises(pytest.skip.Exception, match="rewritten"):
            check_golden(golden, "new\n", update=True)
        assert golden.read_text() == "new\n"
    finally:
        golden.unlink(missing_ok=True)


def test_a_changed_report_fails_with_a_readable_diff(tmp_path: Path) -> None:
    golden = tmp_path / "r.md"
    golden.write_text("# report\n- Total cost: $10.00\n- end\n")
    with pytest.raises(pytest.fail.Exception) as info:
        check_golden(golden, "# report\n- Total cost: $12.00\n- end\n", update=False)
    message = str(info.value)
    assert "-- Total cost: $10.00\n" in message and "+- Total cost: $12.00\n" in message
    assert "tests/golden/r.md" in message and "DEANALYZE_UPDATE_GOLDEN=1" in message


@pytest.mark.parametrize(("env", "expected"), [({}, False), ({"CI": "true"}, True), ({"CI": "false"}, False),
                                               ({"GITHUB_ACTIONS": "true"}, True), ({"CI": "0"}, False)])
def test_ci_detection(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert in_ci() is expected


@pytest.mark.parametrize("name", ["sample-report.json", "snowflake-report.json", "bigquery-report.json"])
def test_golden_json_follows_the_schema(report_schema: dict, name: str) -> None:
    jsonschema.validate(json.loads((GOLDEN / name).read_text()), report_schema)


def test_savings_never_exceed_the_bill(sample_report) -> None:  # type: ignore[no-untyped-def]
    for cost in sample_report.costs:
        assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd)
        own = [f for f in sample_report.findings if f.subject.get("app_id") == cost.app_id]
        assert sum(f.estimated_savings_usd for f in own) <= cost.total_usd + 1e-9


def test_conf_lines_are_extracted_without_sentence_punctuation() -> None:
    from reports.markdown_report import CONF as _CONF

    text = ('Use --conf spark.sql.shuffle.partitions=480. Or --conf a.b=250k, and '
            '--conf spark.executor.extraJavaOptions="-XX:+UseG1GC -XX:MaxGCPauseMillis=200" (G1).')
    assert _CONF.findall(text) == ["spark.sql.shuffle.partitions=480", "a.b=250k",
                                   'spark.executor.extraJavaOptions="-XX:+UseG1GC -XX:MaxGCPauseMillis=200"']
