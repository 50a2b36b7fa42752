"""Which applications a History Server has: ``GET /api/v1/applications`` and ``/applications/{id}``.

The filters map onto the History Server's own query parameters (see Spark's
``ApplicationListResource.scala``): ``since`` is ``minDate`` (an app is kept when *any*
attempt started at or after it), ``status`` is ``completed``/``running`` and ``limit``
keeps the N apps that ended most recently (the server's own order). Asking for explicit
application ids fetches each one directly, so an id the server does not know is one
error naming it, and the same filters are applied here with the server's semantics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from connectors.spark_history.errors import HistoryServerError
from connectors.spark_history.options import HistoryOptions

Since = dt.date | dt.datetime | str


@dataclass(frozen=True, slots=True)
class HistoryAttempt:
    """One attempt as the History Server lists it (times in epoch ms, None when unknown)."""

    attempt_id: str | None
    start_time_ms: int | None
    end_time_ms: int | None
    duration_ms: int | None
    completed: bool
    spark_user: str | None = None
    spark_version: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryApp:
    """One application the History Server knows, newest attempt first (the server's order)."""

    app_id: str
    name: str | None
    attempts: tuple[HistoryAttempt, ...] = ()

    @property
    def completed(self) -> bool:
        """The History Server's rule: an app is running while its newest attempt is."""
        return bool(self.attempts) and self.attempts[0].completed


def list_history_applications(
    url: str, *, since: Since | None = None, app_ids: Iterable[str] = (), limit: int | None = None,
    status: Literal["completed", "running"] | None = None, options: HistoryOptions | None = None,
) -> tuple[list[HistoryApp], list[HistoryServerError]]:
    """The applications of the History Server at ``url`` that pass the filters.

    Args:
        url: the History Server's UI or API root, e.g. ``http://shs:18080`` (``/api/v1``
            may be included; a ``?token=`` query is sent with every request).
        since: keep apps with an attempt started at or after this instant (a date means
            00:00 UTC; a naive datetime is UTC; a string is ISO 8601).
        app_ids: fetch exactly these applications instead of listing all of them.
        limit: at most this many apps (the most recently ended ones, or the first ids).
        status: only ``completed`` or only ``running`` apps.
        options: timeouts, retries, TLS, headers; defaults when None.

    Returns:
        (apps, errors): with ``app_ids``, one error per id that could not be fetched.

    Raises:
        HistoryServerError: the listing itself failed (server down, refused, not a History Server).
        ValueError: ``since`` or ``limit`` is not valid (a usage error, before any request).
    """
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    min_date, since_ms = parse_since(since)
    from connectors.spark_history.client import HistoryClient  # http.client, ssl: only to list

    client = HistoryClient(url, options or HistoryOptions())
    ids = list(dict.fromkeys(app_ids))
    if not ids:
        params = {"minDate": min_date} if min_date else {}
        if status:
            params["status"] = status
        if limit is not None:
            params["limit"] = str(limit)
        raw = client.get_json("applications", params)
        if not isinstance(raw, list):
            raise client.secrets.error("not a History Server application list", client.url("applications"))
        return [app for item in raw if isinstance(item, Mapping) and (app := _app(item))], []
    apps: list[HistoryApp] = []
    errors: list[HistoryServerError] = []
    for app_id in ids:
        try:
            raw = client.get_json(f"applications/{quote(app_id, safe='')}", app_id=app_id)
        except HistoryServerError as err:
            errors.append(err)
            continue
        app = _app(raw) if isinstance(raw, Mapping) else None
        if app is None:
            errors.append(client.secrets.error("not a History Server application",
                                               client.url(f"applications/{app_id}"), app_id))
        elif _keep(app, since_ms, status):
            apps.append(app)
    return apps[:limit] if limit is not None else apps, errors


def _keep(app: HistoryApp, since_ms: int | None, status: str | None) -> bool:
    """The History Server's own filter, for apps fetched one by one."""
    if status is not None and app.completed != (status == "completed"):
        return False
    return since_ms is None or any((a.start_time_ms or 0) >= since_ms for a in app.attempts)


def parse_since(since: Since | None) -> tuple[str | None, int | None]:
    """(``minDate`` as the History Server parses it, the same instant in epoch ms)."""
    if since is None:
        return None, None
    if isinstance(since, str):
        try:
            since = (dt.date.fromisoformat(since) if len(since.strip()) == 10
                     else dt.datetime.fromisoformat(since.strip()))
        except ValueError:
            raise ValueError(f"not an ISO date or date-time: {since!r}") from None
    if not isinstance(since, dt.datetime):  # a date: the History Server reads yyyy-MM-dd as GMT
        start = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
        return since.isoformat(), int(start.timestamp() * 1000)
    moment = (since if since.tzinfo else since.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}GMT"
    return text, int(moment.timestamp() * 1000)


def _app(raw: Mapping[str, Any]) -> HistoryApp | None:
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        return None
    attempts = tuple(_attempt(a) for a in raw.get("attempts") or () if isinstance(a, Mapping))
    return HistoryApp(app_id=raw["id"], name=raw.get("name"), attempts=attempts)


def _attempt(raw: Mapping[str, Any]) -> HistoryAttempt:
    def epoch(key: str) -> int | None:
        value = raw.get(key)
        return value if isinstance(value, int) and value >= 0 else None  # running: endTimeEpoch -1

    completed = bool(raw.get("completed"))
    return HistoryAttempt(
        attempt_id=raw.get("attemptId"), start_time_ms=epoch("startTimeEpoch"),
        end_time_ms=epoch("endTimeEpoch") if completed else None,
        duration_ms=raw.get("duration") if completed else None, completed=completed,
        spark_user=raw.get("sparkUser") or None, spark_version=raw.get("appSparkVersion") or None,
    )
