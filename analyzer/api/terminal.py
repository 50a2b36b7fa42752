"""The lines deanalyze writes on stderr, safe for a terminal and one line each.

The CLI imports only ``analyzer.api``; this re-exports the one escaping rule of
``analyzer.core.safe_text`` for it, so a source name or message from the input can neither
drive the terminal (ESC, OSC, BEL) nor forge a second ``deanalyze: …`` line (a newline in a
file name).
"""

from __future__ import annotations

from analyzer.core.safe_text import printable, quote_name, redact_url

__all__ = ["printable", "problem_line", "quote_name", "stderr_line"]


def problem_line(source: str, message: str) -> str:
    """``deanalyze: <source>: <message>``: the name quoted when unusual, both escaped and redacted."""
    return f"deanalyze: {quote_name(redact_url(source))}: {printable(redact_url(message))}"


def stderr_line(text: object) -> str:
    """Any message for stderr with its control characters made visible (already one line after)."""
    return printable(redact_url(str(text)))
