"""Which failures are worth another attempt, and how long to wait before it.

A History Server replays a log into memory before it can answer, so under load it
answers 503 or times out; a proxy in front of it answers 429 or 502. Those pass, so
they are retried with exponential back-off and jitter (many clients started by one cron
job must not retry in lockstep). A 4xx other than 429 (unknown app, bad date, no
permission) and a certificate problem never pass by themselves: retrying only delays
the error.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import ssl
import time
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime


def backoff_delay(retry: int, base_s: float, max_s: float,
                  rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): "equal jitter" back-off.

    Half of the exponential delay is fixed (so retries really do slow down), half is
    random (so simultaneous clients spread out).
    """
    delay = min(max_s, base_s * (2 ** retry))
    return delay / 2 + rng() * delay / 2


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def retryable_status(code: int) -> bool:
    """429 (slow down) and every 5xx (server or proxy trouble) may pass; other codes will not."""
    return code == 429 or 500 <= code <= 599


def retryable_error(err: BaseException) -> bool:
    """A connection-level failure that may pass: refused, reset, timed out, cut-off answer."""
    if isinstance(err, urllib.error.HTTPError):
        return retryable_status(err.code)
    if isinstance(err, urllib.error.URLError):
        reason = err.reason
        return isinstance(reason, OSError) and not isinstance(reason, ssl.SSLError)
    if isinstance(err, (ssl.SSLError, http.client.InvalidURL)):  # configuration problems
        return False
    return isinstance(err, (http.client.HTTPException, OSError))


def describe(err: BaseException) -> str:
    """One line for a failure, without the URL (the caller names it) and without headers."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    reason: object = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, str):  # urllib's own reasons: "no host given", "unknown url type"
        return reason
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {reason.verify_message}"
    if isinstance(reason, http.client.IncompleteRead):
        return "the connection closed before the whole answer arrived"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot connect: {reason.strerror}"
    text = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {text[0][:200]}" if text else type(reason).__name__


def sleep(seconds: float) -> None:
    """``time.sleep``, kept as a module attribute so tests can observe the waits."""
    time.sleep(seconds)
