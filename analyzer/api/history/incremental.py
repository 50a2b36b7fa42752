"""Incremental reads: a log the history already holds is not read again.

Why: a nightly run over a folder of thousands of event logs should pay only for the new
ones. A log is known when its location has the same stamp (size and mtime of each file,
or the object store's ETag) or, failing that, the same content fingerprint (a BLAKE2 hash
of its bytes: a copied or re-uploaded log). Hashing is several times cheaper than parsing.

What is reused is the normalised ``Application`` (msgspec MessagePack, zstd-compressed) and
its rules' findings, which are pure functions of one application and the rules config: they
are reused only under the same config (``record.rules_hash``) and run again otherwise.
Prices always run again over the whole set (pricing infers run frequency across
applications, and the catalog may have changed). A stored application read by another
deanalyze version is read again, findings included (the reader or a rule may have changed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import msgspec
import zstandard

from analyzer.api.history.code_version import reader_version
from analyzer.api.history.identity import log_key
from analyzer.api.history.record import rules_hash
from analyzer.api.history.store import HistoryStore, open_store, wait_seconds
from analyzer.core.findings import Finding
from analyzer.core.model import Application
from connectors.spark_eventlog.archives import SEPARATOR
from connectors.spark_eventlog.discovery import LogSource

_CHUNK = 1 << 20


def file_stamp(path: str) -> str | None:
    """``size:mtime_ns`` of a local file (an archive member: of its archive), or the object's ETag."""
    local = path.split(SEPARATOR, 1)[0]
    if "://" not in local:
        try:
            st = os.stat(local)
        except OSError:
            return None
        return f"{st.st_size}:{st.st_mtime_ns}"
    try:
        import fsspec

        info: dict[str, Any] = fsspec.filesystem(local.split("://", 1)[0]).info(local)
    except Exception:  # an unreachable URL is read (and reported) by the reader
        return None
    tag = next((info[k] for k in ("ETag", "etag", "md5Hash", "mtime", "LastModified") if info.get(k)), None)
    return None if tag is None else f"{info.get('size')}:{tag}"


def source_stamp(source: LogSource) -> str | None:
    """The stamps of every file of a log; None when one cannot be taken (then it is always read)."""
    stamps = [file_stamp(f) for f in source.files]
    return None if any(s is None for s in stamps) else "|".join(f"{f}={s}" for f, s in
                                                                zip(source.files, stamps, strict=True))


def content_fingerprint(source: LogSource) -> str | None:
    """A hash of the bytes of every file of the log, in replay order."""
    from connectors.spark_eventlog.storage import storage_for

    digest = hashlib.blake2b(digest_size=20)
    try:
        for path in source.files:
            storage = storage_for(path)
            with storage.open(path) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
            digest.update(b"\0")
    except Exception:  # unreadable: the reader will report it
        return None
    return digest.hexdigest()


def encode_app(app: Application) -> bytes:
    """An ``Application`` as compressed MessagePack; ``decode_app`` gives back an equal one."""
    return zstandard.ZstdCompressor(level=3).compress(msgspec.msgpack.encode(app))


def decode_app(blob: bytes) -> Application:
    """The ``Application`` stored by ``encode_app``."""
    return msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(blob), type=Application)


def encode_findings(findings: list[Finding]) -> bytes | None:
    """Findings as compressed MessagePack, or None when they would not come back equal (e.g. a tuple
    in their evidence, which MessagePack turns into a list): then they are not stored."""
    try:
        data = msgspec.msgpack.encode(findings)
        if msgspec.msgpack.decode(data, type=list[Finding]) != findings:
            return None
    except (TypeError, ValueError, msgspec.MsgspecError):  # a value MessagePack cannot carry: not cached
        return None
    return zstandard.ZstdCompressor(level=3).compress(data)


def decode_findings(blob: bytes) -> list[Finding]:
    """The findings stored by ``encode_findings``."""
    return msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(blob), type=list[Finding])


