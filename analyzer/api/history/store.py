"""The run history store: one embedded DuckDB file, its versioned schema and its single writer.

Why DuckDB: the store must be a file that needs no server (a cron job or a laptop), that
analysts can query with SQL, and that exports to Parquet for Spark and BigQuery. DuckDB is
all three. Why migrations: a history outlives the deanalyze version that created it; each
schema change is one more entry in ``MIGRATIONS``, applied in order and recorded in
``meta.schema_version``, never an edit of an earlier one.

Concurrency: DuckDB lets one process open a file for writing. Writers hold it only briefly
(to look up known logs, then to write a finished analysis, never during the analysis), and
a writer that finds it taken retries for ``wait_s`` seconds (``DEANALYZE_HISTORY_WAIT``,
default 30): audit sources run as parallel jobs take turns. After that it gets
``HistoryBusy``, one line naming the file, instead of DuckDB's lock error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA_VERSION = 3
DEFAULT_WAIT_S = 30.0
_RETRY_S = 0.2

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
    CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    -- one row per event log read: what identifies it and the normalised Application (msgspec)
    CREATE TABLE log_files (
        source_key VARCHAR PRIMARY KEY, stamp VARCHAR, fingerprint VARCHAR, tool_version VARCHAR,
        app_id VARCHAR, attempt_id VARCHAR, app_blob BLOB, read_at TIMESTAMP);
    CREATE INDEX log_files_fingerprint ON log_files (fingerprint);
    -- one row per Spark application run
    CREATE TABLE runs (
        run_key VARCHAR PRIMARY KEY, kind VARCHAR, source_name VARCHAR, app_key VARCHAR, app_id VARCHAR,
        attempt_id VARCHAR, name VARCHAR, user_name VARCHAR, log_source VARCHAR, fingerprint VARCHAR,
        day DATE, start_time TIMESTAMP, end_time TIMESTAMP, duration_ms BIGINT, cost_usd DOUBLE,
        executor_core_hours DOUBLE, ledger_usd JSON, savings_usd DOUBLE, input_bytes BIGINT,
        shuffle_read_bytes BIGINT, output_bytes BIGINT, task_time_ms BIGINT, owner VARCHAR,
        owner_key VARCHAR, properties JSON, tool_version VARCHAR, rules_hash VARCHAR,
        recorded_at TIMESTAMP);
    -- per-stage figures needed for trends and for naming the stage that moved
    CREATE TABLE stages (
        run_key VARCHAR, stage_id INTEGER, attempt_id INTEGER, name VARCHAR, status VARCHAR,
        num_tasks INTEGER, duration_ms BIGINT, task_time_ms BIGINT, input_bytes BIGINT,
        shuffle_read_bytes BIGINT, shuffle_write_bytes BIGINT, spill_bytes BIGINT,
        median_task_ms DOUBLE, max_task_ms DOUBLE);
    -- findings of every recorded run (Spark) or warehouse window
    CREATE TABLE findings (
        run_key VARCHAR, kind VARCHAR, source_name VARCHAR, app_key VARCHAR, day DATE,
        observed_at TIMESTAMP, rule_id VARCHAR, severity VARCHAR, finding_key VARCHAR, subject JSON,
        title VARCHAR, saving_usd DOUBLE);
    -- one row per recorded warehouse window: the observations findings are followed across
    CREATE TABLE recordings (
        run_key VARCHAR PRIMARY KEY, kind VARCHAR, source_name VARCHAR, app_key VARCHAR, day DATE,
        observed_at TIMESTAMP);
    -- warehouses: per day x query pattern x warehouse/reservation x owner
    CREATE TABLE warehouse_usage (
        kind VARCHAR, source_name VARCHAR, day DATE, app_key VARCHAR, pattern VARCHAR, warehouse VARCHAR,
        owner VARCHAR, owner_key VARCHAR, runs BIGINT, bytes_scanned BIGINT, credits DOUBLE,
        slot_hours DOUBLE, execution_ms BIGINT, cost_usd DOUBLE, example_sql VARCHAR,
        tool_version VARCHAR, rules_hash VARCHAR, recorded_at TIMESTAMP);
    """),
    (2, """
    -- the rules' findings of each stored application, valid for one rules config (its hash)
    ALTER TABLE log_files ADD COLUMN rules_hash VARCHAR;
    ALTER TABLE log_files ADD COLUMN findings_blob BLOB;
    """),
    (3, """
    -- warehouse usage per hour (a new window replaces exactly the hours it covers)
    ALTER TABLE warehouse_usage ADD COLUMN hour TIMESTAMP;
    """),
)


