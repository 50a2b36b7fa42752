"""Fuzzing the warehouse side and the TOML configs: mutated exports in every format.

Properties: reading a mutated export either works or raises the connector's one error
type (``WarehouseInputError``, one line naming the file) — through the API, no exception
escapes and the report validates against the schema; a mutated side file never loses the
good history; a mutated TOML config is either accepted or refused with its own one-line
error naming the file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from fuzzkit import FUZZ, ROOT, WAREHOUSE, assert_one_line_errors, render_and_validate
from hypothesis import given
from hypothesis import strategies as st

from analyzer.api import analyze_warehouse_source
from connectors.bigquery import read_bigquery_export
from connectors.limits import ReadLimits, use_limits
from connectors.snowflake import read_snowflake_export

QH = WAREHOUSE / "snowflake_query_history.csv"
METERING = WAREHOUSE / "snowflake_warehouse_metering.csv"
JOBS_NDJSON = WAREHOUSE / "bigquery_jobs.jsonl"
JOBS_PARQUET = WAREHOUSE / "bigquery_jobs.parquet"
LIMITS = ReadLimits(max_line_bytes=1 << 20, max_log_bytes=64 << 20)

_CELLS = st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "-1", "1e400", "9" * 40, "", "NULL", "\"", "1,5", "true",
                     "2024-13-45 99:99:99", "[" * 2000, "{\"a\":", "\\N"]),
    st.text(max_size=30),
)


def _check(report) -> None:
    assert_one_line_errors(report)
    render_and_validate(report)


def _mutated_csv(path: Path, data: st.DataObject) -> bytes:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    for _ in range(data.draw(st.integers(1, 5))):
        op = data.draw(st.sampled_from(["cell", "duplicate", "shuffle", "drop-column", "short-row"]))
        r = data.draw(st.integers(1, len(rows) - 1))
        if op == "cell":
            rows[r][data.draw(st.integers(0, len(rows[r]) - 1))] = data.draw(_CELLS)
        elif op == "duplicate":
            rows.insert(r, list(rows[r]))
        elif op == "shuffle":
            body = rows[1:]
            body.reverse()
            rows = [rows[0], *body]
        elif op == "drop-column":
            c = data.draw(st.integers(0, len(rows[0]) - 1))
            rows = [row[:c] + row[c + 1:] for row in rows]
        else:
            rows[r] = rows[r][: data.draw(st.integers(0, len(rows[r])))]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    blob = out.getvalue().encode()
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, max(0, len(blob) - 1)))
        blob = blob[:at] + b"\xff\xfe" + blob[at:]  # not UTF-8
    return blob


@FUZZ
@given(data=st.data())
def test_mutated_snowflake_csv_and_metering(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        qh, metering = Path(tmp) / "qh.csv", Path(tmp) / "metering.csv"
        mutate_history = data.draw(st.booleans(), label="mutate history (else metering)")
        qh.write_bytes(_mutated_csv(QH, data) if mutate_history else QH.read_bytes())
        metering.write_bytes(METERING.read_bytes() if mutate_history else _mutated_csv(METERING, data))
        with use_limits(LIMITS):
            report = analyze_warehouse_source(lambda: read_snowflake_export(str(qh), str(metering)), str(qh))
    _check(report)
    if not mutate_history:
        assert len(report.warehouses) == 1, "a bad metering file lost the good history"


def _mutated_ndjson(data: st.DataObject) -> bytes:
    lines = JOBS_NDJSON.read_bytes().splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["cut", "duplicate", "swap", "deep", "garbage", "retype"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "deep":
            lines.insert(i, b'{"job_id": ' + b"[" * data.draw(st.sampled_from([50, 100_000])) + b"\n")
        elif op == "garbage":
            lines.insert(i, data.draw(st.binary(max_size=100)) + b"\n")
        else:
            value = data.draw(st.sampled_from([b'"inf"', b"-5", b"1e400", b'"x"', b"[]", b"{}", b"null"]))
            field = data.draw(st.sampled_from([b'"total_bytes_billed": ', b'"total_slot_ms": ',
                                               b'"creation_time": ', b'"query": ']))
            at = lines[i].find(field)
            if at >= 0:
                end = lines[i].find(b",", at + len(field))
                if end > 0:
                    lines[i] = lines[i][: at + len(field)] + value + lines[i][end:]
    return b"".join(lines)


@FUZZ
@given(data=st.data())
def test_mutated_bigquery_ndjson_and_json_array(data: st.DataObject) -> None:
    blob = _mutated_ndjson(data)
    as_array = data.draw(st.booleans(), label="JSON array")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("jobs.json" if as_array else "jobs.jsonl")
        path.write_bytes(b"[" + b",".join(line.rstrip(b"\n") for line in blob.splitlines()) + b"]"
                         if as_array else blob)
        with use_limits(LIMITS):
            report = analyze_warehouse_source(lambda: read_bigquery_export(str(path)), str(path))
    _check(report)


@FUZZ
@given(data=st.data())
def test_mutated_parquet(data: st.DataObject) -> None:
    table = pq.read_table(JOBS_PARQUET)
    name = data.draw(st.sampled_from(table.column_names), label="column")
    op = data.draw(st.sampled_from(["nulls", "text", "negative", "bytes"]), label="op")
    if op == "nulls":
        column = pa.nulls(table.num_rows)
    elif op == "text":
        column = pa.array([data.draw(st.text(max_size=8)) for _ in range(table.num_rows)])
    elif op == "negative":
        column = pa.array([-1.0 * i for i in range(table.num_rows)])
    else:
        column = pa.array([b"\xff" * 3] * table.num_rows)
    table = table.set_column(table.column_names.index(name), name, column)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jobs.parquet"
        pq.write_table(table, path)
        blob = path.read_bytes()
        if data.draw(st.booleans(), label="damage bytes"):
            at = data.draw(st.integers(0, len(blob) - 1))
            blob = blob[:at] + bytes([blob[at] ^ 0xFF]) + blob[at + 1:]
            cut = data.draw(st.booleans())
            path.write_bytes(blob[: data.draw(st.integers(0, len(blob)))] if cut else blob)
        report = analyze_warehouse_source(lambda: read_bigquery_export(str(path)), str(path))
    _check(report)


# --- TOML configs -------------------------------------------------------------------------

_CONFIGS = {
    "catalog": (ROOT / "analyzer" / "core" / "catalogs" / "databricks.toml").read_text(),
    "rules": '[rules."spark.skew"]\nratio = { low = 3, medium = 5, high = 10, critical = 20 }\n'
             '[suppress]\napps = ["adhoc-*"]\nrules = [{ rule = "spark.small-files", app = "ingest-*" }]\n',
    "audit": (ROOT / "examples" / "audit.toml").read_text(),
}


def _mutated_toml(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["number", "cut", "insert", "deep", "type"]))
        at = data.draw(st.integers(0, len(text)))
        if op == "number":
            number = data.draw(st.sampled_from(["nan", "inf", "-inf", "-1", "1e999", "0"]))
            text = text[:at] + number + text[at:]
        elif op == "cut":
            text = text[:at]
        elif op == "insert":
            text = text[:at] + data.draw(st.text(max_size=20)) + text[at:]
        elif op == "deep":
            text += "\nz = " + "[" * data.draw(st.sampled_from([10, 100_000])) + "]" * 10
        else:
            text += data.draw(st.sampled_from(["\nnode_types = 5", "\nrules = [1]", "\n[warehouse]\nx = 'a'",
                                               "\nvcpu_hour = nan", "\n[[spark]]\nname = 5",
                                               "\nsuppress = 3"]))
    return text


@FUZZ
@given(data=st.data())
def test_mutated_toml_configs_fail_in_one_line(data: st.DataObject) -> None:
    from analyzer.api.audit_config import AuditConfigError, load_audit_config
    from analyzer.core.catalog import CatalogError, load_catalog
    from rules.config import ConfigError, load_config

    kind = data.draw(st.sampled_from(sorted(_CONFIGS)), label="config")
    load, error = {"catalog": (load_catalog, CatalogError), "rules": (load_config, ConfigError),
                   "audit": (load_audit_config, AuditConfigError)}[kind]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.toml"
        path.write_text(_mutated_toml(_CONFIGS[kind], data), encoding="utf-8")
        try:
            load(str(path))
        except error as err:
            assert "\n" not in str(err) and str(err).startswith(str(path)), str(err)
