"""Snowflake connector: the real snowflake-connector-python against fakesnow's server mode
(HTTP on 127.0.0.1), via a passed connection, environment variables and a named
connection in connections.toml; and export files in every supported format.

Fixtures: tests/data/warehouse/snowflake_* (written by make_fixtures.py in that folder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from analyzer.core.warehouse_model import WarehouseSettings
from connectors.snowflake import WarehouseInputError, read_snowflake_export, read_snowflake_live
from connectors.snowflake import live as sf_live
from connectors.warehouse_files import scrub_secrets

fakesnow = pytest.importorskip("fakesnow")
snowflake_connector = pytest.importorskip("snowflake.connector")
fakesnow_server = fakesnow.server  # bound now: importing fakesnow.server later shadows the function

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # fakesnow: "Arrow output ... extra copy"

DATA = Path(__file__).resolve().parents[1] / "data" / "warehouse"
ROOT = Path(__file__).resolve().parents[2]
QUERIES = {fmt: DATA / f"snowflake_query_history.{fmt}" for fmt in ("csv", "json", "parquet")}
METERING = {
    "csv": DATA / "snowflake_warehouse_metering.csv",
    "json": DATA / "snowflake_warehouse_metering.ndjson",
    "parquet": DATA / "snowflake_warehouse_metering.parquet",
}
NOW = dt.datetime(2024, 5, 13, tzinfo=dt.UTC)  # the end of the fixture week
SECRET = "Sup3r-S3cret-Pa55word"
SF_TYPES = {"string": "VARCHAR", "int64": "NUMBER", "double": "FLOAT"}


def _create_view_table(cursor, name: str, parquet: Path) -> None:
    """Create SNOWFLAKE.ACCOUNT_USAGE.<name> with the view's columns and fill it from a fixture."""
    table = pq.read_table(parquet)
    types = [SF_TYPES.get(str(f.type), "TIMESTAMP_LTZ") for f in table.schema]
    columns = ", ".join(f"{f.name} {t}" for f, t in zip(table.schema, types, strict=True))
    cursor.execute(f"CREATE OR REPLACE TABLE SNOWFLAKE.ACCOUNT_USAGE.{name} ({columns})")
    marks = ", ".join(["%s"] * table.num_columns)
    rows = [tuple(r.values()) for r in table.to_pylist()]
    cursor.executemany(f"INSERT INTO SNOWFLAKE.ACCOUNT_USAGE.{name} VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def sf_server():
    """fakesnow in server mode with ACCOUNT_USAGE.QUERY_HISTORY and WAREHOUSE_METERING_HISTORY."""
    with fakesnow_server() as kwargs:
        conn = snowflake_connector.connect(**kwargs)
        cursor = conn.cursor()
        cursor.execute("CREATE DATABASE IF NOT EXISTS SNOWFLAKE")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS SNOWFLAKE.ACCOUNT_USAGE")
        _create_view_table(cursor, "QUERY_HISTORY", QUERIES["parquet"])
        _create_view_table(cursor, "WAREHOUSE_METERING_HISTORY", METERING["parquet"])
        conn.close()
        yield kwargs


@pytest.fixture()
def pinned_clock(monkeypatch):
    monkeypatch.setattr(sf_live, "_now", lambda: NOW)


#: fakesnow needs a current database for TO_TIMESTAMP_LTZ (warehouse.md §5); Snowflake does not.
CONTEXT = {"database": "SNOWFLAKE", "schema": "ACCOUNT_USAGE"}


@pytest.fixture()
def connection(sf_server):
    conn = snowflake_connector.connect(**sf_server, **CONTEXT)
    yield conn
    conn.close()


def _without_source(history):
    return dataclasses.replace(history, source="")


def _exported():
    return read_snowflake_export(str(QUERIES["parquet"]), str(METERING["parquet"]))


# --- live ------------------------------------------------------------------------------------


def test_live_reads_account_usage_through_the_real_connector(pinned_clock, connection):
    history = read_snowflake_live(None, 7, connection=connection)
    exported = _exported()
    assert history.queries == exported.queries
    assert history.metering == exported.metering
    assert (history.window_start_ms, history.window_end_ms) == (1714953600000, 1715558400000)
    assert history.vendor == "snowflake" and history.source == "snowflake:default"
    assert history.warehouses == (
        WarehouseSettings(
            name="FAKESNOW_WAREHOUSE",
            size="X-Small",
            warehouse_type="STANDARD",
            auto_suspend_s=600,
            min_cluster_count=1,
            max_cluster_count=1,
        ),
    )
    assert not connection.is_closed()  # a passed connection stays open


def test_live_window_is_bound_and_applied(pinned_clock, connection):
    history = read_snowflake_live(None, 2, connection=connection)
    cutoff = int((NOW - dt.timedelta(days=2)).timestamp() * 1000)
    exported = _exported()
    assert history.queries == tuple(q for q in exported.queries if q.start_time_ms >= cutoff)
    assert history.metering == tuple(m for m in exported.metering if m.start_time_ms >= cutoff)
    assert 0 < len(history.queries) < len(exported.queries)


class _Proxy:
    """Wraps a real connection/cursor to simulate what fakesnow cannot: refusals, no Arrow."""

    def __init__(self, target, refuse: str = "", no_arrow: bool = False) -> None:
        self._target, self._refuse, self._no_arrow = target, refuse, no_arrow

    def __getattr__(self, name):
        return getattr(self._target, name)

    def cursor(self):
        return _Proxy(self._target.cursor(), self._refuse, self._no_arrow)

    def execute(self, sql, params=None):
        if self._refuse == "SHOW WAREHOUSES" and sql.startswith("SHOW WAREHOUSES"):
            raise snowflake_connector.errors.ProgrammingError(
                msg="SQL access control error:\nInsufficient privileges to operate on account 'ACME'",
                errno=3001,
            )
        if self._refuse and self._refuse in sql:
            raise snowflake_connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nObject 'SNOWFLAKE.{self._refuse}' does not exist or not authorized.",  # noqa: E501
                errno=2003,
                sqlstate="42S02",
            )
        return self._target.execute(sql, params)

    def fetch_arrow_batches(self):
        if self._no_arrow:
            raise snowflake_connector.errors.NotSupportedError(msg="Arrow is not available", errno=255002)
        return self._target.fetch_arrow_batches()


