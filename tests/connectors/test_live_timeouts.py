"""Live warehouse reads never wait unbounded: timeouts and bounded retries with backoff.

BigQuery: the real client against tests/fake_bigquery_server.py on 127.0.0.1 answering
429/503 a few times (retried, then served), always 503 (given up after ``retries``), slowly
(one line after ``timeout``), or not at all (a closed port). Snowflake: the driver's timeouts
are passed, and a closed 127.0.0.1 port is one line within the timeout.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.warehouse_files import WarehouseInputError

pytest.importorskip("google.cloud.bigquery")
from fake_bigquery_server import FakeBigQueryServer, View  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import bigquery  # noqa: E402

from connectors.bigquery import live as bq_live  # noqa: E402
from connectors.bigquery import read_bigquery_live  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "warehouse"
PROJECT = "acme-analytics"
NOW = dt.datetime(2024, 5, 13, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GCE metadata probe; a pinned clock; short backoff pauses so that retries take milliseconds."""
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    monkeypatch.setattr(bq_live, "_now", lambda: NOW)
    monkeypatch.setattr(bq_live, "_BACKOFF_S", 0.01)
    monkeypatch.setattr(bq_live, "_BACKOFF_MAX_S", 0.05)


@pytest.fixture()
def server():  # type: ignore[no-untyped-def]
    """Only JOBS_BY_PROJECT: the table-size views answer 404, which is a warning."""
    schema = json.loads((DATA / "bigquery_jobs.schema.json").read_text())
    with FakeBigQueryServer() as srv:
        rows = pq.read_table(DATA / "bigquery_jobs.parquet").to_pylist()
        srv.fake.views["JOBS_BY_PROJECT"] = View(schema, rows)
        yield srv


def _client(url: str) -> bigquery.Client:
    return bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": url})


def _job_posts(srv: FakeBigQueryServer) -> int:
    return sum(1 for r in srv.fake.requests if r.method == "POST" and "JOBS_BY_PROJECT" in json.dumps(r.body))


def test_busy_answers_are_retried_then_served(server: FakeBigQueryServer) -> None:
    server.fake.busy = [429, 503]
    history = read_bigquery_live(PROJECT, "us", 7, client=_client(server.url), retries=3)
    assert len(history.queries) == 34
    assert [r.method for r in server.fake.requests[:3]] == ["POST"] * 3


def test_retries_are_bounded(server: FakeBigQueryServer) -> None:
    server.fake.busy = [503] * 20
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_live(PROJECT, "us", 7, client=_client(server.url), retries=2)
    assert str(err.value).startswith(f"bigquery:{PROJECT}/region-us: query failed: ServiceUnavailable")
    assert "\n" not in str(err.value)
    assert len(server.fake.requests) == 3  # one try and two retries


def test_a_slow_service_is_one_line_after_the_timeout(server: FakeBigQueryServer) -> None:
    server.fake.delay_s = 5.0
    started = time.monotonic()
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_live(PROJECT, "us", 7, client=_client(server.url), timeout=0.5, retries=3)
    assert time.monotonic() - started < 3.0
    assert str(err.value) == (f"bigquery:{PROJECT}/region-us: no answer within 0.5 s "
                              "(raise the timeout option if the service is only slow)")
    assert len(server.fake.requests) == 1  # a timeout is not retried: a slow service stays slow


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_service_at_all_is_one_line_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_live(PROJECT, "us", 7, client=_client(f"http://127.0.0.1:{_closed_port()}"),
                           timeout=2, retries=1)
    assert time.monotonic() - started < 10
    assert str(err.value).startswith(f"bigquery:{PROJECT}/region-us: cannot reach BigQuery: ConnectionError")
    assert "\n" not in str(err.value)


def test_bigquery_source_passes_the_timeout_and_retries_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.bigquery.source import SOURCE

    seen = {}
    monkeypatch.setattr(bq_live, "read_bigquery_live", lambda *a, **k: seen.update(k))
    SOURCE.read({"project": PROJECT, "timeout": 7.5, "retries": 0})
    assert seen["timeout"] == 7.5 and seen["retries"] == 0
    SOURCE.read({"project": PROJECT})
    assert seen["timeout"] == 60 and seen["retries"] == 3
    assert {"timeout", "retries"} <= {o.name for o in SOURCE.options}


# --- Snowflake -------------------------------------------------------------------------------


def test_snowflake_connect_passes_the_three_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.snowflake import connection

    sf = pytest.importorskip("snowflake.connector")
    seen = {}

    def fake_connect(**kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        return object()

    monkeypatch.setattr(sf, "connect", fake_connect)
    connection.connect("prod", "snowflake:prod", timeout=12)
    assert seen == {"connection_name": "prod", "login_timeout": 12, "network_timeout": 12,
                    "socket_timeout": 12}
    connection.connect("prod", "snowflake:prod")
    assert seen["login_timeout"] == 60


def test_snowflake_source_passes_the_timeout_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.snowflake import live as sf_live
    from connectors.snowflake.source import SOURCE

    seen = {}
    monkeypatch.setattr(sf_live, "read_snowflake_live", lambda *a, **k: seen.update(k))
    SOURCE.read({"connection": "prod", "timeout": 5})
    assert seen["timeout"] == 5


def test_snowflake_closed_port_is_one_line_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("snowflake.connector")
    from connectors.snowflake import read_snowflake_live

    for name in ("HOME", "SNOWFLAKE_HOME"):
        monkeypatch.setenv(name, "/nonexistent-deanalyze-home")
    env = {"ACCOUNT": "acme", "USER": "u", "PASSWORD": "Sup3r-S3cret", "HOST": "127.0.0.1",
           "PORT": str(_closed_port()), "PROTOCOL": "http"}
    for key, value in env.items():
        monkeypatch.setenv(f"SNOWFLAKE_{key}", value)
    started = time.monotonic()
    with pytest.raises(WarehouseInputError) as err:
        read_snowflake_live(None, 7, timeout=3)
    assert time.monotonic() - started < 20
    message = str(err.value)
    assert message.startswith("snowflake:default: cannot connect:") and "\n" not in message
    assert "Sup3r-S3cret" not in message
