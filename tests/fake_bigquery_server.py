"""A small fake of the BigQuery REST API (v2) for the real google-cloud-bigquery client.

It answers what the client sends for a query (shared/reference/warehouse.md §4):

- ``POST /bigquery/v2/projects/{p}/queries``         jobs.query (``client.query_and_wait``)
- ``GET  /bigquery/v2/projects/{p}/queries/{job}``   jobs.getQueryResults (further pages, via pageToken)
- ``POST /bigquery/v2/projects/{p}/jobs``            jobs.insert (``client.query``)
- ``GET  /bigquery/v2/projects/{p}/jobs/{job}``      jobs.get

A query is served from a registered INFORMATION_SCHEMA view: the select list is
projected (``a.b.c AS x`` paths) and ``col >= @param`` / ``NOT col`` conditions are
applied, so a test sees a wrong column, a missing filter or a bad window. Views can be
registered pre-aggregated (GROUP BY queries: rows served as given) or as failing
(an HTTP error such as 403). Every request is recorded for assertions. Values are
encoded the way the service does: strings, TIMESTAMP as int64 microseconds when the
client asks for ``formatOptions.useInt64Timestamp``, RECORD as ``{"f": [...]}`` and
REPEATED as ``[{"v": ...}]``. Bound to 127.0.0.1 on a free port; no network beyond it.

Bad days of the service: ``busy`` holds HTTP statuses (429, 503, ...) answered, one per
request, before the requests are served again; ``delay_s`` makes every answer that slow.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_QUERIES = re.compile(r"^/bigquery/v2/projects/([^/]+)/queries(?:/([^/]+))?$")
_JOBS = re.compile(r"^/bigquery/v2/projects/([^/]+)/jobs(?:/([^/]+))?$")
_VIEW = re.compile(r"INFORMATION_SCHEMA\.(\w+)", re.I)
_COMPARISON = re.compile(r"\b(\w+)\s*(>=|<=|<|>|=)\s*@(\w+)")
_NEGATION = re.compile(r"\bWHERE\s+NOT\s+(\w+)|\bAND\s+NOT\s+(\w+)", re.I)


@dataclass
class View:
    """Rows of one INFORMATION_SCHEMA view, with its BigQuery schema (``bq show --schema``)."""

    schema: list[dict]
    rows: list[dict]
    aggregated: bool = False  # serve rows as they are (the test registers the GROUP BY result)
    error: tuple[int, str, str] | None = None  # (HTTP status, reason, message)


@dataclass
class Request:
    """One recorded HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: dict


@dataclass
class _Result:
    job_id: str
    project: str
    location: str
    sql: str
    schema: list[dict]
    rows: list[list[Any]]
    int64_timestamps: bool = True


@dataclass
class FakeBigQuery:
    """The server's state: registered views, recorded requests, finished query results."""

    views: dict[str, View] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    page_size: int = 10
    results: dict[str, _Result] = field(default_factory=dict)
    busy: list[int] = field(default_factory=list)  # statuses answered to the next requests, in order
    delay_s: float = 0.0  # every answer waits this long (a slow service)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def sql(self) -> list[str]:
        """The SQL texts received, in order."""
        out = []
        for r in self.requests:
            if r.method == "POST":
                out.append(
                    r.body.get("query") or r.body.get("configuration", {}).get("query", {}).get("query")
                )
        return [s for s in out if s]

    def parameters(self, index: int = -1) -> dict[str, str]:
        """Named query parameters (name → value text) of the ``index``-th query received."""
        posts = [r for r in self.requests if r.method == "POST"]
        body = posts[index].body
        params = body.get("queryParameters") or body.get("configuration", {}).get("query", {}).get(
            "queryParameters"
        )
        return {p["name"]: p["parameterValue"]["value"] for p in params or []}

    # --- query execution -------------------------------------------------------------------

    def run(self, project: str, sql: str, params: dict[str, str], location: str, int64_ts: bool) -> _Result:
        match = _VIEW.search(sql)
        if not match or match.group(1).upper() not in self.views:
            raise _HttpError(404, "notFound", f"Not found: Table {match.group(1) if match else sql[:40]}")
        view = self.views[match.group(1).upper()]
        if view.error:
            raise _HttpError(*view.error)
        if view.aggregated:
            schema, rows = view.schema, [[r.get(f["name"]) for f in view.schema] for r in view.rows]
        else:
            schema, rows = _project(sql, view, [r for r in view.rows if _matches(sql, r, params)])
        job_id = f"fake_job_{next(self._ids)}"
        self.results[job_id] = _Result(job_id, project, location, sql, schema, rows, int64_ts)
        return self.results[job_id]


class _HttpError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def _select_items(sql: str) -> list[tuple[str, str]]:
    """(path, output name) of each item of the select list."""
    listing = re.search(r"SELECT\s+(.*?)\s+FROM\s", sql, re.S | re.I)
    items = []
    for item in (listing.group(1) if listing else "").split(","):
        parts = re.split(r"\s+AS\s+", item.strip(), flags=re.I)
        path = parts[0].strip()
        items.append((path, parts[1].strip() if len(parts) > 1 else path.split(".")[-1]))
    return items


def _field(schema: list[dict], path: str) -> dict:
    fields, found = schema, None
    for name in path.split("."):
        found = next((f for f in fields if f["name"] == name), None)
        if found is None:
            raise _HttpError(400, "invalidQuery", f"Unrecognized name: {path}")
        fields = found.get("fields", [])
    return found  # type: ignore[return-value]


def _value(row: dict, path: str) -> Any:
    value: Any = row
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _project(sql: str, view: View, rows: list[dict]) -> tuple[list[dict], list[list[Any]]]:
    items = _select_items(sql)
    schema = [{**_field(view.schema, path), "name": name} for path, name in items]
    return schema, [[_value(r, path) for path, _ in items] for r in rows]