def test_live_warehouse_settings_refused_is_only_a_warning(pinned_clock, connection, caplog):
    with caplog.at_level(logging.WARNING):
        history = read_snowflake_live(None, 7, connection=_Proxy(connection, refuse="SHOW WAREHOUSES"))
    assert history.warehouses == () and len(history.queries) == 34
    assert "cannot read warehouse settings" in caplog.text and "Insufficient privileges" in caplog.text


def test_live_falls_back_to_fetchmany_without_arrow(pinned_clock, connection):
    history = read_snowflake_live(None, 7, connection=_Proxy(connection, no_arrow=True))
    exported = _exported()
    assert history.queries == exported.queries and history.metering == exported.metering


def test_live_view_not_authorized_is_one_line_error(pinned_clock, connection):
    proxy = _Proxy(connection, refuse="ACCOUNT_USAGE.QUERY_HISTORY")
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_live("prod", 7, connection=proxy)
    message = str(err.value)
    assert message.startswith("snowflake:prod: query failed: 002003 (42S02): SQL compilation error: Object")
    assert "does not exist or not authorized" in message and "\n" not in message


def _env(sf_server: dict) -> dict[str, str]:
    return {
        "SNOWFLAKE_ACCOUNT": sf_server["account"],
        "SNOWFLAKE_USER": sf_server["user"],
        "SNOWFLAKE_PASSWORD": sf_server["password"],
        "SNOWFLAKE_HOST": sf_server["host"],
        "SNOWFLAKE_PORT": str(sf_server["port"]),
        "SNOWFLAKE_PROTOCOL": sf_server["protocol"],
        "SNOWFLAKE_DATABASE": "SNOWFLAKE",
        "SNOWFLAKE_SCHEMA": "ACCOUNT_USAGE",
    }


