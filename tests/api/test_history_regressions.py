"""Regressions over real replayed runs: a run whose task times double is named, with its stage;
runs whose input doubled with their time are not regressions."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_logs import DAY_MS, replay

from analyzer.api.history import analyze_spark_with_history, fleet_report
from analyzer.core.fleet import FleetReport

START = 1_800_000_000_000
JITTER = (1.0, 1.04, 0.97, 1.02, 0.99)


def _runs(
    folder: Path,
    name: str,
    first_id: int,
    last_time: float,
    last_input: float,
    last_props: dict[str, str] | None = None,
) -> None:
    for i, factor in enumerate(JITTER):
        replay(folder, f"local-{first_id + i}", START + i * DAY_MS, time_factor=factor, app_name=name)
    replay(
        folder,
        f"local-{first_id + len(JITTER)}",
        START + len(JITTER) * DAY_MS,
        time_factor=last_time,
        input_factor=last_input,
        app_name=name,
        extra_properties=last_props,
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> FleetReport:
    logs = tmp_path_factory.mktemp("logs")
    _runs(
        logs,
        "nightly-orders-2026-11-01",
        1_900_000_000_000,
        2.0,
        1.0,
        {"spark.sql.shuffle.partitions": "2000"},
    )
    _runs(logs, "nightly-clicks", 1_900_000_000_100, 2.0, 2.0)
    history = tmp_path_factory.mktemp("h") / "fleet.duckdb"
    report = analyze_spark_with_history(history, [str(logs)])
    assert not report.errors and len(report.applications) == 12
    return fleet_report(history)


def test_the_slow_run_is_a_duration_regression_naming_its_stage(fleet: FleetReport) -> None:
    orders = [r for r in fleet.regressions if r.name.startswith("nightly-orders")]
    duration = next(r for r in orders if r.metric == "duration_ms")
    assert duration.app_id == "local-1900000000005"
    assert duration.key == "spark:nightly-orders-<date>"
    assert duration.change == pytest.approx(2.0 / 1.0, rel=0.05)
    assert duration.baseline_runs == 5 and duration.input_change == pytest.approx(1.0)
    assert (
        duration.stages[0].stage == "0" and duration.stages[0].value_ms > 1.8 * duration.stages[0].baseline_ms
    )
    assert [(c.key, c.before, c.after) for c in duration.config_changes] == [
        ("spark.sql.shuffle.partitions", None, "2000")
    ]
    assert {r.metric for r in orders} <= {"duration_ms", "cost_usd"}


def test_a_run_whose_input_doubled_with_its_time_is_no_regression(fleet: FleetReport) -> None:
    assert not [r for r in fleet.regressions if r.name == "nightly-clicks"]
    assert all(r.app_id != "local-1900000000105" for r in fleet.regressions)


def test_recurring_applications_group_dated_names_and_list_their_runs(fleet: FleetReport) -> None:
    apps = {a.key: a for a in fleet.applications}
    orders = apps["spark:nightly-orders-<date>"]
    assert [r.app_id for r in orders.runs] == [f"local-{1_900_000_000_000 + i}" for i in range(6)]
    assert orders.runs[0].start_time_ms == START and orders.runs[-1].duration_ms == pytest.approx(
        21010, rel=0.01
    )
    assert orders.usd_per_month is not None and orders.usd_per_run is not None
    clicks = apps["spark:nightly-clicks"].runs
    assert clicks[-1].input_bytes == 2 * (clicks[0].input_bytes or 0) > 0
