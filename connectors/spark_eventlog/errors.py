"""The one exception type a connector raises for bad input, and URL redaction for its messages.

Callers turn it into an ``InputError`` record (file + one-line message) so one bad
log never stops the analysis of the others. The message is squeezed onto one bounded
line and credentials in URLs (``s3://key:secret@…``, ``?sig=…`` tokens) are redacted here,
once, so no caller can print a secret or a backend's 89-line stack dump.
"""

from __future__ import annotations

from analyzer.core.safe_text import redact_url

__all__ = ["EventLogError", "one_line", "redact_url"]

_MAX_MESSAGE = 300


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
