"""Text from the input made safe to show: on a terminal, in a report, and without credentials.

Application, warehouse and user names, SQL text and file names come from logs and exports that
someone else wrote. Printed raw, an ESC sequence clears the user's screen or sets the window
title, a carriage return hides what came before it, a bidi override reorders what the reader
sees, and a newline in a file name forges a second ``deanalyze: …`` line on stderr. Every text
renderer and every stderr line goes through :func:`printable`; file names on stderr through
:func:`quote_name`; anything that may be a URL through :func:`redact_url`.

This module lives in ``analyzer.core`` because connectors (error messages), reports (every text
format) and the API (stderr lines, the run history) all need the same answer.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; Unicode bidi embeddings/overrides/isolates, the line and
# paragraph separators, zero-width and BOM characters that hide or reorder text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_UNSAFE_IN_JSON = re.compile("(?![\t\n\r])" + _UNSAFE.pattern)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Characters that make a file name need quoting on a stderr line: space, quotes, backslash and
# anything printable() would escape.
_NEEDS_QUOTES = re.compile(r"[\s'\"\\]|" + _UNSAFE.pattern)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_QUERY = re.compile(r"\?[^\s!]*")
_FRAGMENT = re.compile(r"#[^\s!]*")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://\S*")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every control, DEL, C1 and bidi/invisible format character shown as an escape.

    ESC becomes the four characters ``\\x1b``, a newline ``\\n``, U+202E ``\\u202e``: what was
    there stays visible to the reader, but the terminal (or a Markdown viewer) never acts on it.
    The output contains none of those characters, so applying it twice only escapes the
    backslashes' meaning once: safety never depends on the caller remembering it was done.
    """
    value = "" if text is None else str(text)
    return _UNSAFE.sub(_escape, value)


def quote_name(name: object) -> str:
    """A file or source name for one stderr line: as is when plain, else quoted with escapes.

    ``/logs/app-1`` stays bare (what users grep for); ``/tmp/bad\\nname`` becomes
    ``'/tmp/bad\\nname'`` so a newline or a space in a name can never forge or split a line.
    """
    value = "" if name is None else str(name)
    if value and not _NEEDS_QUOTES.search(value):
        return value
    return "'" + printable(value.replace("\\", "\\\\").replace("'", "\\'")) + "'"


def redact_url(text: str) -> str:
    """``text`` with URL credentials removed: user/password before ``@``, query strings, fragments.

    Query strings carry Azure SAS signatures and presigned-URL tokens; an input path never
    needs one, so the whole query is replaced rather than guessing which parameter is secret.
    Only text after a ``scheme://`` is touched: a local file name with a ``?`` stays as is.
    """
    if "://" not in text:
        return text
    return _URL.sub(_redact_one, text)


def _redact_one(match: re.Match[str]) -> str:
    url = _USERINFO.sub(r"\1***@", match.group())
    url = _QUERY.sub("?***", url, count=1)
    return _FRAGMENT.sub("#***", url)


def json_escape_unsafe(json_text: str) -> str:
    """JSON text with every unsafe character inside it written as a ``\\uXXXX`` escape.

    The value is unchanged once parsed, but a page that embeds the JSON (the dashboard's chart
    data) no longer carries a raw C1 control or bidi override. Structural whitespace (newline,
    tab, CR between tokens) is kept: escaped there it would be invalid JSON, and a serializer
    never leaves those raw inside a string.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def terminal_safe_json(raw: bytes) -> bytes:
    """UTF-8 JSON with DEL, C1 controls and bidi/invisible characters written as ``\\uXXXX``.

    JSON encoders escape C0 controls but leave those raw; a report printed to a terminal must
    not carry them. Parsed, the document is identical. Plain-ASCII output is returned as is.
    """
    if raw.isascii() and b"\x7f" not in raw:
        return raw
    return json_escape_unsafe(raw.decode()).encode()


def printable_document(text: str) -> str:
    """A whole text document (a Markdown report) with ``printable``'s escapes, newlines kept.

    Renderers escape each field from the input; this last pass over the document guarantees the
    same for any field a future section forgets, since a report is often read with ``cat``.
    """
    return "\n".join(printable(line) for line in text.split("\n"))
