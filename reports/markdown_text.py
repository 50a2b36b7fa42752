"""Input text made safe for Markdown, with backquoted identifiers kept as code spans.

BigQuery names are written in backquotes (`project.dataset.table`); turning the backquotes into
single quotes made them string literals when pasted. Code spans show them as identifiers and,
being literal, cannot carry Markdown or HTML from a hostile name.
"""

from __future__ import annotations

from analyzer.core.safe_text import printable

_SPAN = "`"


def md_text(value: object) -> str:
    """Input text made safe for Markdown: no table breaks, no raw HTML, one line, no code spans, no
    terminal controls (the report is often read with ``cat``; ESC or BEL would act on the terminal)."""
    text = printable(" ".join(("" if value is None else str(value)).split()))
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("`", "'")


def md_prose(value: object) -> str:
    """Like ``md_text``, but text between backquotes becomes a code span (an identifier, not a string).

    An unpaired backquote stays a quote. Inside a span only ``|`` is escaped (for tables): a
    code span shows ``<`` and ``*`` literally.
    """
    text = printable(" ".join(("" if value is None else str(value)).split()))
    parts = text.split(_SPAN)
    if len(parts) % 2 == 0:  # an odd number of backquotes: the last one is not a span
        parts[-2:] = [parts[-2] + "'" + parts[-1]]
    out = []
    for i, part in enumerate(parts):
        if i % 2 and part.strip():
            out.append(f"`{part.replace('|', chr(92) + '|')}`")
        else:
            lead, trail = " " if part[:1] == " " else "", " " if part[-1:] == " " and part.strip() else ""
            out.append(lead + md_text(part) + trail if part.strip() else part)
    return "".join(out)