class HistoryError(Exception):
    """A history store that cannot be used; ``str()`` is one line naming the file."""


class HistoryBusy(HistoryError):
    """Another process is writing the history store."""


def _duckdb() -> Any:
    import duckdb  # imported on use: commands without --history never load it

    return duckdb


class HistoryStore:
    """An open history file; use ``open_store`` (a context manager) rather than the constructor."""

    def __init__(self, path: str, connection: Any, read_only: bool) -> None:
        self.path = path
        self.db = connection
        self.read_only = read_only

    def execute(self, sql: str, params: Any = None) -> Any:
        """Run one statement; DuckDB's result object comes back for fetching."""
        return self.db.execute(sql, params) if params is not None else self.db.execute(sql)

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """A query's rows as dictionaries (column name -> value)."""
        cursor = self.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: Any = None) -> tuple[Any, ...] | None:
        """The first row of a query, or None; the result is always fetched to its end (DuckDB wants it)."""
        rows = self.execute(sql, params).fetchall()
        return tuple(rows[0]) if rows else None

    def schema_version(self) -> int:
        """The schema the file is at (0 for a file that has none yet)."""
        try:
            row = self.one("SELECT value FROM meta WHERE key = 'schema_version'")
        except _duckdb().CatalogException:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Apply every migration the file has not had yet, each in one transaction."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise HistoryError(f"{self.path}: history schema {current} is newer than this deanalyze "
                               f"understands ({SCHEMA_VERSION}); upgrade deanalyze")
        for version, sql in MIGRATIONS:
            if version <= current:
                continue
            self.execute("BEGIN TRANSACTION")
            self.execute(sql)
            self.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
            self.execute("COMMIT")


def wait_seconds() -> float:
    """How long a writer waits for another one: ``DEANALYZE_HISTORY_WAIT`` seconds, default 30."""
    try:
        return max(0.0, float(os.environ.get("DEANALYZE_HISTORY_WAIT", DEFAULT_WAIT_S)))
    except ValueError:
        return DEFAULT_WAIT_S


def _connect(path: str, read_only: bool, wait_s: float) -> Any:
    """DuckDB's connection, retried while another process holds the file (up to ``wait_s``)."""
    duckdb = _duckdb()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as err:
            text = str(err)
            if "lock" not in text.lower():
                raise HistoryError(f"{path}: cannot open the history: {text.splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                waited = f" (waited {wait_s:g} s)" if wait_s else ""
                raise HistoryBusy(f"{path}: another deanalyze process is writing this history{waited}; "
                                  "try again when it has finished") from None
            time.sleep(_RETRY_S)
        except duckdb.Error as err:
            first = str(err).splitlines()[0]
            raise HistoryError(f"{path}: not a deanalyze history (DuckDB file): {first}") from None


@contextmanager
def open_store(path: str | os.PathLike[str], *, read_only: bool = False,
               wait_s: float = 0.0) -> Iterator[HistoryStore]:
    """Open (creating and migrating when writable) the history at ``path``; closed on exit.

    ``wait_s``: how long to retry while another process has the file open for writing.
    """
    path = os.fspath(path)
    if read_only and not os.path.exists(path):
        raise HistoryError(f"{path}: no such history file (record runs with --history first)")
    if not read_only:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise HistoryError(f"{path}: folder {folder} does not exist")
    connection = _connect(path, read_only, wait_s)
    store = HistoryStore(path, connection, read_only)
    try:
        if read_only:
            if store.schema_version() == 0:
                raise HistoryError(f"{path}: not a deanalyze history (no schema)")
            if store.schema_version() > SCHEMA_VERSION:
                raise HistoryError(f"{path}: history schema {store.schema_version()} is newer than this "
                                   f"deanalyze understands ({SCHEMA_VERSION}); upgrade deanalyze")
        else:
            store.migrate()
        yield store
    finally:
        connection.close()
