"""Issue 11, the warehouse half: exports, side files, prices and configs that must fail in one line.

Each case is bad input that used to end as an internal error, a hang, gigabytes of memory,
or a silently emptier report; now it is one ``errors[]`` line naming the file, and the
good input beside it is still analysed.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import threading
from pathlib import Path

import pytest

from analyzer.api import analyze_warehouse_source
from analyzer.core.catalog import CatalogError, load_catalog
from connectors.bigquery import read_bigquery_export
from connectors.limits import ReadLimits, use_limits
from connectors.snowflake import read_snowflake_export
from connectors.warehouse_files import PartialHistoryError, WarehouseInputError

DATA = Path(__file__).resolve().parents[1] / "data" / "warehouse"
QH = DATA / "snowflake_query_history.csv"
METERING = DATA / "snowflake_warehouse_metering.csv"
JOBS = DATA / "bigquery_jobs.jsonl"
STORAGE = DATA / "bigquery_table_storage.csv"


def _snowflake(qh: Path | str, metering: Path | str | None = None):
    side = str(metering) if metering else None
    return analyze_warehouse_source(lambda: read_snowflake_export(str(qh), side), str(qh))


def _errors(report) -> dict[str, str]:
    return {e.source: e.message for e in report.errors}


# --- side files ---------------------------------------------------------------------------

def test_bad_metering_file_is_an_error_and_the_history_is_still_analysed(tmp_path: Path) -> None:
    good = _snowflake(QH, METERING)
    bad = tmp_path / "metering.csv"
    bad.write_text("garbage\n")
    report = _snowflake(QH, bad)
    assert _errors(report) == {str(bad): "contains no rows (csv)"}
    assert len(report.warehouses) == 1
    assert len(report.warehouses[0].queries) == len(good.warehouses[0].queries)
    assert report.findings


def test_missing_table_storage_file_keeps_the_jobs(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    report = analyze_warehouse_source(lambda: read_bigquery_export(str(JOBS), str(missing)), str(JOBS))
    assert _errors(report) == {str(missing): "file not found"}
    assert len(report.warehouses) == 1 and report.findings


def test_partial_history_error_carries_the_history(tmp_path: Path) -> None:
    with pytest.raises(PartialHistoryError) as info:
        read_snowflake_export(str(QH), str(tmp_path / "nope.csv"))
    assert isinstance(info.value, WarehouseInputError) and len(info.value.history.queries) > 0


# --- impossible numbers -------------------------------------------------------------------

def _with_values(source: Path, target: Path, column: str, values: dict[int, str]) -> int:
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"), newline="")))
    index = [c.lower() for c in rows[0]].index(column)
    for row_number, value in values.items():
        rows[row_number][index] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    target.write_text(out.getvalue())
    return len(rows) - 1


def test_infinite_cloud_services_credits_skip_the_row_and_say_so(tmp_path: Path) -> None:
    qh = tmp_path / "qh.csv"
    total = _with_values(QH, qh, "credits_used_cloud_services", {1: "inf", 2: "-0.5"})
    report = _snowflake(qh, METERING)
    assert _errors(report) == {str(qh): "skipped 2 row(s) with impossible numbers (negative, infinite or "
                                        "too large) in credits_used_cloud_services"}
    assert len(report.warehouses[0].queries) == total - 2
    for cost in report.warehouse_costs:
        assert all(v == v and v >= 0 for v in _floats(cost))


def _floats(obj: object) -> list[float]:
    import dataclasses

    values = []
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, float):
            values.append(value)
    return values


def test_negative_metering_credits_are_skipped(tmp_path: Path) -> None:
    metering = tmp_path / "m.csv"
    _with_values(METERING, metering, "credits_used", {1: "-3"})
    report = _snowflake(QH, metering)
    assert "skipped 1 row(s)" in _errors(report)[str(metering)]
    assert report.findings


def test_huge_integer_bytes_are_skipped_not_an_internal_error(tmp_path: Path) -> None:
    qh = tmp_path / "qh.csv"
    _with_values(QH, qh, "bytes_scanned", {1: "1e30"})
    report = _snowflake(qh)
    assert "bytes_scanned" in _errors(report)[str(qh)]


# --- files that are not what they claim ---------------------------------------------------

def test_gz_that_is_not_gzip_names_the_file(tmp_path: Path) -> None:
    fake = tmp_path / "q.csv.gz"
    fake.write_bytes(QH.read_bytes())
    report = _snowflake(fake)
    assert _errors(report)[str(fake)].startswith("cannot decompress: ")


def test_truncated_gz_names_the_file(tmp_path: Path) -> None:
    cut = tmp_path / "q.csv.gz"
    cut.write_bytes(gzip.compress(QH.read_bytes())[:-200])
    message = _errors(_snowflake(cut))[str(cut)]
    assert "\n" not in message and message.startswith("cannot")


@pytest.mark.parametrize("name", ["fifo", "dev"])
def test_fifo_or_device_as_query_history_file_does_not_block(tmp_path: Path, name: str) -> None:
    path = tmp_path / "qh.csv"
    if name == "fifo":
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    out: list = []
    thread = threading.Thread(target=lambda: out.append(_snowflake(path)), daemon=True)
    thread.start()
    thread.join(10)
    assert out, "blocked"
    assert "not a regular file" in _errors(out[0])[str(path)]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_deep_nesting_in_a_json_export_is_one_error(tmp_path: Path, suffix: str) -> None:
    deep = tmp_path / f"jobs{suffix}"
    deep.write_text("[" * 100_000 if suffix == ".json" else '{"job_id": ' + "[" * 100_000 + "\n")
    report = analyze_warehouse_source(lambda: read_bigquery_export(str(deep)), str(deep))
    message = _errors(report)[str(deep)]
    assert message.startswith("cannot parse as"), message


def test_row_over_the_limit_is_a_clear_error(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.json"
    rows = JOBS.read_text().splitlines()
    big = rows[0][:-1] + ', "query": "' + "x" * (2 << 20) + '"}'
    jobs.write_text("[" + ",".join([*rows[1:], big]) + "]")
    with use_limits(ReadLimits(max_line_bytes=1 << 20)):
        report = analyze_warehouse_source(lambda: read_bigquery_export(str(jobs)), str(jobs))
    assert _errors(report)[str(jobs)].startswith("a row is larger than 1 MiB")


def test_ndjson_line_without_end_is_bounded(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(JOBS.read_bytes() + b'{"job_id": "' + b"x" * (80 << 20))
    report = analyze_warehouse_source(lambda: read_bigquery_export(str(jobs)), str(jobs))
    assert _errors(report)[str(jobs)].startswith("a row is larger than 16 MiB")


# --- price catalogs and TOML configs ------------------------------------------------------

@pytest.mark.parametrize(("line", "key"), [
    ("vcpu_hour = nan", "vcpu_hour"), ("gib_hour = inf", "gib_hour"), ("vcpu_hour = -1.0", "vcpu_hour"),
    ("usd_per_dbu = -0.5", "usd_per_dbu"),
    ("[warehouse.snowflake]\nusd_per_credit = nan", "warehouse.snowflake"),
    ("[warehouse.bigquery]\nslot_hour = { standard = -1 }", "warehouse.bigquery.slot_hour.standard"),
])
def test_impossible_prices_name_file_and_key(tmp_path: Path, line: str, key: str) -> None:
    catalog = tmp_path / "prices.toml"
    base = {"vcpu_hour": "0.03", "gib_hour": "0.004"}
    head = [f"{k} = {v}" for k, v in base.items() if not line.startswith(k)]
    header = ['name = "mine"', 'as_of = "2026-12-01"', 'source = "contract"']
    catalog.write_text("\n".join([*header, *head, line]))
    with pytest.raises(CatalogError) as info:
        load_catalog(str(catalog))
    assert str(info.value).startswith(f"{catalog}: {key}") and "finite, non-negative" in str(info.value)


def test_deep_toml_is_one_line_for_every_config(tmp_path: Path) -> None:
    from analyzer.api.audit_config import AuditConfigError, load_audit_config
    from rules.config import ConfigError, load_config

    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000)
    for load, error in ((load_catalog, CatalogError), (load_config, ConfigError),
                        (load_audit_config, AuditConfigError)):
        with pytest.raises(error) as info:
            load(str(deep))
        assert str(info.value) == f"{deep}: invalid TOML: nested too deeply"


def test_rows_without_an_id_are_skipped_and_counted(tmp_path: Path) -> None:
    qh = tmp_path / "qh.csv"
    total = _with_values(QH, qh, "query_id", {3: ""})
    report = _snowflake(qh)
    assert _errors(report) == {str(qh): "skipped 1 row(s) without query_id"}
    assert len(report.warehouses[0].queries) == total - 1


def test_parquet_without_any_job_id_is_one_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(DATA / "bigquery_jobs.parquet")
    nulls = pa.nulls(table.num_rows, pa.string())
    table = table.set_column(table.column_names.index("job_id"), "job_id", nulls)
    path = tmp_path / "jobs.parquet"
    pq.write_table(table, path)
    report = analyze_warehouse_source(lambda: read_bigquery_export(str(path)), str(path))
    assert _errors(report) == {str(path): f"no usable rows: skipped {table.num_rows} row(s) without job_id"}


@pytest.mark.parametrize(("content", "problem"), [
    ("a," * (1 << 20), "the header line is longer than 1 MiB"),
    ("x" * (200 << 10) + "\n1\n", "header: field larger than field limit"),
])
def test_csv_header_is_read_in_bounded_memory(tmp_path: Path, content: str, problem: str) -> None:
    qh = tmp_path / "qh.csv"
    qh.write_text(content)
    assert problem in _errors(_snowflake(qh))[str(qh)]


@pytest.mark.parametrize("name", ["qh.csv.gz", "qh.csv"])
def test_export_over_the_size_limit_is_one_error(tmp_path: Path, name: str) -> None:
    qh = tmp_path / name
    qh.write_bytes(gzip.compress(QH.read_bytes()) if name.endswith(".gz") else QH.read_bytes())
    with use_limits(ReadLimits(max_log_bytes=10_000)):
        report = _snowflake(qh)
    assert _errors(report) == {str(qh): "larger than the limit of 10000 bytes (set DEANALYZE_MAX_LOG_BYTES "
                                        "to raise it)"}


def test_gzip_bomb_export_stops_at_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "jobs.jsonl.gz"
    row = JOBS.read_bytes().splitlines(keepends=True)[0]
    bomb.write_bytes(gzip.compress(row * ((64 << 20) // len(row)), compresslevel=1))
    with use_limits(ReadLimits(max_log_bytes=8 << 20)):
        report = analyze_warehouse_source(lambda: read_bigquery_export(str(bomb)), str(bomb))
    assert _errors(report)[str(bomb)].startswith("larger than the limit of 8 MiB")


def test_compressed_exports_read_like_plain_ones(tmp_path: Path) -> None:
    for source in (QH, JOBS, DATA / "bigquery_jobs.json"):
        packed = tmp_path / (source.name + ".gz")
        packed.write_bytes(gzip.compress(source.read_bytes()))
        read = read_snowflake_export if source == QH else read_bigquery_export
        assert len(read(str(packed)).queries) == len(read(str(source)).queries)
