"""Units in one home: byte and time factors, and Spark's size strings parsed once.

Every module that converts bytes or milliseconds imports its factors from here, so a
figure in a report is converted the same way wherever it was computed.
"""

from __future__ import annotations

import re

KiB = 1024
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4
PiB = 1024**5

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "b": 1, "k": KiB, "m": MiB, "g": GiB, "t": TiB, "p": PiB}


def parse_size(text: str | None, default_unit: str = "") -> int | None:
    """Spark size strings (``4g``, ``512m``, ``1536``) in bytes; None when absent or invalid.

    ``default_unit`` is the unit of a bare number: Spark reads ``spark.executor.memory=1536``
    as MiB (``"m"``), other settings as bytes.
    """
    if not text:
        return None
    match = _SIZE.match(text)
    if not match:
        return None
    unit = (match.group(2) or default_unit).lower()
    return int(float(match.group(1)) * _FACTORS[unit])
