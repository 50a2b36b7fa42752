"""The history file: schema and migrations, one writer at a time, the Parquet export."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from analyzer.api.history import (
    HistoryBusy,
    HistoryError,
    analyze_spark_with_history,
    export_history,
    open_store,
)
from analyzer.api.history.store import MIGRATIONS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "spark-events"


def opened(path: Path, read_only: bool = False) -> None:
    with open_store(path, read_only=read_only):
        pass


def test_a_new_history_is_created_at_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == MIGRATIONS[-1][0]
        tables = {r["table_name"] for r in store.rows("SELECT table_name FROM information_schema.tables")}
    assert {"meta", "log_files", "runs", "stages", "findings", "warehouse_usage", "recordings"} <= tables
    with open_store(path) as store:  # reopening applies nothing twice
        assert store.schema_version() == SCHEMA_VERSION


def test_an_older_history_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute(MIGRATIONS[0][1])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO log_files (source_key, stamp, tool_version) VALUES ('/logs/a', '1:2', '0.1.0')")
    con.close()
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.rows("SELECT source_key, stamp, rules_hash, findings_blob FROM log_files") == [
            {"source_key": "/logs/a", "stamp": "1:2", "rules_hash": None, "findings_blob": None}]


def test_a_history_from_a_newer_deanalyze_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with open_store(path) as store:
        store.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    for read_only in (False, True):
        with pytest.raises(HistoryError, match=r"schema 99 is newer .* upgrade deanalyze"):
            opened(path, read_only=read_only)


def test_not_a_history(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="junk.duckdb"), open_store(junk):
        pass
    with pytest.raises(HistoryError, match="no such history file"):
        opened(tmp_path / "missing.duckdb", read_only=True)


def test_a_second_writer_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with open_store(path):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        sys.stdin.readline()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(HistoryBusy, match="another deanalyze process is writing this history"):
            opened(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with open_store(path):  # free again once the other writer is done
        pass


def test_a_writer_waits_its_turn(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    opened(path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, duckdb
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with open_store(path, wait_s=30) as store:  # retried until the other writer closed the file
            assert store.schema_version() == SCHEMA_VERSION
    finally:
        holder.wait(timeout=30)


def test_export_is_a_parquet_dataset_partitioned_by_day(tmp_path: Path) -> None:
    history = tmp_path / "h.duckdb"
    analyze_spark_with_history(history, [str(EXAMPLES)])
    counts = export_history(history, tmp_path / "export")
    assert counts["runs"] == 9 and counts["stages"] > 0 and counts["log_files"] == 9
    days = sorted(p.name for p in (tmp_path / "export" / "runs").iterdir())
    assert days and all(d.startswith("day=") for d in days)
    con = duckdb.connect()
    glob = str(tmp_path / "export" / "runs" / "**" / "*.parquet")
    rows = con.execute(
        f"SELECT count(*), count(DISTINCT day), sum(cost_usd) > 0 FROM "
        f"read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()
    assert rows == (9, len(days), True)
    import pyarrow.dataset as ds

    table = ds.dataset(tmp_path / "export" / "stages", format="parquet", partitioning="hive").to_table()
    assert {"run_key", "stage_id", "duration_ms", "task_time_ms", "day"} <= set(table.column_names)
    export_history(history, tmp_path / "export")  # a second export replaces the first
    assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone() == (9,)
