"""Spark History Server connector: list applications over REST, download their event logs.

The flow, one step per module:

1. ``options.py`` - ``HistoryOptions``: timeouts, retries, TLS, auth headers, size cap.
2. ``client.py`` - ``HistoryClient``: GET with bounded retries and back-off (``retry.py``),
   auth headers kept on the server's origin, every error scrubbed of credentials
   (``errors.py``).
3. ``listing.py`` - ``list_history_applications``: ``/api/v1/applications`` (or one
   ``/applications/{id}`` per requested id) into ``HistoryApp`` records.
4. ``download.py`` - ``download_history_logs``: each app's ``/logs`` zip saved to a
   folder, then found by the event-log connector's ``discover()``, so the existing reader
   reads it in place, with the same figures as the same log read from disk.

Typical use (``fetch_history_logs`` does both steps in one call)::

    apps, errors = list_history_applications(url, since="2026-12-01", options=opts)
    with tempfile.TemporaryDirectory() as tmp:
        sources, failed = download_history_logs(url, apps, tmp, opts)
        results = [read_application(s) for s in sources]   # inside the with: reads the zips
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.spark_history.download import download_history_logs, fetch_history_logs
    from connectors.spark_history.errors import HistoryServerError
    from connectors.spark_history.listing import HistoryApp, HistoryAttempt, list_history_applications
    from connectors.spark_history.options import HistoryOptions, parse_header

# Loaded on first use (PEP 562): the HTTP client (http.client, ssl) only when a History Server is asked.
_WHERE = {
    "download_history_logs": "download", "fetch_history_logs": "download",
    "HistoryServerError": "errors",
    "HistoryApp": "listing", "HistoryAttempt": "listing", "list_history_applications": "listing",
    "HistoryOptions": "options", "parse_header": "options",
}

__all__ = [
    "HistoryApp",
    "HistoryAttempt",
    "HistoryOptions",
    "HistoryServerError",
    "download_history_logs",
    "fetch_history_logs",
    "list_history_applications",
    "parse_header",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