class HistoryLogCache:
    """The ``LogCache`` of ``analyze_spark_logs`` backed by the history file at ``history``.

    ``lookup`` opens the file twice, briefly (known logs, then the stored applications it
    wants), never while hashing or reading logs, so other writers are not held up. Fresh
    reads are buffered and written by ``flush`` into a store the caller opened, in one
    statement (thousands of small inserts would cost more than the reads). ``hits`` and
    ``misses`` say what happened.
    """

    def __init__(self, history: str | os.PathLike[str], tool_version: str | None = None,
                 wait_s: float | None = None) -> None:
        self.history = history
        self.wait_s = wait_seconds() if wait_s is None else wait_s
        self.tool_version = tool_version or reader_version()  # a changed reader re-reads every log
        self.hits = 0
        self.misses = 0
        self._pending: dict[str, tuple[str | None, str | None, Application]] = {}
        self._fingerprints: dict[str, str | None] = {}
        self._moved: list[tuple[str, str | None, str, str]] = []  # (key, new stamp, fingerprint, matched key)
        self._moved_from: dict[str, tuple[str, str | None, bytes]] = {}  # matched key -> id, attempt, blob
        self._key_of: dict[int, str] = {}  # id(application) -> the log_files row it came from or goes to
        self._stored_findings: dict[str, tuple[str | None, bytes | None]] = {}  # key -> (rules hash, blob)
        self._new_findings: dict[str, tuple[str, bytes]] = {}

    def lookup(self, sources: Sequence[LogSource]) -> list[Application | None]:
        """Per source, the stored application when the log is unchanged, or None to read it."""
        with open_store(self.history, wait_s=self.wait_s) as store:
            known = {r["source_key"]: r for r in store.rows(
                "SELECT source_key, stamp, fingerprint FROM log_files WHERE tool_version = ?",
                [self.tool_version])}
        by_print = {r["fingerprint"]: r["source_key"] for r in known.values() if r["fingerprint"]}
        wanted: dict[int, str] = {}
        for i, source in enumerate(sources):
            stamp = source_stamp(source)
            key = log_key(source.display)
            row = known.get(key)
            if row is not None and stamp is not None and row["stamp"] == stamp:
                wanted[i] = key
                continue
            fingerprint = content_fingerprint(source)
            self._fingerprints[key] = fingerprint
            if fingerprint is not None and fingerprint in by_print:
                wanted[i] = by_print[fingerprint]
                self._moved.append((key, stamp, fingerprint, by_print[fingerprint]))
        blobs = self._blobs(set(wanted.values()))
        out: list[Application | None] = []
        for i in range(len(sources)):
            blob = blobs.get(wanted.get(i, ""))
            app = None if blob is None else decode_app(blob)
            if app is not None:
                self._key_of[id(app)] = wanted[i]
            out.append(app)
        self.hits = sum(app is not None for app in out)
        self.misses = len(out) - self.hits
        return out

    def _blobs(self, keys: set[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        with open_store(self.history, wait_s=self.wait_s) as store:
            rows = store.execute("SELECT source_key, app_blob, rules_hash, findings_blob, app_id, "
                                 "attempt_id FROM log_files "
                                 "WHERE source_key IN (SELECT unnest(?::VARCHAR[]))",
                                 [sorted(keys)]).fetchall()
        self._stored_findings.update({k: (h, None if f is None else bytes(f)) for k, _, h, f, _, _ in rows})
        moved = {m[3] for m in self._moved}
        self._moved_from.update({k: (a, t, bytes(b)) for k, b, _, _, a, t in rows if k in moved})
        return {k: bytes(b) for k, b, _, _, _, _ in rows}

    def remember(self, source: LogSource, app: Application) -> None:
        """Keep a freshly read application until ``flush``."""
        key = log_key(source.display)
        self._pending[key] = (source_stamp(source), self._fingerprints.get(key), app)
        self._key_of[id(app)] = key

    def findings(self, app: Application, rules_config: object | None) -> list[Finding] | None:
        """The stored findings of ``app`` when they were made under the same rules config."""
        stored = self._stored_findings.get(self._key_of.get(id(app), ""))
        if stored is None or stored[1] is None or stored[0] != rules_hash(rules_config):
            return None
        return decode_findings(stored[1])

    def remember_findings(self, app: Application, rules_config: object | None,
                          findings: list[Finding]) -> None:
        """Keep the findings of an application until ``flush``."""
        key = self._key_of.get(id(app))
        blob = encode_findings(findings)
        if key is not None and blob is not None:
            self._new_findings[key] = (rules_hash(rules_config), blob)

    def flush(self, store: HistoryStore) -> int:
        """Write every remembered application and findings (and logs found under a new name); returns the
        number of log rows written."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = []
        for key, (stamp, fp, app) in self._pending.items():
            rules, found = self._new_findings.pop(key, (None, None))
            rows.append((key, stamp, fp, self.tool_version, app.app_id, app.attempt_id, encode_app(app), now,
                         rules, found))
        for key, stamp, fp, matched in self._moved:
            app_id, attempt_id, blob = self._moved_from[matched]
            rules, found = self._new_findings.get(matched) or self._stored_findings.get(matched, (None, None))
            rows.append((key, stamp, fp, self.tool_version, app_id, attempt_id, blob, now, rules, found))
        if rows:
            _register(store, "new_logs", _LOG_COLUMNS, rows)
            store.execute(f"INSERT OR REPLACE INTO log_files ({', '.join(_LOG_COLUMNS)}) "
                          "SELECT * FROM new_logs")
            store.db.unregister("new_logs")
        if self._new_findings:
            updates = [(k, h, b) for k, (h, b) in self._new_findings.items()]
            _register(store, "new_findings", ("k", "h", "b"), updates)
            store.execute("UPDATE log_files SET rules_hash = n.h, findings_blob = n.b "
                          "FROM new_findings n WHERE source_key = n.k")
            store.db.unregister("new_findings")
        self._pending.clear()
        self._moved.clear()
        self._new_findings.clear()
        return len(rows)


def _register(store: HistoryStore, name: str, columns: Sequence[str],
              rows: Sequence[tuple[Any, ...]]) -> None:
    """``rows`` as a DuckDB view ``name`` (one Arrow table: one statement instead of one per row)."""
    import pyarrow as pa

    arrays = [pa.array([r[i] for r in rows], type=pa.binary() if column in _BINARY else None)
              for i, column in enumerate(columns)]
    store.db.register(name, pa.Table.from_arrays(arrays, names=list(columns)))


_BINARY = frozenset({"app_blob", "findings_blob", "b"})
_LOG_COLUMNS = ("source_key", "stamp", "fingerprint", "tool_version", "app_id", "attempt_id", "app_blob",
                "read_at", "rules_hash", "findings_blob")
