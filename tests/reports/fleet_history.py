"""A small real history for the fleet renderers: replayed Spark runs (one regression, one hostile
name, owners) plus the bundled Snowflake and BigQuery exports, with findings that come and go."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))

from fleet_logs import DAY_MS, replay  # noqa: E402

from analyzer.api import analyze_spark_logs  # noqa: E402
from analyzer.api.history import analyze_warehouse_with_history, record_report  # noqa: E402
from analyzer.core.findings import Finding  # noqa: E402
from connectors.bigquery import read_bigquery_export  # noqa: E402
from connectors.snowflake import read_snowflake_export  # noqa: E402

HOSTILE = '</script><script>alert(1)</script><img src=x onerror="window.__xss=1">'
WAREHOUSE = ROOT / "tests" / "data" / "warehouse"
START = 1_800_000_000_000


def build_history(folder: Path) -> Path:
    """Write the history and return its path."""
    history = folder / "fleet.duckdb"
    for i in range(7):
        run = folder / f"run{i}"
        run.mkdir()
        slow = 2.0 if i == 6 else 1.0 + 0.02 * (i % 3)
        replay(
            run,
            f"local-{1_900_000_000_000 + i}",
            START + i * DAY_MS,
            time_factor=slow,
            app_name=HOSTILE,
            extra_properties={"spark.yarn.queue": HOSTILE if i % 2 else "etl"},
        )
        replay(
            run, f"local-{1_900_000_000_100 + i}", START + i * DAY_MS + 3_600_000, app_name="nightly-clicks"
        )
        report = analyze_spark_logs([str(run)])
        app = next(a for a in report.applications if a.name == HOSTILE)
        subject = {
            "app_id": app.app_id,
            "attempt_id": app.attempt_id,
            "app_name": app.name,
            "stage_id": 0,
            "stage_name": HOSTILE,
        }
        findings = (
            [
                Finding(
                    rule_id="spark.skew",
                    severity="high",
                    title="skew",
                    subject=subject,
                    evidence={},
                    recommendation="",
                    estimated_savings_usd=0.0001,
                )
            ]
            if i < 4
            else []
        )
        record_report(history, replace(report, findings=tuple(findings)))
    analyze_warehouse_with_history(
        history,
        lambda: read_snowflake_export(
            str(WAREHOUSE / "snowflake_query_history.csv"),
            str(WAREHOUSE / "snowflake_warehouse_metering.csv"),
        ),
        "qh.csv",
        source_name="prod",
        owner_keys={"snowflake": ("tag:dashboard",)},
    )
    analyze_warehouse_with_history(
        history,
        lambda: read_bigquery_export(
            str(WAREHOUSE / "bigquery_jobs.jsonl"), str(WAREHOUSE / "bigquery_table_storage.csv")
        ),
        "jobs.jsonl",
        source_name="bq",
    )
    return history
