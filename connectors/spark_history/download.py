"""Download applications' event logs from a History Server and hand them to the log reader.

``GET /api/v1/applications/{id}/logs`` answers a zip of the application's event logs,
every attempt (Spark's ``OneApplicationResource.getEventLogs``): single files as they
are on the History Server's disk, rolling logs as their ``eventlog_v2_*`` folder. That
is exactly the archive the event-log connector already reads in place
(``connectors.spark_eventlog.archives``), so each zip is saved as it comes and
``discover()`` finds its logs: the figures are those of reading the same log from disk.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from connectors.spark_eventlog.discovery import LogSource, discover
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_history.client import HistoryClient
from connectors.spark_history.errors import HistoryServerError, redact_url
from connectors.spark_history.listing import HistoryApp, Since, list_history_applications
from connectors.spark_history.options import HistoryOptions

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_history_logs(
    url: str, apps: Iterable[HistoryApp | str], dest_dir: str | os.PathLike[str],
    options: HistoryOptions | None = None,
) -> tuple[list[LogSource], list[HistoryServerError]]:
    """Download every app's logs into ``dest_dir``; one failing app never stops the others.

    Args:
        url: the History Server's UI or API root, as for ``list_history_applications``.
        apps: listed applications, or bare application ids.
        dest_dir: where the zips go (created if missing). The returned sources read them in
            place, so the folder must outlive the reading (a ``TemporaryDirectory`` around it).
        options: timeouts, retries, TLS, headers, size cap; defaults when None.

    Returns:
        (sources, errors): one ``LogSource`` per attempt's log, ready for
        ``connectors.spark_eventlog.reader.read_application``; its ``display`` names the
        History Server URL and the zip member, not the local file. One error per
        application that could not be downloaded or read, naming it and the reason.
    """
    client = HistoryClient(url, options or HistoryOptions())
    dest = Path(dest_dir)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HistoryServerError(f"cannot create the download folder: {err.strerror}", str(dest)) from None
    sources: list[LogSource] = []
    errors: list[HistoryServerError] = []
    for app_id in dict.fromkeys(a if isinstance(a, str) else a.app_id for a in apps):
        endpoint = f"applications/{quote(app_id, safe='')}/logs"
        remote = client.secrets.scrub(redact_url(client.url(endpoint)))
        target = _target(dest, app_id)
        try:
            client.download(endpoint, target, app_id)
        except HistoryServerError as err:
            errors.append(err)
            continue
        found, problems = _logs_in(target, remote, app_id)
        sources += found
        errors += problems
    return sources, errors


def fetch_history_logs(
    url: str, dest_dir: str | os.PathLike[str], *, since: Since | None = None, app_ids: Iterable[str] = (),
    limit: int | None = None, options: HistoryOptions | None = None,
) -> tuple[list[LogSource], list[HistoryServerError]]:
    """List, then download: the one call a ``spark-history`` command or audit source needs.

    Same arguments as ``list_history_applications`` and ``download_history_logs``; a listing
    that fails (server down, not a History Server) is one error instead of a raise, so a
    source never loses the report.

    Raises:
        ValueError: ``since`` or ``limit`` is not valid (a usage error).
    """
    try:
        apps, errors = list_history_applications(url, since=since, app_ids=app_ids, limit=limit,
                                                  options=options)
    except HistoryServerError as err:
        return [], [err]
    sources, failed = download_history_logs(url, apps, dest_dir, options)
    return sources, [*errors, *failed]


def _target(dest: Path, app_id: str) -> Path:
    """A fresh file name for the app's zip, as the History Server names it (``eventLogs-<id>.zip``)."""
    stem = f"eventLogs-{_UNSAFE.sub('_', app_id)[:150]}"
    target, n = dest / f"{stem}.zip", 1
    while target.exists():  # two ids that sanitize alike, or a folder reused
        n += 1
        target = dest / f"{stem}-{n}.zip"
    return target


def _logs_in(archive: Path, remote: str, app_id: str) -> tuple[list[LogSource], list[HistoryServerError]]:
    """The logs in one downloaded zip, displayed as ``<History Server URL>!/<member>``."""
    if not zipfile.is_zipfile(archive):
        archive.unlink(missing_ok=True)
        return [], [HistoryServerError("the answer is not a zip archive (a login page or a proxy error?)",
                                       remote, app_id)]
    local = str(archive)
    sources: list[LogSource] = []
    errors: list[HistoryServerError] = []
    for item in discover([local]):
        if isinstance(item, EventLogError):
            where = (item.source or local).replace(local, remote, 1)
            errors.append(HistoryServerError(item.message, where, app_id))
        else:
            sources.append(replace(item, display=item.display.replace(local, remote, 1)))
    if not sources and not errors:
        errors.append(HistoryServerError("the History Server sent no event log for this application",
                                         remote, app_id))
    return sources, errors
