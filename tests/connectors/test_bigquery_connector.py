"""BigQuery connector: the real google-cloud-bigquery client against a local fake REST
server (tests/fake_bigquery_server.py), and export files in every supported format.

Fixtures: tests/data/warehouse/bigquery_* (written by make_fixtures.py in that folder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import logging
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe the GCE metadata server

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from connectors.bigquery import WarehouseInputError, read_bigquery_export, read_bigquery_live
from connectors.bigquery import live as bq_live

pytest.importorskip("google.cloud.bigquery")
from fake_bigquery_server import FakeBigQueryServer, View  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import bigquery  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "warehouse"
JOBS = {fmt: DATA / f"bigquery_jobs.{fmt}" for fmt in ("jsonl", "json", "csv", "parquet")}
STORAGE = DATA / "bigquery_table_storage.csv"
PROJECT = "acme-analytics"
NOW = dt.datetime(2024, 5, 13, tzinfo=dt.UTC)  # the end of the fixture week
LAYOUT_SCHEMA = [
    {"name": "project_id", "type": "STRING"},
    {"name": "table_schema", "type": "STRING"},
    {"name": "table_name", "type": "STRING"},
    {"name": "column_count", "type": "INTEGER"},
    {"name": "is_partitioned", "type": "BOOLEAN"},
    {"name": "is_clustered", "type": "BOOLEAN"},
    {"name": "partition_column", "type": "STRING"},
    {"name": "clustering_columns", "type": "STRING"},
]
LAYOUT_ROWS = [
    {
        "project_id": PROJECT,
        "table_schema": "sales",
        "table_name": "orders",
        "column_count": 14,
        "is_partitioned": True,
        "is_clustered": True,
        "partition_column": "order_date",
        "clustering_columns": "customer_id,region",
    },
    {
        "project_id": PROJECT,
        "table_schema": "web",
        "table_name": "events",
        "column_count": 48,
        "is_partitioned": True,
        "is_clustered": False,
        "partition_column": "event_date",
        "clustering_columns": None,
    },
]


@pytest.fixture(autouse=True)
def _no_metadata_server(monkeypatch):
    """Keep Application Default Credentials lookups off the network (no GCE metadata probe)."""
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)


def _schema(name: str) -> list[dict]:
    return json.loads((DATA / f"{name}.schema.json").read_text())


def _without_source(history):
    return dataclasses.replace(history, source="")


@pytest.fixture()
def server(monkeypatch):
    """A fake BigQuery serving the fixture's JOBS, TABLE_STORAGE and COLUMNS rows."""
    monkeypatch.setattr(bq_live, "_now", lambda: NOW)
    storage_rows = pcsv.read_csv(STORAGE).to_pylist()
    with FakeBigQueryServer() as srv:
        jobs = View(_schema("bigquery_jobs"), pq.read_table(JOBS["parquet"]).to_pylist())
        srv.fake.views.update(
            JOBS_BY_PROJECT=jobs,
            JOBS_BY_ORGANIZATION=jobs,
            TABLE_STORAGE=View(_schema("bigquery_table_storage"), storage_rows),
            TABLE_STORAGE_BY_ORGANIZATION=View(_schema("bigquery_table_storage"), storage_rows),
            COLUMNS=View(LAYOUT_SCHEMA, LAYOUT_ROWS, aggregated=True),
        )
        yield srv


@pytest.fixture()
def client(server):
    return bigquery.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url}
    )


# --- live ------------------------------------------------------------------------------------


def test_live_query_filters_on_creation_time_with_region_qualifier(server, client):
    read_bigquery_live(PROJECT, "us", 7, client=client)
    jobs_sql = server.fake.sql[0]
    assert f"`{PROJECT}`.`region-us`.INFORMATION_SCHEMA.JOBS_BY_PROJECT" in jobs_sql
    assert "WHERE creation_time >= @window_start AND creation_time < @window_end" in jobs_sql
    assert server.fake.parameters(0) == {
        "window_start": "2024-05-06 00:00:00+00:00",
        "window_end": "2024-05-13 00:00:00+00:00",
    }
    assert server.fake.requests[0].body["location"] == "US"
    assert "`region-us`.INFORMATION_SCHEMA.TABLE_STORAGE" in server.fake.sql[1]
    assert "`region-us`.INFORMATION_SCHEMA.COLUMNS" in server.fake.sql[2]


