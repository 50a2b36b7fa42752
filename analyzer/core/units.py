"""Spark's size strings, parsed once for the cost model and the rules alike."""

from __future__ import annotations

import re

MiB = 1024**2
GiB = 1024**3
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": GiB, "t": 1024**4, "p": 1024**5}


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
