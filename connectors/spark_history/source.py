"""Spark's History Server as a source: its REST API lists runs, their logs are downloaded and read.

Every figure equals a local read of the same log: the downloaded zip is read in place by
the event-log connector. Settings that do not parse (a bad header, ``--since`` or a
negative timeout) are ``SourceSettingsError``s, checked before anything is fetched.
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.core.errors import SourceSettingsError
from analyzer.core.model import InputError
from analyzer.core.sources import Settings, SourceOption, SparkSource
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_history.listing import parse_since
from connectors.spark_history.options import HistoryOptions, parse_header


def history_options(s: Settings) -> HistoryOptions:
    """The connection settings from a source's settings; a bad value is a ``SourceSettingsError``."""
    try:
        headers = dict(parse_header(str(h)) for h in _strings(s.get("header")))
        timeout = float(s.get("timeout") or 60.0)  # type: ignore[arg-type]
        return HistoryOptions(headers=headers, connect_timeout_s=min(timeout, 10.0), read_timeout_s=timeout,
                              retries=int(s.get("retries") if s.get("retries") is not None else 3),  # type: ignore[call-overload]
                              verify_tls=not s.get("no_verify"),
                              ca_bundle=str(s["ca_bundle"]) if s.get("ca_bundle") else None)
    except ValueError as err:
        raise SourceSettingsError(str(err)) from None


def _strings(value: object) -> Sequence[str]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _check(s: Settings) -> None:
    if not s.get("url"):
        raise SourceSettingsError("url: give the History Server's address, e.g. http://history:18080")
    history_options(s)
    try:
        parse_since(s.get("since"))  # type: ignore[arg-type]
    except ValueError as err:
        raise SourceSettingsError(f"since: {err}") from None


def _find(s: Settings, scratch: str) -> tuple[list[LogSource], list[InputError]]:
    try:
        from connectors.spark_history.download import fetch_history_logs  # http.client, ssl: only to fetch

        sources, errors = fetch_history_logs(
            str(s["url"]), scratch, since=s.get("since"), app_ids=_strings(s.get("app_id")),  # type: ignore[arg-type]
            limit=s.get("limit"), options=history_options(s))  # type: ignore[arg-type]
    except ValueError as err:  # a --since or --limit the listing cannot use
        raise SourceSettingsError(str(err)) from None
    return sources, [InputError(source=e.source or str(s["url"]), message=e.message) for e in errors]


SOURCE = SparkSource(
    name="spark-history",
    audit_table="spark_history",
    help="Analyse the runs a Spark History Server lists: each run's event log is downloaded "
         "through its REST API and read like a local log.",
    options=(
        SourceOption("url", "History Server address, e.g. http://history:18080.", argument=True),
        SourceOption("since", "Only runs started on or after this date (YYYY-MM-DD or ISO time, UTC)."),
        SourceOption("app_id", "Only this application id (repeatable).", type="strs"),
        SourceOption("limit", "At most this many runs, the most recently ended first.", type="int",
                     minimum=1),
        SourceOption("header", "Extra request header 'Name: value', e.g. an Authorization token "
                               "(repeatable; never printed).", type="strs"),
        SourceOption("no_verify", "Do not check the server's TLS certificate.", type="bool"),
        SourceOption("ca_bundle", "PEM file of CA certificates to trust.", type="path"),
        SourceOption("timeout", "Seconds to wait for each answer.", type="float", default=60.0, minimum=0.1,
                     show_default=True),
        SourceOption("retries", "Retries on connection errors, 429 and 5xx (with back-off).", type="int",
                     default=3, minimum=0, show_default=True),
    ),
    find=_find,
    check=_check,
)