def test_live_rows_normalize_like_the_export(server, client):
    history = read_bigquery_live(PROJECT, "us", 7, client=client)
    exported = read_bigquery_export(str(JOBS["jsonl"]), str(STORAGE))
    assert history.queries == exported.queries
    assert len(server.fake.requests) > 4  # several result pages were fetched (page size 10)
    assert (history.window_start_ms, history.window_end_ms) == (1714953600000, 1715558400000)
    assert history.source == "bigquery:acme-analytics/region-us"


def test_live_table_sizes_joined_with_layout(client):
    history = read_bigquery_live(PROJECT, "us", 7, client=client)
    tables = {t.table: t for t in history.tables}
    assert len(tables) == 8  # the deleted backup table is filtered out by NOT deleted
    orders = tables["acme-analytics.sales.orders"]
    assert (orders.total_logical_bytes, orders.total_rows) == (412 << 30, 182_400_000)
    assert (orders.partitioned, orders.clustered, orders.column_count) == (True, True, 14)
    assert (orders.partition_column, orders.clustering_columns, orders.partitions) == (
        "order_date", ("customer_id", "region"), 900)
    assert tables["acme-analytics.web.events"].clustering_columns == ()
    customers = tables["acme-analytics.sales.customers"]  # no COLUMNS row: TABLE_STORAGE's 0 partitions
    assert (customers.partitioned, customers.partition_column, customers.clustered) == (False, None, None)


def test_live_window_is_applied_by_the_query(client):
    history = read_bigquery_live(PROJECT, "us", 2, client=client)
    exported = read_bigquery_export(str(JOBS["jsonl"])).queries
    cutoff = int((NOW - dt.timedelta(days=2)).timestamp() * 1000)
    assert 0 < len(history.queries) < len(exported)
    assert {q.query_id for q in history.queries} == {q.query_id for q in exported if _created_ms(q) >= cutoff}


def _created_ms(query) -> int:
    return query.end_time_ms - query.total_elapsed_ms if query.end_time_ms else query.start_time_ms


def test_live_by_organization_uses_org_views_without_query_text(server, client):
    history = read_bigquery_live(PROJECT, "us", 7, by_organization=True, client=client)
    assert "INFORMATION_SCHEMA.JOBS_BY_ORGANIZATION" in server.fake.sql[0]
    assert "query," not in server.fake.sql[0].replace("query_info", "")
    assert "TABLE_STORAGE_BY_ORGANIZATION" in server.fake.sql[1]
    assert all(q.query_text == "" for q in history.queries)
    assert len(history.queries) == 34 and len(history.tables) == 8


def test_live_storage_permission_denied_is_a_warning(server, client, caplog):
    server.fake.views["TABLE_STORAGE"].error = (403, "accessDenied", "Access Denied: Table storage")
    with caplog.at_level(logging.WARNING):
        history = read_bigquery_live(PROJECT, "us", 7, client=client)
    assert history.tables == () and len(history.queries) == 34
    assert "skipping table sizes" in caplog.text and "Access Denied" in caplog.text


def test_live_jobs_error_is_one_line_naming_the_source(server, client):
    server.fake.views["JOBS_BY_PROJECT"].error = (403, "accessDenied", "Access Denied: bigquery.jobs.listAll")
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_live(PROJECT, "us", 7, client=client)
    message = str(err.value)
    assert message.startswith("bigquery:acme-analytics/region-us: query failed: Forbidden")
    assert "bigquery.jobs.listAll" in message and "\n" not in message


