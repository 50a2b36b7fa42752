"""Find the event logs behind the paths a user gives, in every layout Spark writes.

Layouts: single files (``<app>[.codec][.inprogress]``), rolling folders
(``eventlog_v2_<app>/events_<N>_<app>[.codec]`` + ``appstatus_<app>[.inprogress]``),
Databricks folders (``eventlog`` plus rotated ``eventlog-YYYY-MM-DD--HH-MM.gz``) and
Spark 1.x folders (``EVENT_LOG_<N>`` + ``APPLICATION_COMPLETE``). Local paths use the
OS directly; URLs (``s3://``, ``gs://``, ``abfs://``, ``hdfs://``...) go through fsspec.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from connectors.spark_eventlog.archives import SEPARATOR, is_archive, member_groups
from connectors.spark_eventlog.errors import EventLogError, redact_url
from connectors.spark_eventlog.storage import Storage, storage_for

_ROLLING_EVENTS = re.compile(r"^events_(\d+)_")
_LEGACY_EVENTS = re.compile(r"^EVENT_LOG_(\d+)$")
_DATABRICKS_ROTATED = re.compile(r"^eventlog-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2})(\.gz)?$")
# Files that sit next to event logs but are never event logs themselves.
_NOT_LOGS = re.compile(r"(?i)(^[._]|\.(crc|md|txt|csv|tsv|json|yaml|yml|py|html|png|xml|parquet)$)")


@dataclass(frozen=True, slots=True)
class LogSource:
    """One application attempt's log: its files in replay order and what the layout says."""

    display: str
    files: tuple[str, ...]
    complete_hint: bool | None = None
    legacy_codec: str | None = None
    spark_version_hint: str | None = None


def discover(paths: Iterable[str]) -> Iterator[LogSource | EventLogError]:
    """Yield every log under ``paths``; unreadable paths come back as errors, not raises.

    A path given twice (or a folder and a file inside it) is read once: logs are keyed by
    their files' canonical paths. A path under which nothing at all was found (an empty
    folder, a folder of other files) is an error, so a ``--fail-on`` gate cannot pass on a
    run that read nothing.
    """
    seen_dirs: set[str] = set()
    seen_logs: set[tuple[str, ...]] = set()
    for path in paths:
        try:
            storage = storage_for(path)
        except EventLogError as err:
            yield err
            continue
        path = storage.normalize(path)
        if _searched_before(storage, path, seen_dirs):
            continue
        found = False
        for item in _guarded(storage, path, seen_dirs):
            if isinstance(item, LogSource):
                key = _identity(storage, item)
                if key in seen_logs:
                    found = True
                    continue
                seen_logs.add(key)
                if "://" in item.display:  # the name shown in reports: no credentials
                    item = dataclasses.replace(item, display=redact_url(item.display))
            found = True
            yield item
        if not found:
            yield EventLogError("no Spark event log found here", path)


def _searched_before(storage: Storage, path: str, seen: set[str]) -> bool:
    """Whether ``path`` is a folder already searched (given twice, or inside one given before).

    ``seen`` holds only folders, so a canonical-path lookup answers without asking the
    storage whether ``path`` is a folder (a network call, with retries, on a URL).
    """
    return storage.real_path(path) in seen


def _identity(storage: Storage, source: LogSource) -> tuple[str, ...]:
    """The files of a log as canonical paths (``!/`` members keep their archive's canonical path)."""
    def canonical(file: str) -> str:
        archive, sep, member = file.partition(SEPARATOR)
        return storage.real_path(archive) + sep + member
    return tuple(canonical(f) for f in source.files)


def _guarded(storage: Storage, path: str, seen: set[str]) -> Iterator[LogSource | EventLogError]:
    """Discover below ``path``; a bad entry becomes an error and its siblings are still found."""
    try:
        yield from _discover_one(storage, path, seen)
    except EventLogError as err:
        yield err


