"""The History Server connector's error type, and the redaction every message goes through.

Errors are ``EventLogError`` subclasses so the existing pipeline turns them into
``InputError`` records (one line naming the input) like any unreadable log. Their text
ends up on stderr, in reports and in CI logs, so it must never carry a credential:
URLs lose their user-info and query values, and every secret the client knows of
(header values, the URL password, query values) is scrubbed from any text, including
an error body a server might echo back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from connectors.spark_eventlog.errors import EventLogError

MASK = "***"
_SCHEME_WORD = re.compile(r"^(bearer|basic|token|digest|negotiate)\s+", re.IGNORECASE)


class HistoryServerError(EventLogError):
    """A History Server request that failed; ``app_id`` names the application when one did."""

    def __init__(self, message: str, source: str | None = None, app_id: str | None = None) -> None:
        super().__init__(message, source)
        self.app_id = app_id


def redact_url(url: str) -> str:
    """``url`` safe to print: no user-info, every query value masked, no fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{MASK}@{netloc}"
    query = "&".join(f"{k}={MASK}" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Secrets:
    """The credential strings one client holds, to scrub from any text before it is shown."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for value in values:
            value = value.strip()
            if value:
                found.add(value)
                bare = _SCHEME_WORD.sub("", value)  # "Bearer abc": also the bare token "abc"
                if bare:
                    found.add(bare)
        # Longest first, so a secret that contains another is masked whole.
        self._values = sorted(found, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        for value in self._values:
            text = text.replace(value, MASK)
        return text

    def error(self, message: str, url: str, app_id: str | None = None) -> HistoryServerError:
        """A ``HistoryServerError`` whose message and source are both scrubbed."""
        return HistoryServerError(self.scrub(message), self.scrub(redact_url(url)), app_id)
