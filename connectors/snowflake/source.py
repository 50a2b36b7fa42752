"""Snowflake query history and metering, live or exported, as a source the CLI, API and audit share."""

from __future__ import annotations

from analyzer.core.errors import SourceSettingsError
from analyzer.core.sources import Settings, SourceOption, WarehouseSource
from analyzer.core.warehouse_model import WarehouseHistory

LIVE_DAYS = 7
DEFAULT_TIMEOUT_S = 60  # as connectors/snowflake/connection.py, which is imported lazily


def _read(s: Settings) -> WarehouseHistory:
    if s.get("query_history_file"):
        from connectors.snowflake.export import read_snowflake_export

        return read_snowflake_export(str(s["query_history_file"]), s.get("metering_file"))  # type: ignore[arg-type]
    from connectors.snowflake.live import read_snowflake_live

    return read_snowflake_live(s.get("connection"), int(s.get("days") or LIVE_DAYS),  # type: ignore[arg-type, call-overload]
                               timeout=int(s.get("timeout") or DEFAULT_TIMEOUT_S))  # type: ignore[call-overload]


def _label(s: Settings) -> str:
    return str(s.get("query_history_file") or f"snowflake://{s.get('connection') or 'environment'}")


def _check(s: Settings) -> None:
    live = bool(s.get("connection") or s.get("live"))
    if live == bool(s.get("query_history_file")):
        raise SourceSettingsError("give either connection or live = true (live), "
                                  "or query_history_file (export)")
    if live and s.get("metering_file"):
        raise SourceSettingsError("metering_file: only with query_history_file (a live read meters itself)")


SOURCE = WarehouseSource(
    name="snowflake",
    audit_table="snowflake",
    help="Analyse Snowflake query history and metering: live from ACCOUNT_USAGE, or from exported files.",
    options=(
        SourceOption("connection",
                     "Named connection from the Snowflake connector's connections.toml (live)."),
        SourceOption("live", "Connect with the SNOWFLAKE_* environment variables (live).", type="bool"),
        SourceOption("days", "Window (live).", type="int", default=LIVE_DAYS, minimum=1, maximum=365,
                     show_default=True, audit=False),
        SourceOption("timeout", "Seconds for logging in and for each request to Snowflake (live).",
                     type="int", default=DEFAULT_TIMEOUT_S, minimum=1, maximum=3600, show_default=True),
        SourceOption("query_history_file", "Exported QUERY_HISTORY rows: CSV (Snowsight), JSON, Parquet.",
                     type="path"),
        SourceOption("metering_file", "Exported WAREHOUSE_METERING_HISTORY rows.", type="path"),
        SourceOption("show_sql_literals", "Keep literals in SQL shown in reports (masked by default).",
                     type="bool"),
    ),
    read=_read,
    label=_label,
    check=_check,
)
