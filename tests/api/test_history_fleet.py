"""The fleet view over a history: warehouse days and dbt models, owners and the unattributed share,
findings followed across runs with their realised savings."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from fleet_logs import DAY_MS, replay

from analyzer.api import analyze_spark_logs
from analyzer.api.history import analyze_warehouse_with_history, fleet_report, open_store, record_report
from analyzer.api.history.identity import normalise_name, spark_app_key, tag_values
from analyzer.api.history.owners import check_owner_keys
from analyzer.core.findings import Finding
from analyzer.core.fleet import UNATTRIBUTED
from analyzer.core.report import Report
from connectors.bigquery import read_bigquery_export
from connectors.snowflake import read_snowflake_export

ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE = ROOT / "tests" / "data" / "warehouse"
START = 1_800_000_000_000


def snowflake():  # type: ignore[no-untyped-def]
    return read_snowflake_export(
        str(WAREHOUSE / "snowflake_query_history.csv"), str(WAREHOUSE / "snowflake_warehouse_metering.csv")
    )


def bigquery():  # type: ignore[no-untyped-def]
    return read_bigquery_export(
        str(WAREHOUSE / "bigquery_jobs.jsonl"), str(WAREHOUSE / "bigquery_table_storage.csv")
    )


def test_warehouse_days_group_by_dbt_model_and_pattern_and_attribute_owners(tmp_path: Path) -> None:
    history = tmp_path / "h.duckdb"
    sf = analyze_warehouse_with_history(
        history, snowflake, "qh.csv", source_name="prod", owner_keys={"snowflake": ("tag:dashboard",)}
    )
    analyze_warehouse_with_history(history, bigquery, "jobs.jsonl", source_name="bq")
    fleet = fleet_report(history)
    apps = {a.key: a for a in fleet.applications}
    orders = apps["snowflake:dbt=fct_orders@prod"]
    assert orders.name == "fct_orders" and len(orders.runs) == 7 and all(r.runs == 1 for r in orders.runs)
    assert [r.app_id for r in orders.runs] == sorted(r.app_id for r in orders.runs)
    snowflake_total = sum(a.total_usd for a in fleet.applications if a.kind == "snowflake")
    assert snowflake_total == pytest.approx(sum(c.total_usd for c in sf.warehouse_costs), rel=0.02)
    owners = dict(fleet.cost_by_owner())
    assert "dashboard=sales" in owners and UNATTRIBUTED in owners
    assert list(owners)[-1] == UNATTRIBUTED
    assert sum(owners.values()) == pytest.approx(fleet.total_usd)
    assert "team=data-eng" in owners  # BigQuery's default keys start with the label team
    # recording the same window again replaces its days
    analyze_warehouse_with_history(
        history, snowflake, "qh.csv", source_name="prod", owner_keys={"snowflake": ("tag:dashboard",)}
    )
    assert fleet_report(history).total_usd == pytest.approx(fleet.total_usd)
    assert fleet_report(history, app="fct_*").applications[0].key == "snowflake:dbt=fct_orders@prod"


def test_an_overlapping_window_counts_every_query_once(tmp_path: Path) -> None:
    full = snowflake()
    history = tmp_path / "h.duckdb"
    analyze_warehouse_with_history(history, lambda: full, "qh.csv", source_name="prod")
    with open_store(history, read_only=True) as store:
        recorded = store.one("SELECT sum(runs) FROM warehouse_usage")
    starts = sorted(q.start_time_ms for q in full.queries if q.start_time_ms is not None)
    cut = starts[len(starts) // 2] // 3_600_000 * 3_600_000  # an hour boundary inside the data
    later = replace(full, queries=[q for q in full.queries if (q.start_time_ms or 0) >= cut],
                    window_start_ms=cut, window_end_ms=starts[-1] + 1)
    analyze_warehouse_with_history(history, lambda: later, "qh.csv", source_name="prod")
    with open_store(history, read_only=True) as store:
        assert store.one("SELECT sum(runs) FROM warehouse_usage") == recorded
        before = dt.datetime.fromtimestamp(cut / 1000, dt.UTC).replace(tzinfo=None)
        assert (store.one("SELECT count(*) FROM warehouse_usage WHERE hour < ?", [before]) or (0,))[0] > 0


def _finding(report: Report, rule: str, saving: float) -> Finding:
    app = report.applications[0]
    return Finding(
        rule_id=rule,
        severity="medium",
        title=f"{rule} on stage 0",
        subject={
            "app_id": app.app_id,
            "attempt_id": app.attempt_id,
            "app_name": app.name,
            "stage_id": 0,
            "stage_name": app.stages[0].name,
        },
        evidence={},
        recommendation="",
        estimated_savings_usd=saving,
    )


def test_findings_are_followed_across_runs_with_realised_savings(tmp_path: Path) -> None:
    history = tmp_path / "h.duckdb"
    for i in range(6):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        queue = {"spark.yarn.queue": "etl"} if i % 2 else None
        replay(
            folder,
            f"local-{1_900_000_000_000 + i}",
            START + i * DAY_MS,
            time_factor=2.0 if i < 3 else 1.0,
            app_name="etl",
            extra_properties=queue,
        )
        report = analyze_spark_logs([str(folder)])
        findings = [_finding(report, "spark.spill", 0.00001)]
        if i < 3:
            findings.append(_finding(report, "spark.skew", 0.0001))
        if i == 5:
            findings.append(_finding(report, "spark.gc-pressure", 0.00002))
        record_report(
            history,
            replace(report, findings=tuple(findings)),
            owner_keys={"spark": check_owner_keys("spark", ["prop:spark.yarn.queue"])},
        )
    fleet = fleet_report(history)
    tracks = {t.rule_id: t for t in fleet.findings}
    assert {r: t.status for r, t in tracks.items()} == {
        "spark.skew": "resolved",
        "spark.spill": "persisting",
        "spark.gc-pressure": "new",
    }
    skew = tracks["spark.skew"]
    costs = [r.cost_usd or 0.0 for r in fleet.applications[0].runs]
    assert skew.runs_seen == 3 and skew.predicted_saving_usd == pytest.approx(0.0001)
    assert skew.realised_saving_usd == pytest.approx(sorted(costs[:3])[1] - sorted(costs[3:])[1])
    assert skew.realised_saving_usd is not None and skew.realised_saving_usd > 0
    owners = dict(fleet.cost_by_owner())
    assert set(owners) == {"spark.yarn.queue=etl", UNATTRIBUTED}
    with open_store(history, read_only=True) as store:
        assert store.one("SELECT count(*) FROM findings") == (10,)


def test_recurring_keys() -> None:
    assert normalise_name("load_2026-11-30_batch 0042") == "load_<date>_batch <n>"
    assert normalise_name("job 3f2a9c1e77d04b1a") == "job <id>"
    report = analyze_spark_logs([str(ROOT / "examples" / "spark-events" / "local-1430917381534")])
    app = report.applications[0]
    assert spark_app_key(app) == "spark:Spark shell"
    assert spark_app_key(app, ["spark.app.name"]) == "spark:spark.app.name=Spark shell"
    airflow = replace(app, properties={**app.properties, "spark.openlineage.parentJobName": "dag.task"})
    assert spark_app_key(airflow) == "spark:airflow=dag.task"
    databricks = replace(app, properties={"spark.databricks.clusterUsageTags.clusterName": "job-42-run-7"})
    assert spark_app_key(databricks) == "spark:databricks-job=42"
    assert tag_values({"query_tag": '{"dbt_model": "orders", "team": "x"}'})["team"] == "x"
    with pytest.raises(ValueError, match="owner key 'queue'"):
        check_owner_keys("spark", ["queue"])
