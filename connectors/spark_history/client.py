"""A small, careful HTTP client for the History Server's REST API, on ``urllib.request``.

Why the standard library and not fsspec's HTTP file system: fsspec's HTTP needs aiohttp
(an extra dependency and an event loop), hides status codes and ``Retry-After`` behind
its own retry logic, and forwards the same headers to any host a redirect points at.
Here every knob the History Server needs is a few lines of plain code: separate connect
and read timeouts (the read timeout is set on the socket once it is connected), bounded
retries with back-off (``retry.py``), TLS verification or a CA bundle, auth headers that
stay on the server's own origin, a cap on the answer size, and errors that never show a
credential (``errors.py``).
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import os
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from connectors.spark_history import retry
from connectors.spark_history.errors import HistoryServerError, Secrets, redact_url
from connectors.spark_history.options import HistoryOptions

T = TypeVar("T")
_CHUNK = 1 << 20
_TAGS = re.compile(r"<[^>]*>")


class _Fatal(Exception):
    """A failure that another attempt cannot fix (answer too large, not JSON, local disk)."""


class HistoryClient:
    """GET requests against one History Server, with retries, limits and redaction."""

    def __init__(self, url: str, options: HistoryOptions) -> None:
        self.options = options
        self.base, self._query, auth, url_secrets = _split_base_url(url)
        self._headers = {**auth, **options.headers}  # an explicit header wins over URL user-info
        self.secrets = Secrets([*self._headers.values(), *url_secrets])
        try:
            self._opener = _opener(options, frozenset(self._headers))
        except OSError as err:  # a CA bundle that cannot be read
            raise HistoryServerError(f"cannot load the CA bundle: {err.strerror or err}",
                                     options.ca_bundle) from None

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """The URL of ``/api/v1/<path>`` with the base URL's own query (e.g. a token) kept."""
        query = urlencode([*self._query, *(params or {}).items()])
        return f"{self.base}/api/v1/{path}" + (f"?{query}" if query else "")

    def get_json(self, path: str, params: Mapping[str, str] | None = None,
                 app_id: str | None = None) -> Any:
        """The decoded JSON answer of ``/api/v1/<path>``; raises ``HistoryServerError``."""
        return self._fetch(self.url(path, params), self._decode_json, app_id)

    def download(self, path: str, target: Path, app_id: str | None = None) -> int:
        """Save the answer of ``/api/v1/<path>`` to ``target`` (atomically); its size in bytes."""
        part = target.with_name(target.name + ".part")
        url = self.url(path)
        try:
            size = self._fetch(url, functools.partial(self._save, part=part), app_id)
            os.replace(part, target)
            return size
        except OSError as err:
            raise self.secrets.error(f"cannot save {target}: {err.strerror}", url, app_id) from None
        finally:
            part.unlink(missing_ok=True)

    def _fetch(self, url: str, consume: Callable[[http.client.HTTPResponse], T],
               app_id: str | None) -> T:
        """One GET with bounded retries; every failure leaves as one scrubbed error."""
        opts = self.options
        for attempt in range(opts.retries + 1):
            request = urllib.request.Request(url, headers={"User-Agent": "deanalyze", **self._headers})
            wait_hint: float | None = None
            detail = ""
            try:
                with self._opener.open(request, timeout=opts.connect_timeout_s) as response:
                    return consume(response)
            except _Fatal as err:
                raise self.secrets.error(str(err), url, app_id) from None
            except urllib.error.HTTPError as err:
                failure: BaseException = err
                if err.code in (429, 503):
                    wait_hint = retry.retry_after_s(err.headers.get("Retry-After"))
                detail = _error_detail(err)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
                failure = err
            message = retry.describe(failure) + detail
            if attempt > 0:
                message += f" (after {attempt + 1} attempts)"
            if not retry.retryable_error(failure) or attempt == opts.retries:
                raise self.secrets.error(message, url, app_id) from None
            delay = retry.backoff_delay(attempt, opts.backoff_base_s, opts.backoff_max_s)
            if wait_hint is not None:
                if wait_hint > opts.max_retry_after_s:
                    raise self.secrets.error(
                        f"{message}: the server asks to retry after {wait_hint:.0f} s, more than "
                        f"the {opts.max_retry_after_s:.0f} s allowed", url, app_id) from None
                delay = max(delay, wait_hint)
            retry.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _decode_json(self, response: http.client.HTTPResponse) -> Any:
        body = b"".join(self._chunks(response))
        try:
            return json.loads(body)
        except ValueError:
            kind = response.headers.get_content_type()
            raise _Fatal(f"not a History Server REST answer (expected JSON, got {kind})") from None

    def _save(self, response: http.client.HTTPResponse, part: Path) -> int:
        size = 0
        try:
            out: BinaryIO = part.open("wb")
        except OSError as err:
            raise _Fatal(f"cannot write {part}: {err.strerror}") from None
        with out:
            for chunk in self._chunks(response):
                size += len(chunk)
                try:
                    out.write(chunk)
                except OSError as err:
                    raise _Fatal(f"cannot write {part}: {err.strerror}") from None
        return size

    def _chunks(self, response: http.client.HTTPResponse) -> Iterator[bytes]:
        """The answer's body in chunks, stopping with an error past ``max_download_bytes``."""
        cap = self.options.max_download_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Fatal(f"the answer is {int(declared):,} bytes, more than the "
                         f"{cap:,}-byte limit (max_download_bytes)")
        total = 0
        while chunk := response.read(_CHUNK):
            total += len(chunk)
            if total > cap:
                raise _Fatal(f"the answer exceeds the {cap:,}-byte limit (max_download_bytes)")
            yield chunk
        if declared and declared.isdigit() and total < int(declared):
            # http.client's read(n) returns b"" on a connection closed early instead of raising.
            raise http.client.IncompleteRead(b"", int(declared) - total)