def _as_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace(" UTC", "+00:00"))


def _matches(sql: str, row: dict, params: dict[str, str]) -> bool:
    """Apply ``col <op> @param`` (timestamps compared as instants) and ``NOT col`` conditions."""
    checks = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "=": lambda a, b: a == b,
    }
    for column, op, name in _COMPARISON.findall(sql):
        if name not in params:
            raise _HttpError(400, "invalidQuery", f"Query parameter '{name}' not found")
        value = row.get(column)
        if value is None or not checks[op](_as_time(value), _as_time(params[name])):
            return False
    return all(not row.get(first or second) for first, second in _NEGATION.findall(sql))


def _encode(value: Any, schema_field: dict, int64_ts: bool) -> Any:
    if value is None:
        return None
    if schema_field.get("mode") == "REPEATED":
        single = {**schema_field, "mode": "NULLABLE"}
        return [{"v": _encode(v, single, int64_ts)} for v in value]
    kind = schema_field["type"]
    if kind in ("RECORD", "STRUCT"):
        return {"f": [{"v": _encode(value.get(f["name"]), f, int64_ts)} for f in schema_field["fields"]]}
    if kind == "TIMESTAMP":
        t = _as_time(value)
        micros = (t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
        return str(micros) if int64_ts else repr(micros / 1e6)
    if kind == "BOOLEAN":
        return "true" if value in (True, "true") else "false"
    return str(value)


def _rows_json(result: _Result, start: int, count: int) -> list[dict]:
    page = result.rows[start : start + count]
    return [
        {"f": [{"v": _encode(v, f, result.int64_timestamps)} for v, f in zip(r, result.schema, strict=True)]}
        for r in page
    ]


def _page(fake: FakeBigQuery, result: _Result, token: str | None, max_results: int | None) -> dict:
    start = int(token) if token else 0
    count = min(max_results or fake.page_size, fake.page_size)
    body: dict[str, Any] = {
        "jobReference": {"projectId": result.project, "jobId": result.job_id, "location": result.location},
        "schema": {"fields": result.schema},
        "rows": _rows_json(result, start, count),
        "totalRows": str(len(result.rows)),
        "jobComplete": True,
        "cacheHit": False,
        "totalBytesProcessed": "0",
    }
    if start + count < len(result.rows):
        body["pageToken"] = str(start + count)
    return body


def _job_resource(project: str, result: _Result) -> dict:
    now = str(int(dt.datetime.now(dt.UTC).timestamp() * 1000))
    return {
        "kind": "bigquery#job",
        "id": f"{project}:{result.location}.{result.job_id}",
        "jobReference": {"projectId": project, "jobId": result.job_id, "location": result.location},
        "configuration": {"jobType": "QUERY", "query": {"query": result.sql, "useLegacySql": False}},
        "status": {"state": "DONE"},
        "statistics": {
            "creationTime": now,
            "startTime": now,
            "endTime": now,
            "query": {"totalBytesProcessed": "0", "cacheHit": False, "statementType": "SELECT"},
        },
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBigQuery  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output clean
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        query = parse_qs(url.query)
        self.fake.requests.append(Request(method, url.path, query, body))
        if self.fake.delay_s:
            time.sleep(self.fake.delay_s)
        if self.fake.busy:
            status = self.fake.busy.pop(0)
            reason = "rateLimitExceeded" if status == 429 else "backendError"
            error = {"code": status, "message": f"busy ({status})", "errors": [{"reason": reason}]}
            self._reply(status, {"error": error})
            return
        try:
            self._reply(200, self._route(method, url.path, query, body))
        except _HttpError as exc:
            error = {
                "code": exc.status,
                "message": exc.message,
                "errors": [{"reason": exc.reason, "message": exc.message}],
            }
            self._reply(exc.status, {"error": error})

    def _route(self, method: str, path: str, query: dict, body: dict) -> dict:
        first = lambda name: (query.get(name) or [None])[0]  # noqa: E731
        if m := _QUERIES.match(path):
            if method == "POST" and not m.group(2):  # jobs.query
                int64 = body.get("formatOptions", {}).get("useInt64Timestamp", False)
                result = self.fake.run(
                    m.group(1), body["query"], _params(body), body.get("location") or "US", int64
                )
                return {
                    "kind": "bigquery#queryResponse",
                    **_page(self.fake, result, None, body.get("maxResults")),
                }
            if method == "GET" and m.group(2) in self.fake.results:  # jobs.getQueryResults
                result = self.fake.results[m.group(2)]
                result.int64_timestamps = first("formatOptions.useInt64Timestamp") in ("True", "true")
                size = int(first("maxResults")) if first("maxResults") else None
                page = _page(self.fake, result, first("pageToken"), size)
                return {"kind": "bigquery#getQueryResultsResponse", **page}
        if m := _JOBS.match(path):
            if method == "POST" and not m.group(2):  # jobs.insert
                config = body["configuration"]["query"]
                location = body.get("jobReference", {}).get("location") or "US"
                result = self.fake.run(m.group(1), config["query"], _params(config), location, True)
                return _job_resource(m.group(1), result)
            if method == "GET" and m.group(2) in self.fake.results:  # jobs.get
                return _job_resource(m.group(1), self.fake.results[m.group(2)])
        raise _HttpError(404, "notFound", f"Not found: {method} {path}")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")


def _params(body: dict) -> dict[str, str]:
    return {p["name"]: p["parameterValue"]["value"] for p in body.get("queryParameters") or []}


class FakeBigQueryServer:
    """Context manager: ``with FakeBigQueryServer() as server: server.url, server.fake``."""

    def __init__(self) -> None:
        self.fake = FakeBigQuery()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeBigQueryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
