"""BigQuery job history, live or exported, as a source the CLI, API and audit share."""

from __future__ import annotations

from analyzer.core.errors import SourceSettingsError
from analyzer.core.sources import Settings, SourceOption, WarehouseSource
from analyzer.core.warehouse_model import WarehouseHistory

EDITIONS = ("standard", "enterprise", "enterprise_plus")
LIVE_DAYS = 7
DEFAULT_TIMEOUT_S = 60  # the same defaults as connectors/bigquery/live.py, which is imported lazily
DEFAULT_RETRIES = 3


def _read(s: Settings) -> WarehouseHistory:
    if s.get("jobs_file"):
        from connectors.bigquery.export import read_bigquery_export

        return read_bigquery_export(str(s["jobs_file"]), s.get("table_storage_file"))  # type: ignore[arg-type]
    from connectors.bigquery.live import read_bigquery_live

    days = int(s.get("days") or LIVE_DAYS)  # type: ignore[call-overload]
    return read_bigquery_live(str(s["project"]), str(s.get("region") or "us"), days,
                              by_organization=bool(s.get("by_organization")),
                              timeout=float(s.get("timeout") or DEFAULT_TIMEOUT_S),  # type: ignore[arg-type]
                              retries=int(s.get("retries") if s.get("retries") is not None  # type: ignore[call-overload]
                                          else DEFAULT_RETRIES))


def _label(s: Settings) -> str:
    return str(s.get("jobs_file") or f"bigquery://{s.get('project')}/region-{s.get('region') or 'us'}")


def _check(s: Settings) -> None:
    if bool(s.get("project")) == bool(s.get("jobs_file")):
        raise SourceSettingsError("give either project (live) or jobs_file (export)")
    if s.get("project") and s.get("table_storage_file"):
        raise SourceSettingsError("table_storage_file: only with jobs_file (a live read lists tables itself)")


SOURCE = WarehouseSource(
    name="bigquery",
    audit_table="bigquery",
    help="Analyse BigQuery job history: live from INFORMATION_SCHEMA, or from an exported file.",
    options=(
        SourceOption("project", "Project whose INFORMATION_SCHEMA.JOBS_BY_PROJECT is read (live)."),
        SourceOption("region", "Region qualifier, e.g. us, eu, us-central1.", default="us",
                     show_default=True),
        SourceOption("days", "Window (live).", type="int", default=LIVE_DAYS, minimum=1, maximum=180,
                     show_default=True, audit=False),
        SourceOption("by_organization", "Read JOBS_BY_ORGANIZATION instead (live).", type="bool"),
        SourceOption("timeout", "Seconds to wait for each request to BigQuery (live).", type="float",
                     default=DEFAULT_TIMEOUT_S, minimum=1, maximum=3600, show_default=True),
        SourceOption("retries", "Retries of a request BigQuery answered busy (429, 5xx) or that lost "
                     "its connection (live).", type="int", default=DEFAULT_RETRIES, minimum=0, maximum=10,
                     show_default=True),
        SourceOption("jobs_file", "Exported JOBS rows: NDJSON, JSON, CSV, Parquet.", type="path"),
        SourceOption("table_storage_file", "Exported TABLE_STORAGE rows.", type="path"),
        SourceOption("edition", "Editions price used for slot-hours.", type="choice", choices=EDITIONS,
                     default="standard", show_default=True),
        SourceOption("show_sql_literals", "Keep literals in SQL shown in reports (masked by default).",
                     type="bool"),
    ),
    read=_read,
    label=_label,
    check=_check,
)