def _split_base_url(url: str) -> tuple[str, list[tuple[str, str]], dict[str, str], list[str]]:
    """(base URL, its query pairs, a Basic auth header from user-info, secrets in the URL)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise HistoryServerError("not a valid URL", redact_url(url)) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise HistoryServerError("the History Server URL must start with http:// or https://",
                                 redact_url(url))
    secrets: list[str] = []
    auth: dict[str, str] = {}
    if parts.username is not None:
        user, password = unquote(parts.username), unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        auth["Authorization"] = f"Basic {token}"
        secrets += [password, parts.password or "", token]
    query = parse_qsl(parts.query, keep_blank_values=True)
    secrets += [v for _, v in query]
    path = parts.path.rstrip("/")
    path = path.removesuffix("/api/v1").rstrip("/")  # accept the API root as well as the UI root
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme.lower(), netloc, path, "", "")), query, auth, secrets


def _error_detail(err: urllib.error.HTTPError) -> str:
    """``": <first line of the error body>"``: the History Server says *why* (``unknown app: x``)."""
    try:
        raw = err.read(2048)
    except (OSError, http.client.HTTPException):
        raw = b""
    finally:
        err.close()
    text = " ".join(_TAGS.sub(" ", raw.decode("utf-8", "replace")).split())
    return f": {text[:200]}" if text else ""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class _ReadTimeout:
    """Connects within the connect timeout (and shakes hands, for TLS), then waits up to the
    read timeout for each read: a slow answer is not a slow connection."""

    sock: Any

    def __init__(self, *args: Any, read_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.read_timeout_s = read_timeout_s

    def connect(self) -> None:
        """Open the socket (``timeout`` = connect timeout), then switch to the read timeout."""
        super().connect()  # type: ignore[misc]
        self.sock.settimeout(self.read_timeout_s)


class _Connection(_ReadTimeout, http.client.HTTPConnection):
    """HTTP with separate connect and read timeouts."""


class _TLSConnection(_ReadTimeout, http.client.HTTPSConnection):
    """HTTPS with separate connect and read timeouts."""


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout_s: float) -> None:
        super().__init__()
        self.read_timeout_s = read_timeout_s

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """Open with a connection class that knows the read timeout."""
        factory = functools.partial(_Connection, read_timeout_s=self.read_timeout_s)
        return self.do_open(factory, req)  # type: ignore[arg-type]


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout_s: float, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self.read_timeout_s = read_timeout_s
        self.tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """Open with the configured TLS context and the read timeout."""
        factory = functools.partial(_TLSConnection, read_timeout_s=self.read_timeout_s)
        return self.do_open(factory, req, context=self.tls)  # type: ignore[arg-type]


class _OriginRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but sends the private headers to the original origin only.

    ``urllib`` copies every header onto a redirected request, so a History Server behind a
    gateway that redirects to another host would hand that host the bearer token.
    """

    def __init__(self, private: frozenset[str]) -> None:
        self.private = private

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        """The redirected request, stripped of private headers when it leaves the origin."""
        if urlsplit(newurl).scheme.lower() not in ("http", "https", ""):
            raise urllib.error.HTTPError(req.full_url, code, "redirect to a non-HTTP URL refused",
                                         headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            for name in self.private:
                new.remove_header(name.capitalize())
        return new


def _opener(options: HistoryOptions, private: frozenset[str]) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=options.ca_bundle)
    if not options.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return urllib.request.build_opener(
        _HTTPHandler(options.read_timeout_s), _HTTPSHandler(options.read_timeout_s, context),
        _OriginRedirectHandler(private))
