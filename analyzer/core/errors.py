"""The one error base for input that cannot be read, shared by every connector.

Why one base: the API turns any ``UnreadableInput`` into an ``InputError`` record (the
input's name and a one-line reason) and goes on with the other inputs, whatever the
connector. A connector subclasses it only to add its own wording, never to change that.
"""

from __future__ import annotations


class UnreadableInput(Exception):
    """An input (file, URL, account, project) that cannot be read; ``str()`` is one user-facing line."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class SourceSettingsError(ValueError):
    """Settings of a source that do not go together (e.g. both a live project and an export file)."""
