"""The fleet report's JSON contract and Markdown, over a real history with a hostile application name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleet_history import HOSTILE, build_history

from analyzer.api.history import fleet_report
from analyzer.core.fleet import FleetReport
from reports.fleet_renderer import FLEET_RENDERERS, FleetRenderer


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> FleetReport:
    return fleet_report(build_history(tmp_path_factory.mktemp("fleet")))


def test_every_format_has_a_renderer() -> None:
    assert set(FLEET_RENDERERS) == {"md", "json", "html"}
    assert all(issubclass(FLEET_RENDERERS[f], FleetRenderer) for f in FLEET_RENDERERS)


SCHEMA = Path(__file__).resolve().parents[2] / "reports" / "schema" / "fleet.schema.json"


def test_json_contract(fleet: FleetReport) -> None:
    import jsonschema

    doc = json.loads(FLEET_RENDERERS["json"]().render(fleet))
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker())
    assert doc["fleet_schema_version"] == "1.0"
    app = next(a for a in doc["applications"] if a["name"] == HOSTILE)
    assert app["key"] == "spark:" + HOSTILE.replace("1", "<n>")  # digits normalised
    run = app["runs"][-1]
    assert set(run) >= {"app_id", "attempt_id", "start_time", "duration_ms", "cost_usd", "input_bytes"}
    assert run["app_id"] == "local-1900000000006" and run["start_time"].endswith("Z")
    regression = next(r for r in doc["regressions"] if r["metric"] == "duration_ms")
    assert set(regression) >= {"key", "app_id", "metric", "baseline", "value", "change", "stages"}
    assert regression["app_id"] == "local-1900000000006" and regression["stages"][0] == "0"
    assert regression["change"] == pytest.approx(regression["value"] / regression["baseline"], rel=1e-4)
    assert {f["status"] for f in doc["findings"]} >= {"resolved"}
    assert {d["kind"] for d in doc["daily_costs"]} == {"spark", "snowflake", "bigquery"}
    assert doc["owners"][-1]["owner"] == "(unattributed)" and 0 < doc["unattributed_share"] < 1
    assert sum(o["usd"] for o in doc["owners"]) == pytest.approx(doc["total_usd"], rel=1e-6)


def test_markdown_names_the_regression_and_escapes_names(fleet: FleetReport) -> None:
    text = FLEET_RENDERERS["md"]().render(fleet).decode()
    for heading in (
        "## Cost by owner",
        "## Recurring applications",
        "## Regressions",
        "## Findings across runs",
        "## Latest runs per application",
        "## Methodology",
    ):
        assert heading in text
    assert "local-1900000000006" in text and "Moved most: stage 0 (" in text
    assert "<script>" not in text and "&lt;/script&gt;" in text
    assert "(unattributed)" in text and "fct_orders" in text


def test_an_empty_history_renders_in_every_format(tmp_path: Path) -> None:
    from analyzer.api.history import open_store, render_fleet

    with open_store(tmp_path / "empty.duckdb"):
        pass
    fleet = fleet_report(tmp_path / "empty.duckdb")
    assert fleet.applications == () and fleet.total_usd == 0
    assert "No runs recorded." in render_fleet(fleet, "md").decode()
    assert json.loads(render_fleet(fleet, "json"))["applications"] == []
    assert b"Nothing to chart yet." in render_fleet(fleet, "html", plotlyjs="cdn")
