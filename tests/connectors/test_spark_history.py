"""The History Server connector against Spark's real History Server and a scripted fake one.

The real server (marked ``spark``) is the oracle for the REST contract: listing filters,
the zips ``/logs`` answers, and figures equal to reading the same log from disk. The fake
one (``http.server`` on 127.0.0.1) scripts what a real one only does under load or behind
a proxy: 429/5xx, slow answers, redirects, oversized answers, echoed credentials.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from history_server import HistoryServer

from connectors.spark_eventlog.discovery import LogSource, discover
from connectors.spark_eventlog.reader import read_application
from connectors.spark_history import (
    HistoryOptions,
    HistoryServerError,
    download_history_logs,
    fetch_history_logs,
    list_history_applications,
    parse_header,
)
from connectors.spark_history import retry as retry_module

DATA = Path(__file__).resolve().parents[1] / "data"
ZSTD_LOG = DATA / "generated" / "zstd" / "local-1795877657976.zstd"
PLAIN_LOG = DATA / "spark-events" / "apache-spark" / "spark-events" / "local-1430917381534"
FAST = HistoryOptions(retries=2, backoff_base_s=0.01, backoff_max_s=0.05,
                      connect_timeout_s=2, read_timeout_s=2)
SECRET = "s3cr3t-bearer-value"


# --- a scripted fake History Server -------------------------------------------------------

@dataclass
class Reply:
    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_length: bool = True


class FakeServer:
    """Answers each path with its scripted replies in turn (the last one repeats)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake.requests.append((self.path, dict(self.headers)))
                replies = fake.routes.get(urlsplit(self.path).path) or [Reply(404, b"unknown app")]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.content_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if urlsplit(p).path == path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner's HTTP proxy must not stand between the client and 127.0.0.1."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


def app_json(app_id: str, start_ms: int = 1_795_877_656_833, completed: bool = True) -> dict:
    return {"id": app_id, "name": f"name of {app_id}", "attempts": [
        {"startTimeEpoch": start_ms, "endTimeEpoch": start_ms + 1000 if completed else -1,
         "duration": 1000 if completed else 0, "completed": completed, "sparkUser": "etl",
         "appSparkVersion": "4.3.0"}]}


