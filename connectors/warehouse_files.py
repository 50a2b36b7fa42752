"""The warehouse connectors' error type and secret scrubbing.

Why a module of its own: every warehouse module needs ``WarehouseInputError`` (one
user-facing line per unreadable input) and ``scrub_secrets`` (driver errors may quote a
password) — the export readers (``warehouse_readers``), the column converters
(``warehouse_columns``, ``warehouse_convert``) and the live BigQuery and Snowflake clients. Importing nothing
else of ours, it sits below them all, so they can share it without import cycles.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from analyzer.core.errors import UnreadableInput

_MAX_MESSAGE = 300


class WarehouseInputError(UnreadableInput):
    """A warehouse input (file, project, account) that cannot be read.

    ``str()`` is one user-facing line, ``"<source>: <problem>"``. Secrets are scrubbed
    when the error is built, so no caller can leak a password by printing it.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(one_line(message), source)



class PartialHistoryError(WarehouseInputError):
    """The history was read, but part of the input was not: a side file, or rows skipped.

    Why an exception that carries a result: a bad ``--metering-file`` or a few rows with
    impossible numbers must not lose a good query history, and callers that only know
    ``WarehouseInputError`` still see the problem. ``history`` is what could be read;
    ``problems`` holds one (input, one-line message) pair per thing left out.
    """

    def __init__(self, history: Any, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems), problems[0][0])
        self.history = history
        self.problems = [(source, one_line(message)) for source, message in problems]

# --- secrets ------------------------------------------------------------------------------

_SECRET_KEYS = (
    r"password|passwd|pwd|passcode|token|access_token|refresh_token|id_token|secret|client_secret"
    r"|private_key|private_key_file_pwd|private_key_passphrase|authorization|api_key|apikey|key"
)
_KEY_VALUE = re.compile(
    rf"""(?ix)(["']?\b(?:{_SECRET_KEYS})\b["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&}}\])]+)"""
)
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}")
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_SECRET_ENV = re.compile(r"(?i)(PASSWORD|PASSCODE|TOKEN|SECRET|PRIVATE_KEY)")


def scrub_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove passwords, tokens and keys from ``text`` (an exception message, a log line).

    Three layers, because a driver's error text is outside our control: the values we
    know (``secrets``, plus every secret-looking environment variable), ``key=value``
    pairs with a secret-looking key, and credentials embedded in URLs or auth headers.
    """
    known = [s for s in secrets if s and len(s) >= 3]
    known += [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 4]
    for value in sorted(set(known), key=len, reverse=True):
        text = text.replace(value, "***")
    text = _AUTH_HEADER.sub(r"\1 ***", text)
    text = _KEY_VALUE.sub(r"\1***", text)
    return _URL_USERINFO.sub(r"\1***@", text)


def one_line(text: str) -> str:
    """Scrub ``text`` and squeeze it onto one line of bounded length, for user messages."""
    flat = " ".join(scrub_secrets(str(text)).split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"
