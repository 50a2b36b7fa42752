"""Hide values of properties that look like credentials, as Spark's UI does."""

from __future__ import annotations

import re

# Spark's own spark.redaction.regex default, plus a few common credential names.
_SECRET_KEY = re.compile(r"(?i)secret|password|passwd|token|credential|access[._-]?key|private[._-]?key")
REDACTED = "*********(redacted)"


def redact(key: str, value: str) -> str:
    """``value``, or the redaction marker when ``key`` names a credential."""
    return REDACTED if _SECRET_KEY.search(key) else value