def json_reply(obj: object) -> Reply:
    return Reply(200, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def zip_of(*logs: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for log in logs:
            zf.write(log, log.name)
    return buffer.getvalue()


def local_app(path: Path) -> object:
    sources = [s for s in discover([str(path)]) if isinstance(s, LogSource)]
    assert len(sources) == 1
    return read_application(sources[0])


def same_figures(remote: LogSource, local_path: Path) -> None:
    """Everything the reader builds is equal, apart from where the log came from."""
    expected = local_app(local_path)
    got = read_application(remote)
    assert got.stages == expected.stages
    assert dataclasses.replace(got, source=expected.source) == expected


# --- retries, back-off and timeouts ---------------------------------------------------------

def test_429_with_retry_after_is_honoured_then_succeeds(fake: FakeServer, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(retry_module, "sleep", waits.append)
    fake.route("/api/v1/applications", Reply(429, b"slow down", {"Retry-After": "3"}),
               json_reply([app_json("app-1")]))
    apps, errors = list_history_applications(fake.url, options=FAST)
    assert [a.app_id for a in apps] == ["app-1"] and errors == []
    assert len(waits) == 1 and waits[0] >= 3.0  # the server's 3 s, not the 0.01 s back-off


def test_503_twice_then_success(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(503, b"busy"), Reply(503, b"busy"),
               json_reply([app_json("app-1")]))
    apps, _ = list_history_applications(fake.url, options=FAST)
    assert [a.app_id for a in apps] == ["app-1"]
    assert fake.hits("/api/v1/applications") == 3


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_answer_cut_off_mid_download_is_retried(fake: FakeServer, tmp_path: Path, framing: str) -> None:
    body = zip_of(ZSTD_LOG)
    if framing == "chunked":  # as the History Server streams zips; the last chunks never come
        cut = Reply(200, b"64\r\n" + body[:100] + b"\r\n", {"Transfer-Encoding": "chunked"},
                    content_length=False)
    else:
        cut = Reply(200, body[:100], {"Content-Length": str(len(body))}, content_length=False)
    fake.route("/api/v1/applications/app-1/logs", cut, Reply(200, body))
    sources, errors = download_history_logs(fake.url, ["app-1"], tmp_path, FAST)
    assert errors == [] and len(sources) == 1
    assert fake.hits("/api/v1/applications/app-1/logs") == 2
    same_figures(sources[0], ZSTD_LOG)


def test_500_forever_is_one_clear_error_after_bounded_retries(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(500, b"<html><body>boom</body></html>"))
    with pytest.raises(HistoryServerError) as caught:
        list_history_applications(fake.url, options=FAST)
    assert fake.hits("/api/v1/applications") == FAST.retries + 1
    assert str(caught.value) == (f"{fake.url}/api/v1/applications: HTTP 500 Internal Server Error: boom "
                                 "(after 3 attempts)")


def test_retry_after_beyond_the_allowed_wait_is_an_error_not_a_hang(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(429, b"", {"Retry-After": "3600"}))
    with pytest.raises(HistoryServerError, match="retry after 3600 s, more than the 120 s allowed"):
        list_history_applications(fake.url, options=FAST)
    assert fake.hits("/api/v1/applications") == 1


def test_4xx_is_not_retried(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(403, b"forbidden"))
    with pytest.raises(HistoryServerError, match="HTTP 403 Forbidden: forbidden$"):
        list_history_applications(fake.url, options=FAST)
    assert fake.hits("/api/v1/applications") == 1


def test_slow_answer_times_out(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(200, b"[]", delay_s=1.5))
    options = dataclasses.replace(FAST, read_timeout_s=0.2, retries=1)
    started = time.monotonic()
    with pytest.raises(HistoryServerError, match="timed out \\(after 2 attempts\\)"):
        list_history_applications(fake.url, options=options)
    assert time.monotonic() - started < 1.4  # two 0.2 s timeouts, not the 1.5 s answer


def test_refused_connection_is_retried_then_named(fake: FakeServer) -> None:
    url = fake.url
    fake.close()
    with pytest.raises(HistoryServerError, match="cannot connect: Connection refused \\(after 3 attempts\\)"):
        list_history_applications(url, options=FAST)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert retry_module.backoff_delay(0, 1, 30, rng=lambda: 0) == 0.5
    assert retry_module.backoff_delay(3, 1, 30, rng=lambda: 1) == 8
    assert retry_module.backoff_delay(10, 1, 30, rng=lambda: 1) == 30
    assert retry_module.retry_after_s("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10


# --- downloads ---------------------------------------------------------------------------------

def test_one_unknown_app_is_one_error_and_the_others_download(fake: FakeServer, tmp_path: Path) -> None:
    fake.route("/api/v1/applications/app-zstd/logs", Reply(200, zip_of(ZSTD_LOG)))
    fake.route("/api/v1/applications/app-plain/logs", Reply(200, zip_of(PLAIN_LOG)))
    fake.route("/api/v1/applications/gone/logs", Reply(404, b"no such app: gone"))
    sources, errors = download_history_logs(fake.url, ["app-zstd", "gone", "app-plain"], tmp_path, FAST)
    assert [str(e) for e in errors] == [
        f"{fake.url}/api/v1/applications/gone/logs: HTTP 404 Not Found: no such app: gone"]
    assert errors[0].app_id == "gone"
    assert [s.display for s in sources] == [
        f"{fake.url}/api/v1/applications/app-zstd/logs!/{ZSTD_LOG.name}",
        f"{fake.url}/api/v1/applications/app-plain/logs!/{PLAIN_LOG.name}"]
    same_figures(sources[0], ZSTD_LOG)
    same_figures(sources[1], PLAIN_LOG)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eventLogs-app-plain.zip", "eventLogs-app-zstd.zip"]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_oversized_download_is_capped(fake: FakeServer, tmp_path: Path, declared: bool) -> None:
    body = zip_of(ZSTD_LOG)
    fake.route("/api/v1/applications/big/logs", Reply(200, body, content_length=declared))
    options = dataclasses.replace(FAST, max_download_bytes=len(body) // 2)
    sources, errors = download_history_logs(fake.url, ["big"], tmp_path, options)
    assert sources == [] and len(errors) == 1
    assert "-byte limit (max_download_bytes)" in errors[0].message
    assert fake.hits("/api/v1/applications/big/logs") == 1  # not retried
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_a_login_page_instead_of_a_zip_is_a_named_error(fake: FakeServer, tmp_path: Path) -> None:
    fake.route("/api/v1/applications/app-1/logs", Reply(200, b"<html>Please log in</html>"))
    fake.route("/api/v1/applications", Reply(200, b"<html>Please log in</html>",
                                              {"Content-Type": "text/html"}))
    _, errors = download_history_logs(fake.url, ["app-1"], tmp_path, FAST)
    assert [e.message for e in errors] == ["the answer is not a zip archive (a login page or a proxy error?)"]
    with pytest.raises(HistoryServerError, match="expected JSON, got text/html"):
        list_history_applications(fake.url, options=FAST)


def test_fetch_lists_then_downloads_and_a_dead_server_is_one_error(fake: FakeServer, tmp_path: Path) -> None:
    fake.route("/api/v1/applications", json_reply([app_json("app-zstd"), app_json("gone")]))
    fake.route("/api/v1/applications/app-zstd/logs", Reply(200, zip_of(ZSTD_LOG)))
    sources, errors = fetch_history_logs(fake.url, tmp_path, since="2026-11-01", options=FAST)
    assert [s.display.rsplit("/", 1)[1] for s in sources] == [ZSTD_LOG.name]
    assert [e.app_id for e in errors] == ["gone"]
    url = fake.url
    fake.close()
    sources, errors = fetch_history_logs(url, tmp_path, options=dataclasses.replace(FAST, retries=0))
    assert sources == [] and [str(e) for e in errors] == [
        f"{url}/api/v1/applications: cannot connect: Connection refused"]


# --- credentials never leak ----------------------------------------------------------------------

def test_auth_header_is_sent_and_never_in_error_text(fake: FakeServer, tmp_path: Path) -> None:
    echo = f"denied for Authorization: Bearer {SECRET}".encode()
    fake.route("/api/v1/applications", Reply(500, echo))
    fake.route("/api/v1/applications/app-1/logs", Reply(401, echo))
    options = dataclasses.replace(FAST, headers={"Authorization": f"Bearer {SECRET}"})
    with pytest.raises(HistoryServerError) as caught:
        list_history_applications(fake.url, options=options)
    _, errors = download_history_logs(fake.url, ["app-1"], tmp_path, options)
    texts = [str(caught.value), repr(caught.value), *map(str, errors), repr(options)]
    assert all(SECRET not in t for t in texts), texts
    assert "denied for Authorization: ***" in str(caught.value)
    assert {h.get("Authorization") for _, h in fake.requests} == {f"Bearer {SECRET}"}


def test_url_credentials_and_query_are_redacted(fake: FakeServer) -> None:
    fake.route("/shs/api/v1/applications", Reply(502, b"upstream said token=t0ken-value"))
    url = fake.url.replace("http://", "http://alice:pa55word@") + "/shs/?token=t0ken-value"
    with pytest.raises(HistoryServerError) as caught:
        list_history_applications(url, options=FAST)
    text = str(caught.value)
    assert "pa55word" not in text and "t0ken-value" not in text and "alice" not in text
    assert text.startswith(f"{fake.url}/shs/api/v1/applications?")  # user-info gone, query masked
    path, headers = fake.requests[0]
    assert parse_qs(urlsplit(path).query) == {"token": ["t0ken-value"]}  # the query is still sent
    assert headers["Authorization"] == "Basic YWxpY2U6cGE1NXdvcmQ="  # user-info becomes Basic auth


def test_auth_headers_stay_on_the_server_origin_across_redirects(fake: FakeServer) -> None:
    other = FakeServer()  # another port: another origin
    try:
        other.route("/api/v1/applications", json_reply([app_json("app-1")]))
        fake.route("/api/v1/applications", Reply(302, b"", {"Location": f"{other.url}/api/v1/applications"}))
        options = dataclasses.replace(FAST, headers={"Authorization": f"Bearer {SECRET}", "X-Api-Key": "k"})
        apps, _ = list_history_applications(fake.url, options=options)
        assert [a.app_id for a in apps] == ["app-1"]
        assert fake.requests[0][1]["Authorization"] == f"Bearer {SECRET}"
        assert "Authorization" not in other.requests[0][1] and "X-Api-Key" not in other.requests[0][1]
        fake.route("/old/api/v1/applications", Reply(301, b"", {"Location": "/api/v1/applications"}))
        list_history_applications(fake.url + "/old", options=options)  # same origin: headers kept
        assert [h.get("X-Api-Key") for p, h in fake.requests if "old" in p] == ["k"]
        assert other.requests[-1][1].get("Authorization") is None
        assert fake.requests[-1][1]["X-Api-Key"] == "k"
    finally:
        other.close()


def test_options_validation_never_echoes_header_values() -> None:
    assert parse_header("Authorization: Bearer abc") == ("Authorization", "Bearer abc")
    with pytest.raises(ValueError) as caught:
        parse_header("Bearer abc")
    assert "abc" not in str(caught.value).replace("<token>", "")
    with pytest.raises(ValueError, match="line break") as caught:
        HistoryOptions(headers={"X-Token": "abc\r\nInjected: 1"})
    assert "Injected" not in str(caught.value)
    with pytest.raises(HistoryServerError, match="must start with http"):
        list_history_applications("file:///etc/passwd")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a test History Server behind TLS would have."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_tls_is_verified_against_a_ca_bundle_or_deliberately_not(certificate: tuple[Path, Path],
                                                                 monkeypatch, tmp_path: Path) -> None:
    waits: list[float] = []
    monkeypatch.setattr(retry_module, "sleep", waits.append)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = FakeServer(tls=context)
    try:
        server.route("/api/v1/applications", json_reply([app_json("app-1")]))
        with pytest.raises(HistoryServerError, match="TLS certificate not trusted: self.signed certificate"):
            list_history_applications(server.url, options=FAST)
        assert waits == []  # a certificate problem is not retried
        for options in (dataclasses.replace(FAST, ca_bundle=str(certificate[0])),
                        dataclasses.replace(FAST, verify_tls=False)):
            apps, _ = list_history_applications(server.url, options=options)
            assert [a.app_id for a in apps] == ["app-1"]
        with pytest.raises(HistoryServerError, match="cannot load the CA bundle: No such file"):
            list_history_applications(server.url, options=dataclasses.replace(
                FAST, ca_bundle=str(tmp_path / "missing.pem")))
    finally:
        server.close()


# --- listing filters as parameters --------------------------------------------------------------

def test_filters_become_the_history_servers_query_parameters(fake: FakeServer) -> None:
    fake.route("/api/v1/applications", Reply(200, b"[]"))
    list_history_applications(fake.url, since=dt.date(2026, 12, 1), limit=5, status="completed", options=FAST)
    list_history_applications(fake.url + "/api/v1/", since=dt.datetime(2026, 12, 1, 8, 30, 0, 250_000,
                              tzinfo=dt.timezone(dt.timedelta(hours=1))), options=FAST)
    queries = [parse_qs(urlsplit(p).query) for p, _ in fake.requests]
    assert queries == [{"minDate": ["2026-12-01"], "limit": ["5"], "status": ["completed"]},
                       {"minDate": ["2026-12-01T07:30:00.250GMT"]}]
    with pytest.raises(ValueError, match="not an ISO date"):
        list_history_applications(fake.url, since="last week")


def test_app_ids_are_fetched_one_by_one_and_filtered_like_the_server(fake: FakeServer) -> None:
    fake.route("/api/v1/applications/old", json_reply(app_json("old", 1_430_917_380_893)))
    fake.route("/api/v1/applications/new", json_reply(app_json("new")))
    fake.route("/api/v1/applications/live", json_reply(app_json("live", completed=False)))
    apps, errors = list_history_applications(fake.url, app_ids=["old", "new", "typo", "live"],
                                             since="2026-01-01", status="completed", options=FAST)
    assert [a.app_id for a in apps] == ["new"]
    assert apps[0].attempts[0].end_time_ms == 1_795_877_657_833
    assert [(e.app_id, e.message) for e in errors] == [("typo", "HTTP 404 Not Found: unknown app")]


# --- the real History Server ---------------------------------------------------------------------

@pytest.mark.spark
def test_real_history_server_lists_every_app(history_server: HistoryServer) -> None:
    apps, errors = list_history_applications(history_server.url, options=FAST)
    assert errors == [] and {a.app_id for a in apps} == set(history_server.apps)
    by_id = {a.app_id: a for a in apps}
    yarn = by_id["application_1713000000000_0001"]
    assert [a.attempt_id for a in yarn.attempts] == ["2", "1"] and yarn.completed
    assert yarn.attempts[1].end_time_ms is None  # the unfinished first attempt
    assert by_id["local-1430917381534"].attempts[0].start_time_ms == 1430917380893


@pytest.mark.spark
def test_real_history_server_filters(history_server: HistoryServer) -> None:
    url = history_server.url
    recent, _ = list_history_applications(url, since="2026-11-01", options=FAST)
    assert {a.app_id for a in recent} == {"local-1795877657976", "local-1795877684997", "local-1795877831611"}
    after_zstd_start = dt.datetime.fromtimestamp(1795877656.834, dt.UTC)
    later, _ = list_history_applications(url, since=after_zstd_start, options=FAST)
    assert {a.app_id for a in later} == {"local-1795877684997", "local-1795877831611"}
    everything, _ = list_history_applications(url, options=FAST)
    first_two, _ = list_history_applications(url, limit=2, options=FAST)
    assert first_two == everything[:2]
    picked, errors = list_history_applications(url, app_ids=["local-1795877831611", "nope"], options=FAST)
    assert [a.app_id for a in picked] == ["local-1795877831611"]
    assert [(e.app_id, e.message) for e in errors] == [("nope", "HTTP 404 Not Found: unknown app: nope")]


@pytest.mark.spark
def test_real_history_server_downloads_read_like_local_files(history_server: HistoryServer,
                                                             tmp_path: Path) -> None:
    apps, _ = list_history_applications(history_server.url, options=FAST)
    sources, errors = download_history_logs(history_server.url, [*apps, "nope"], tmp_path, FAST)
    assert [(e.app_id, e.message) for e in errors] == [("nope", "HTTP 404 Not Found: no such app: nope/1")]
    local = {p.name: p for paths in history_server.apps.values() for p in paths}
    members = {}
    for source in sources:
        member = source.display.rsplit("!/", 1)[1]
        members[member.split("/", 1)[0]] = source
    assert set(members) == set(local)  # every attempt's log, rolling folders as one log
    for name, source in members.items():
        same_figures(source, local[name])


@pytest.mark.spark
def test_downloaded_logs_match_the_live_history_servers_own_figures(history_server: HistoryServer,
                                                                    tmp_path: Path) -> None:
    """test_shs_parity.py's oracle, asked live: stages and task quantiles as the server has them."""
    from shs_oracle import SUMMARY_FIELDS, compare

    def get(path: str) -> Any:
        url = f"{history_server.url}/api/v1/applications/{path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as err:  # a stage without tasks has no taskSummary
            assert err.code == 404 and "taskSummary" in path, (path, err)
            return None

    sources, errors = download_history_logs(history_server.url, list(history_server.apps), tmp_path, FAST)
    assert errors == []
    checked = 0
    for source in sources:
        app = read_application(source)
        base = f"{app.app_id}/{app.attempt_id}" if app.attempt_id else app.app_id
        stages = get(f"{base}/stages")
        summaries = {}
        for s in stages:
            key = f"{s['stageId']}/{s['attemptId']}"
            raw = get(f"{base}/stages/{key}/taskSummary?quantiles=0,0.25,0.5,0.75,1")
            if raw is not None:
                summaries[key.replace("/", ".")] = {".".join(k): _dig(raw, k) for k in SUMMARY_FIELDS}
        answer = {"application": get(app.app_id), "stages": stages, "task_summaries": summaries}
        assert compare(app, answer) == [], source.display
        checked += len(stages)
    assert checked > 20


def _dig(raw: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        raw = raw.get(key) if isinstance(raw, dict) else None
    return raw