def test_live_client_with_emulator_env_and_query_results_paging(server, monkeypatch):
    """BIGQUERY_EMULATOR_HOST is the other documented way to point the client here."""
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.url)
    server.fake.page_size = 7
    client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials())
    history = read_bigquery_live(PROJECT, "US", 7, client=client)
    assert len(history.queries) == 34
    pages = [r for r in server.fake.requests if r.method == "GET" and "/queries/" in r.path]
    assert len(pages) >= 4 and all(r.query["formatOptions.useInt64Timestamp"] == ["True"] for r in pages)


@pytest.mark.parametrize(
    ("project", "region", "days", "problem"),
    [
        ("acme; DROP TABLE x", "us", 7, "not a BigQuery project id"),
        (PROJECT, "us`.x", 7, "not a BigQuery region"),
        (PROJECT, "us", 0, "days must be 1..180"),
    ],
)
def test_live_rejects_bad_identifiers_before_any_request(project, region, days, problem):
    with pytest.raises(WarehouseInputError, match=problem):
        read_bigquery_live(project, region, days, client=object())  # type: ignore[arg-type]


def test_live_without_credentials_is_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_live(PROJECT, "us", 7)
    assert str(err.value).startswith("bigquery:acme-analytics/region-us: no usable Google credentials")


def test_live_without_the_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)
    with pytest.raises(WarehouseInputError, match=r"pip install 'deanalyze\[bigquery\]'"):
        read_bigquery_live(PROJECT, "us", 7)


# --- export files ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_every_export_format_gives_the_same_history(fmt):
    reference = read_bigquery_export(str(JOBS["jsonl"]), str(STORAGE))
    history = read_bigquery_export(str(JOBS[fmt]), str(STORAGE))
    assert history.source == str(JOBS[fmt])
    assert _without_source(history) == _without_source(reference)


def test_export_normalizes_the_view_columns():
    history = read_bigquery_export(str(JOBS["csv"]))
    by_id = {q.query_id: q for q in history.queries}
    assert len(by_id) == 34 and history.vendor == "bigquery"
    first = history.queries[0]
    assert first == dataclasses.replace(
        first,
        query_id="bquxjob_a508acea_f1b7b97d217",
        start_time_ms=1714982400986,  # 2024-05-06 08:00:00.986479 UTC, truncated to ms
        end_time_ms=1714982405215,
        total_elapsed_ms=1714982405215 - 1714982400156,  # end − creation
        execution_ms=1714982405215 - 1714982400986,  # end − start
        status="SUCCESS",
        bytes_scanned=1324351488,
        bytes_billed=1324351488,
        slot_ms=48398,
        cache_hit=False,
        query_hash="82d3cdf638fdad1c85cf3c9734ec35d0",
        referenced_tables=("acme-analytics.sales.orders",),
        labels={"looker_dashboard": "sales_daily"},
        user="looker-sa@acme-analytics.iam.gserviceaccount.com",
        project="acme-analytics",
        warehouse=None,
        job_type="QUERY",
        statement_type="SELECT",
    )
    scripts = [q for q in history.queries if q.statement_type == "SCRIPT"]
    children = [q for q in history.queries if q.parent_id == scripts[0].query_id]
    assert len(scripts) == 3 and len(children) == 2
    assert scripts[0].warehouse == "acme-admin:US.etl-prod" and scripts[0].cache_hit is False
    assert scripts[0].bytes_billed == sum(c.bytes_billed for c in children)
    assert children[0].referenced_tables == ("acme-analytics.sales.orders", "acme-analytics.sales.customers")


def test_export_statuses_cache_hits_and_load_jobs():
    queries = read_bigquery_export(str(JOBS["json"])).queries
    statuses = [q.status for q in queries]
    assert statuses.count("FAILED") == 1 and statuses.count("CANCELLED") == 1
    assert statuses[-2:] == ["RUNNING", "QUEUED"]
    pending = queries[-1]
    assert pending.end_time_ms is None and pending.execution_ms is None and pending.start_time_ms is not None
    cached = [q for q in queries if q.cache_hit]
    assert len(cached) == 7 and all(q.referenced_tables == () and q.query_hash is None for q in cached)
    assert all(q.bytes_billed == 0 for q in cached)
    loads = [q for q in queries if q.job_type == "LOAD"]
    assert len(loads) == 2 and all(
        q.query_text == "" and q.bytes_scanned == 0 and q.bytes_billed is None for q in loads
    )


