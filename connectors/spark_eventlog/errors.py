"""The one exception type a connector raises for bad input.

Callers turn it into an ``InputError`` record (file + one-line message) so one bad
log never stops the analysis of the others.
"""

from __future__ import annotations


class EventLogError(Exception):
    """An event log that cannot be read; ``str()`` is a one-line, user-facing reason."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message