def _discover_one(storage: Storage, path: str, seen: set[str]) -> Iterator[LogSource | EventLogError]:
    if not storage.exists(path):
        raise EventLogError("no such file or folder", path)
    if not storage.isdir(path):
        storage.check_regular(path)
        yield from _archive(storage, path) if is_archive(path) else [
            LogSource(display=path, files=(path,), complete_hint=_single_file_hint(path))]
        return
    real = storage.real_path(path)
    if real in seen:  # a symbolic link back to a folder already searched, or a folder given twice
        return
    seen.add(real)
    layout = _folder_layout(storage, path)
    if layout is not None:
        yield layout
        return
    for name in sorted(storage.listdir(path)):
        child = storage.join(path, name)
        if storage.isdir(child) or is_archive(name):
            yield from _guarded(storage, child, seen)
        elif not _NOT_LOGS.search(name):
            yield from _guarded_file(storage, child, name)


def _guarded_file(storage: Storage, path: str, name: str) -> Iterator[LogSource | EventLogError]:
    """A file in a searched folder; a FIFO, socket or device there is an error, not a hang."""
    try:
        storage.check_regular(path)
    except EventLogError as err:
        yield err
        return
    yield LogSource(display=path, files=(path,), complete_hint=_single_file_hint(name))


def _archive(storage: Storage, path: str) -> Iterator[LogSource]:
    """Every log inside a zip archive, addressed as ``<archive>!/<member>``."""
    with storage.open(path) as raw:
        groups = list(member_groups(raw, path))
    for members, hint in groups:
        files = tuple(f"{path}{SEPARATOR}{m}" for m in members)
        display = files[0] if len(files) == 1 else f"{path}{SEPARATOR}{members[0].rsplit('/', 1)[0]}"
        yield LogSource(display=display, files=files, complete_hint=hint)


def _single_file_hint(name: str) -> bool | None:
    return False if name.endswith(".inprogress") else None


def _folder_layout(storage: Storage, path: str) -> LogSource | None:
    """A folder that is itself one application's log, or None for a plain folder."""
    names = storage.listdir(path)
    base = os.path.basename(path.rstrip("/"))
    if base.startswith("eventlog_v2_") or any(_ROLLING_EVENTS.match(n) for n in names):
        return _rolling(storage, path, names)
    if any(_LEGACY_EVENTS.match(n) for n in names):
        return _legacy(storage, path, names)
    if "eventlog" in names and not storage.isdir(storage.join(path, "eventlog")):
        rotated = sorted(n for n in names if _DATABRICKS_ROTATED.match(n))
        files = tuple(storage.join(path, n) for n in [*rotated, "eventlog"])
        return LogSource(display=path, files=files)
    return None


def _rolling(storage: Storage, path: str, names: list[str]) -> LogSource:
    events = sorted((int(m.group(1)), n) for n in names if (m := _ROLLING_EVENTS.match(n)))
    if not events:
        raise EventLogError("rolling event-log folder has no events_<N>_ files", path)
    status = [n for n in names if n.startswith("appstatus_")]
    hint = None if not status else not any(n.endswith(".inprogress") for n in status)
    files = tuple(storage.join(path, n) for _, n in events)
    return LogSource(display=path, files=files, complete_hint=hint)


def _legacy(storage: Storage, path: str, names: list[str]) -> LogSource:
    events = sorted((int(m.group(1)), n) for n in names if (m := _LEGACY_EVENTS.match(n)))
    codec = next((n[len("COMPRESSION_CODEC_"):] for n in names if n.startswith("COMPRESSION_CODEC_")), None)
    version = next((n[len("SPARK_VERSION_"):] for n in names if n.startswith("SPARK_VERSION_")), None)
    return LogSource(
        display=path, files=tuple(storage.join(path, n) for _, n in events),
        complete_hint="APPLICATION_COMPLETE" in names, legacy_codec=_legacy_codec_name(codec),
        spark_version_hint=version,
    )


def _legacy_codec_name(codec: str | None) -> str | None:
    if not codec:
        return None
    short = codec.rsplit(".", 1)[-1].lower()
    for name in ("lz4", "lzf", "snappy", "zstd"):
        if short.startswith(name):
            return name
    return short
