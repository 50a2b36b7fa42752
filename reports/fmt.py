"""The one place that formats bytes, durations, times and money for humans."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def fmt_bytes(n: float | None) -> str:
    """``1536`` -> ``1.5 KiB``; binary units, as Spark reports sizes."""
    if n is None:
        return "-"
    value = float(n)
    for unit in _BYTE_UNITS:
        if abs(value) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover


def fmt_duration_ms(ms: float | None) -> str:
    """``93_000`` -> ``1 min 33 s``; sub-second values in ms."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def fmt_time_ms(epoch_ms: int | None) -> str:
    """Epoch milliseconds as ``2021-05-25 15:19:35 UTC``."""
    if epoch_ms is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time_ms(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds (JSON output)."""
    if epoch_ms is None:
        return None
    stamp = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fmt_usd(amount: float | None) -> str:
    """``1234.5`` -> ``$1,234.50``; amounts under a dollar keep four decimals (``$0.0407``)."""
    if amount is None:
        return "-"
    if 0 < abs(amount) < 1:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def fmt_evidence(key: str, value: object) -> str:
    """An evidence value with the unit its key names (``_bytes``, ``_ms``, ``_usd``, ratios)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    if key.endswith("_bytes") or "_bytes_" in key:
        return fmt_bytes(value)
    if key.endswith("_ms"):
        return fmt_duration_ms(value)
    if key.endswith("_ns"):
        return fmt_duration_ms(value / 1e6)
    if key.endswith("_usd"):
        return fmt_usd(value)
    if key.endswith(("_ratio", "_share", "_fraction")) and not isinstance(value, int):
        return f"{value:.1%}" if value <= 1 else f"{value:.2f}x"
    if (key.endswith("_s") or "_s_" in key) and not key.endswith("_ms"):
        return fmt_duration_ms(value * 1000)
    if isinstance(value, float):
        return fmt_number(value)
    return f"{value:,}"


def fmt_number(value: float, digits: int = 3) -> str:
    """``digits`` significant digits, never scientific notation: ``3.11e-05`` -> ``0.0000311``."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    decimals = min(10, max(0, digits - 1 - math.floor(math.log10(abs(value)))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_usd_column(amounts: Sequence[float | None]) -> list[str]:
    """Money for one table column, all with the same decimals: four when every amount is under $1."""
    small = all(a is None or abs(a) < 1 for a in amounts)
    return ["-" if a is None else (f"${a:,.4f}" if small else f"${a:,.2f}") for a in amounts]


UNIT_WORDS = {"core_hours": "core-hours", "credits": "credits", "tib_billed": "TiB billed",
              "slot_hours": "slot-hours"}
UNIT_PRICE_WORDS = {"core_hours": "core-hour", "credits": "credit", "tib_billed": "TiB",
                    "slot_hours": "slot-hour"}
_WORDS = {"tib": "TiB", "gib": "GiB", "sql": "SQL", "gc": "GC", "usd": "$"}
_UNIT_SUFFIXES = ("_ms", "_ns", "_bytes", "_usd", "_s")


def evidence_label(key: str) -> str:
    """An evidence key as a column label, without the unit suffix its formatted value already shows.

    ``app_duration_ms`` -> ``app duration`` (shown ``1 min 37 s``);
    ``paid_tib_billed`` -> ``paid TiB billed``; ``table_bytes`` -> ``table size``.
    """
    for suffix in _UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            stem = key[: -len(suffix)]
            key = stem + ("_size" if suffix == "_bytes" and "_" not in stem else "")
            break
    words = key.replace("_ms_", "_").replace("_bytes_", "_").replace("_s_", "_").split("_")
    return " ".join(_WORDS.get(w, w) for w in words)


def fmt_units(amount: float, unit: str, digits: int = 3) -> str:
    """``24.5 TiB billed``, ``0.601 core-hours``: an amount in a billing unit, no scientific notation."""
    return f"{fmt_number(amount, digits)} {UNIT_WORDS.get(unit, unit.replace('_', ' '))}"


VENDOR_NAMES = {"bigquery": "BigQuery", "snowflake": "Snowflake", "spark": "Spark"}


def vendor_name(vendor: str) -> str:
    """``bigquery`` -> ``BigQuery``."""
    return VENDOR_NAMES.get(vendor, vendor)


def app_key(app_id: object, attempt_id: object) -> str:
    """``app_id/attempt`` when the application has attempts: how reports name one run."""
    return f"{app_id}/{attempt_id}" if attempt_id else str(app_id)
