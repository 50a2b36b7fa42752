"""The one exception type a connector raises for bad input, and URL redaction for its messages.

Callers turn it into an ``InputError`` record (file + one-line message) so one bad
log never stops the analysis of the others. The message is squeezed onto one bounded
line and credentials in URLs (``s3://key:secret@…``, ``?sig=…`` tokens) are redacted here,
once, so no caller can print a secret or a backend's 89-line stack dump.
"""

from __future__ import annotations

import re

_MAX_MESSAGE = 300
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_QUERY = re.compile(r"\?[^\s!]*")


def redact_url(text: str) -> str:
    """``text`` with URL credentials removed: user/password before ``@`` and any query string.

    Query strings carry Azure SAS signatures and presigned-URL tokens; event-log paths never
    need one, so the whole query is replaced rather than guessing which parameter is secret.
    """
    if "://" not in text:
        return text
    return _QUERY.sub("?***", _USERINFO.sub(r"\1***@", text))


def one_line(text: str) -> str:
    """``text`` redacted and squeezed onto one line of bounded length, for user messages."""
    flat = " ".join(redact_url(str(text)).split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"


class EventLogError(Exception):
    """An event log that cannot be read; ``str()`` is a one-line, user-facing reason."""

    def __init__(self, message: str, source: str | None = None) -> None:
        self.message = one_line(message)
        self.source = redact_url(source) if source else source
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message