def test_live_connects_from_environment_variables(pinned_clock, sf_server, monkeypatch):
    for name, value in _env(sf_server).items():
        monkeypatch.setenv(name, value)
    history = read_snowflake_live(None, 7)
    assert history.queries == _exported().queries and history.source == "snowflake:default"


def test_live_named_connection_from_connections_toml(sf_server, tmp_path):
    """SNOWFLAKE_HOME is read when the connector is imported, hence a fresh interpreter."""
    toml = textwrap.dedent(f"""\
        [fake]
        account = "fakesnow"
        user = "fake"
        password = "{SECRET}"
        host = "{sf_server["host"]}"
        port = {sf_server["port"]}
        protocol = "http"
        database = "SNOWFLAKE"
        schema = "ACCOUNT_USAGE"
    """)
    (tmp_path / "connections.toml").write_text(toml)
    (tmp_path / "connections.toml").chmod(0o600)
    script = textwrap.dedent("""\
        import datetime as dt, json, sys
        from connectors.snowflake import WarehouseInputError, live
        live._now = lambda: dt.datetime(2024, 5, 13, tzinfo=dt.UTC)
        history = live.read_snowflake_live("fake", 7)
        try:
            live.read_snowflake_live("nope", 7)
        except WarehouseInputError as exc:
            error = str(exc)
        print(json.dumps({"queries": len(history.queries), "metering": len(history.metering),
                          "source": history.source, "error": error}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env.update(SNOWFLAKE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["queries"] == 34 and result["metering"] == 31 and result["source"] == "snowflake:fake"
    assert result["error"].startswith("snowflake:nope: cannot connect: Invalid connection_name 'nope'")
    assert SECRET not in done.stdout + done.stderr


def test_password_never_appears_in_a_connection_error(monkeypatch):
    def leaky_connect(**kwargs):
        raise snowflake_connector.errors.DatabaseError(
            msg=f"250001: Could not connect with password={kwargs['password']} to {kwargs['account']} "
            f"(config: {json.dumps(kwargs)})"
        )

    monkeypatch.setattr(snowflake_connector, "connect", leaky_connect)
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "acme-prod")
    monkeypatch.setenv("SNOWFLAKE_USER", "svc")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", SECRET)
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_live(None, 7)
    assert (
        SECRET not in str(err.value) and "cannot connect" in str(err.value) and "acme-prod" in str(err.value)
    )


@pytest.mark.parametrize(
    "text",
    [
        f"password={SECRET}",
        f'{{"password": "{SECRET}"}}',
        f"https://svc:{SECRET}@acme.snowflakecomputing.com",
        f"Authorization: Bearer {SECRET}",
        f"token='{SECRET}' rejected",
    ],
)
def test_scrub_secrets_patterns(text):
    assert SECRET not in scrub_secrets(text)


def test_live_without_the_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)
    with pytest.raises(WarehouseInputError, match=r"pip install 'deanalyze\[snowflake\]'"):
        read_snowflake_live(None, 7)


# --- export files ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_every_export_format_gives_the_same_history(fmt):
    reference = read_snowflake_export(str(QUERIES["csv"]), str(METERING["csv"]))
    history = read_snowflake_export(str(QUERIES[fmt]), str(METERING[fmt]))
    assert _without_source(history) == _without_source(reference)
    assert len(history.queries) == 34 and len(history.metering) == 31


def test_snowsight_csv_normalizes_the_view_columns():
    history = read_snowflake_export(str(QUERIES["csv"]), str(METERING["csv"]))
    first = history.queries[0]  # START_TIME "2024-05-05 20:00:26.168 -0700" = 2024-05-06T03:00:26.168Z
    assert first == dataclasses.replace(
        first,
        query_id="01b47055-0000-813a-0000-9ea1a95cd877",
        start_time_ms=1714964426168,
        end_time_ms=1714964998454,
        status="SUCCESS",
        statement_type="INSERT",
        user="DBT",
        warehouse="ETL_WH",
        warehouse_size="Large",
        warehouse_type="STANDARD",
        cluster_number=1,
        bytes_scanned=352187318272,
        partitions_scanned=11800,
        partitions_total=12000,
        rows_produced=8832998,
        total_elapsed_ms=572286,
        execution_ms=572111,
        compilation_ms=175,
        queued_overload_ms=0,
        queued_provisioning_ms=0,
        spilled_local_bytes=12884901888,
        spilled_remote_bytes=0,
        credits_cloud_services=0.0004725,
        query_hash="6f7e7d54018ab3c9bcee99743c61e966",  # QUERY_PARAMETERIZED_HASH
        labels={"query_tag": '{"dbt_model":"fct_orders"}'},
        bytes_billed=None,
        slot_ms=None,
    )
    assert history.metering[0].start_time_ms == 1714964400000 and history.metering[0].credits_used == 2.611384
    assert history.window_start_ms == 1714964400000  # the first metered hour


def test_statuses_and_cloud_services_only_queries():
    queries = read_snowflake_export(str(QUERIES["json"])).queries
    by_text = {q.query_text: q for q in queries}
    assert by_text["select revenu from orders"].status == "FAILED"
    assert by_text["delete from raw.events where true"].status == "CANCELLED"  # error_code 000604
    assert by_text["copy into raw.events from @landing"].status == "RUNNING"
    show = by_text["show tables in schema analytics.public"]
    assert show.warehouse is None and show.warehouse_size is None and show.bytes_scanned == 0
    overload = by_text["select * from events"]
    assert overload.queued_overload_ms == 48_200 and overload.cluster_number == 2
    bi = [q for q in queries if q.warehouse == "BI_WH" and q.statement_type == "SELECT"]
    assert len({q.query_hash for q in bi if "order_date" in q.query_text}) == 1  # literals parameterized


def test_metering_without_compute_split_is_derived(tmp_path):
    table = pcsv.read_csv(METERING["csv"]).drop_columns(["CREDITS_USED_COMPUTE", "END_TIME"])
    pcsv.write_csv(table, tmp_path / "metering.csv")
    hours = read_snowflake_export(str(QUERIES["csv"]), str(tmp_path / "metering.csv")).metering
    first = hours[0]
    assert first.end_time_ms - first.start_time_ms == 3_600_000
    assert first.credits_compute == pytest.approx(first.credits_used - first.credits_cloud_services)


def test_missing_required_column_is_named(tmp_path):
    table = pcsv.read_csv(QUERIES["csv"]).drop_columns(["WAREHOUSE_NAME"])
    path = tmp_path / "query_history.csv"
    pcsv.write_csv(table, path)
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_export(str(path))
    assert str(err.value) == f"{path}: missing required column 'warehouse_name'"


def test_missing_metering_column_names_the_metering_file(tmp_path):
    path = tmp_path / "metering.ndjson"
    path.write_text(json.dumps({"START_TIME": "2024-05-06T00:00:00Z", "WAREHOUSE_NAME": "BI_WH"}) + "\n")
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_export(str(QUERIES["csv"]), str(path))
    assert str(err.value) == f"{path}: missing required column 'credits_used'"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "file is empty"),
        ("header.csv", b"QUERY_ID,START_TIME,END_TIME,WAREHOUSE_NAME\n", "contains no rows"),
        ("broken.json", b'[{"QUERY_ID": "a"', "cannot parse as json array"),
        (
            "bad_time.csv",
            b"QUERY_ID,START_TIME,END_TIME,WAREHOUSE_NAME\nq1,yesterday,today,WH\n",
            "column 'start_time'",
        ),
    ],
)
def test_empty_and_unparsable_files_are_one_line_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_export(str(path))
    assert str(err.value).startswith(f"{path}: {problem}") and "\n" not in str(err.value)


def test_chunked_normalization_gives_the_same_history(monkeypatch):
    from connectors import warehouse_readers, warehouse_records

    expected = read_snowflake_export(str(QUERIES["csv"]), str(METERING["csv"]))
    monkeypatch.setattr(warehouse_records, "CHUNK_ROWS", 4)
    monkeypatch.setattr(warehouse_readers, "_PIECE_BYTES", 1000)
    for fmt in ("csv", "json", "parquet"):
        history = read_snowflake_export(str(QUERIES[fmt]), str(METERING[fmt]))
        assert _without_source(history) == _without_source(expected), fmt
