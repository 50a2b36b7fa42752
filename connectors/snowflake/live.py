"""Snowflake history read live from SNOWFLAKE.ACCOUNT_USAGE with snowflake-connector-python.

Results are fetched as Arrow batches (``fetch_arrow_batches``) and go through the same
normalizer as export files; drivers or result formats without Arrow fall back to
``fetchmany``. The window's bounds are bound parameters (epoch seconds, read by
TO_TIMESTAMP_LTZ), never formatted into the SQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from analyzer.core.warehouse_model import WarehouseHistory
from connectors.snowflake.connection import DEFAULT_TIMEOUT_S, connect, import_connector, known_secrets
from connectors.snowflake.normalize import (
    METERING_COLUMNS,
    QUERY_COLUMNS,
    VENDOR,
    metering_to_hours,
    queries_to_table,
    warehouses_to_settings,
)
from connectors.warehouse_files import WarehouseInputError, scrub_secrets

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

_QUERY_SQL = """SELECT {columns}
FROM SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY
WHERE start_time >= TO_TIMESTAMP_LTZ({start}) AND start_time < TO_TIMESTAMP_LTZ({end})
ORDER BY start_time, query_id"""
_METERING_SQL = """SELECT {columns}
FROM SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY
WHERE start_time >= TO_TIMESTAMP_LTZ({start}) AND start_time < TO_TIMESTAMP_LTZ({end})
ORDER BY start_time, warehouse_name"""
_FETCH_ROWS = 50_000


def _now() -> dt.datetime:
    """The window's end; a function so tests can pin the clock."""
    return dt.datetime.now(dt.UTC)


def read_snowflake_live(
    connection_name: str | None, days: int, *, connection: Any = None, timeout: int = DEFAULT_TIMEOUT_S
) -> WarehouseHistory:
    """Read the last ``days`` of queries, warehouse metering and warehouse settings.

    ``connection`` (an open DB-API connection) is used as given and left open;
    otherwise one is opened from ``connection_name`` or the environment (``timeout``
    seconds for logging in and for each request) and closed.
    Warehouse settings need SHOW WAREHOUSES rights; without them a warning is logged.

    Raises:
        WarehouseInputError: the extra is missing, connecting failed, or a view could not be read.
    """
    source = f"snowflake:{connection_name or 'default'}"
    if not 0 < days <= 365:
        raise WarehouseInputError(f"days must be 1..365 (ACCOUNT_USAGE keeps 365 days), got {days}", source)
    own = connection is None
    if own:
        connection = connect(connection_name, source, timeout=timeout)
    try:
        return _read(connection, connection_name, days, source)
    finally:
        if own:
            connection.close()


def _read(connection: Any, connection_name: str | None, days: int, source: str) -> WarehouseHistory:
    end = _now()
    start = end - dt.timedelta(days=days)
    window = (int(start.timestamp()), int(end.timestamp()))
    try:
        queries = _fetch(connection, _QUERY_SQL, QUERY_COLUMNS, window)
        metering = _fetch(connection, _METERING_SQL, METERING_COLUMNS, window)
    except Exception as exc:  # driver errors: permissions, missing views, network
        secrets = known_secrets(connection_name, {})
        raise WarehouseInputError(f"query failed: {scrub_secrets(str(exc), secrets)}", source) from None
    return WarehouseHistory(
        vendor=VENDOR,
        source=source,
        window_start_ms=window[0] * 1000,
        window_end_ms=window[1] * 1000,
        queries=queries_to_table(queries, source),
        metering=metering_to_hours(metering, source),
        warehouses=_warehouses(connection, source),
    )


def _fetch(connection: Any, template: str, columns: tuple[str, ...], window: tuple[int, int]) -> pa.Table:
    """Run one windowed query in the connection's parameter style; rows as one Arrow table."""
    if getattr(connection, "is_pyformat", True):
        marks, params = (
            ("%(window_start)s", "%(window_end)s"),
            {"window_start": window[0], "window_end": window[1]},
        )
    else:
        marks, params = ("?", "?"), list(window)  # type: ignore[assignment]
    sql = template.format(columns=", ".join(columns), start=marks[0], end=marks[1])
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        return _arrow(cursor)
    finally:
        cursor.close()


def _arrow(cursor: Any) -> pa.Table:
    """All rows of an executed cursor, as Arrow batches when the driver can, else by fetchmany."""
    import pyarrow as pa

    sf = import_connector("snowflake")
    names = [d[0] for d in cursor.description]
    try:
        batches = [b for b in cursor.fetch_arrow_batches() if b.num_rows]
    except (sf.errors.NotSupportedError, AttributeError):
        batches = None
    if batches:
        return pa.concat_tables(batches, promote_options="permissive")
    if batches is None:
        return _rows_table(cursor, names)
    return pa.table({n: pa.array([], pa.null()) for n in names})


def _rows_table(cursor: Any, names: list[str]) -> pa.Table:
    import pyarrow as pa

    columns: list[list] = [[] for _ in names]
    while rows := cursor.fetchmany(_FETCH_ROWS):
        for column, values in zip(columns, zip(*rows, strict=True), strict=True):
            column.extend(values)
    return pa.table({name: pa.array(values) for name, values in zip(names, columns, strict=True)})


def _warehouses(connection: Any, source: str) -> tuple:
    """SHOW WAREHOUSES (size, type, auto_suspend, cluster counts); a refusal is only a warning."""
    cursor = connection.cursor()
    try:
        cursor.execute("SHOW WAREHOUSES")
        return warehouses_to_settings(_rows_table(cursor, [d[0] for d in cursor.description]), source)
    except Exception as exc:  # noqa: BLE001 - e.g. insufficient privileges; settings are optional
        log.warning(
            "%s: cannot read warehouse settings (SHOW WAREHOUSES): %s", source, scrub_secrets(str(exc))
        )
        return ()
    finally:
        cursor.close()