def test_export_table_storage():
    tables = read_bigquery_export(str(JOBS["parquet"]), str(STORAGE)).tables
    assert [t.table for t in tables][:2] == ["acme-analytics.sales.orders", "acme-analytics.sales.customers"]
    assert tables[2].total_logical_bytes == 21 << 40
    # TABLE_STORAGE counts partitions (0 = unpartitioned); the columns are not in it
    assert (tables[2].partitioned, tables[2].partitions, tables[2].partition_column) == (True, 900, None)
    assert (tables[1].partitioned, tables[1].partitions) == (False, 0)


def test_export_table_layout_columns(tmp_path):
    layout = tmp_path / "tables.csv"
    layout.write_text("table_schema,table_name,total_logical_bytes,partition_column,clustering_columns\n"
                      "sales,orders,1000,order_date,\"customer_id, region\"\nsales,dim,10,,\n")
    orders, dim = read_bigquery_export(str(JOBS["jsonl"]), str(layout)).tables
    assert (orders.partition_column, orders.clustering_columns, orders.clustered) == (
        "order_date", ("customer_id", "region"), True)
    assert (dim.partition_column, dim.clustering_columns) == (None, ())
    assert (dim.clustered, dim.partitioned) == (None, None)


def test_epoch_milliseconds_and_gzip_are_read(tmp_path):
    table = pq.read_table(JOBS["parquet"])
    millis = {}
    for name in ("creation_time", "start_time", "end_time"):
        millis[name] = pa.compute.divide(table.column(name).cast(pa.int64()), 1000)
    table = table.drop_columns(list(millis)).append_column("creation_time", millis["creation_time"])
    table = table.append_column("start_time", millis["start_time"]).append_column(
        "end_time", millis["end_time"]
    )
    table = table.select(
        [
            c
            for c in table.column_names
            if c not in ("labels", "referenced_tables", "query_info", "error_result", "destination_table")
        ]
    )
    pcsv.write_csv(table, tmp_path / "jobs_epoch_ms.csv")
    plain = read_bigquery_export(str(tmp_path / "jobs_epoch_ms.csv")).queries
    expected = read_bigquery_export(str(JOBS["csv"])).queries
    assert [(q.start_time_ms, q.end_time_ms, q.total_elapsed_ms) for q in plain] == [
        (q.start_time_ms, q.end_time_ms, q.total_elapsed_ms) for q in expected
    ]
    with open(JOBS["jsonl"], "rb") as src, gzip.open(tmp_path / "jobs.jsonl.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert read_bigquery_export(str(tmp_path / "jobs.jsonl.gz")).queries == expected


def test_missing_required_column_is_named(tmp_path):
    table = pcsv.read_csv(JOBS["csv"]).drop_columns(["total_bytes_billed"])
    path = tmp_path / "jobs.csv"
    pcsv.write_csv(table, path)
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_export(str(path))
    assert str(err.value) == f"{path}: missing required column 'total_bytes_billed'"


def test_column_names_match_case_insensitively(tmp_path):
    table = pcsv.read_csv(JOBS["csv"])
    upper = table.rename_columns([c.upper() for c in table.column_names])
    pcsv.write_csv(upper, tmp_path / "upper.csv")
    assert (
        read_bigquery_export(str(tmp_path / "upper.csv")).queries
        == read_bigquery_export(str(JOBS["csv"])).queries
    )


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "file is empty"),
        ("blank.jsonl", b"\n  \n", "file is empty"),
        (
            "header.csv",
            b"job_id,creation_time,total_bytes_processed,total_bytes_billed\n",
            "contains no rows",
        ),
        ("array.json", b"[]", "contains no rows"),
        ("broken.json", b'[{"job_id": "a", "creation_time": ', "cannot parse as json array"),
        ("broken.jsonl", b'{"job_id": "a"}\n{"job_id": \n', "cannot parse as ndjson"),
        ("broken.parquet", b"PAR1 not really parquet", "cannot parse as parquet"),
    ],
)
def test_empty_and_unparsable_files_are_one_line_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WarehouseInputError) as err:
        read_bigquery_export(str(path))
    assert str(err.value).startswith(f"{path}: {problem}") and "\n" not in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(WarehouseInputError, match="file not found"):
        read_bigquery_export(str(tmp_path / "nope.csv"))


# --- shared plumbing (connectors/warehouse_readers.py, warehouse_columns.py) -------------------


def test_large_inputs_are_normalized_in_chunks_and_pieces(monkeypatch, tmp_path):
    """Chunked normalization and piecewise JSON parsing give the same history as one pass."""
    from connectors import warehouse_readers, warehouse_records

    expected = read_bigquery_export(str(JOBS["jsonl"]), str(STORAGE))
    monkeypatch.setattr(warehouse_records, "CHUNK_ROWS", 5)
    monkeypatch.setattr(warehouse_readers, "_PIECE_BYTES", 3000)  # a few rows per NDJSON piece
    for fmt in ("jsonl", "json", "csv", "parquet"):
        history = read_bigquery_export(str(JOBS[fmt]), str(STORAGE))
        assert _without_source(history) == _without_source(expected), fmt


def test_pretty_printed_ndjson_and_compressed_json_array(tmp_path):
    expected = read_bigquery_export(str(JOBS["jsonl"])).queries
    rows = [json.loads(line) for line in JOBS["jsonl"].read_text().splitlines()]
    pretty = tmp_path / "pretty.ndjson"
    pretty.write_text("".join(json.dumps(r, indent=2) + "\n" for r in rows))
    assert read_bigquery_export(str(pretty)).queries == expected
    with open(JOBS["json"], "rb") as src, gzip.open(tmp_path / "jobs.json.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert read_bigquery_export(str(tmp_path / "jobs.json.gz")).queries == expected
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(json.loads(JOBS["json"].read_text()), separators=(",", ":")))
    assert read_bigquery_export(str(compact)).queries == expected


def test_csv_numbers_in_another_notation_fall_back_to_text_parsing(tmp_path):
    odd = tmp_path / "odd.csv"
    as_text = pcsv.ConvertOptions(
        column_types=dict.fromkeys(pcsv.read_csv(JOBS["csv"]).column_names, pa.string())
    )
    rows = pcsv.read_csv(JOBS["csv"], convert_options=as_text).to_pylist()
    rows[0]["total_slot_ms"] = "4.8398e4"
    pcsv.write_csv(pa.Table.from_pylist(rows), odd)
    assert read_bigquery_export(str(odd)).queries[0].slot_ms == 48398
    rows[0]["total_slot_ms"] = "n/a"
    pcsv.write_csv(pa.Table.from_pylist(rows), odd)
    with pytest.raises(WarehouseInputError, match="column 'total_slot_ms'"):
        read_bigquery_export(str(odd))


def test_record_builder_matches_the_constructor():
    from connectors.warehouse_records import RecordBuilder

    @dataclasses.dataclass(frozen=True, slots=True)
    class Plain:
        a: int
        b: str = "x"
        c: dict = dataclasses.field(default_factory=dict)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    builder = RecordBuilder(Plain, 2)
    builder.set("a", [1, 2])
    built = builder.build()
    assert built == (Plain(1), Plain(2)) and type(built[0]) is Plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].a = 3  # type: ignore[misc]
    checked = RecordBuilder(Checked, 1)
    checked.set("a", [-1])
    with pytest.raises(ValueError, match="negative"):
        checked.build()  # __post_init__ classes go through their constructor
