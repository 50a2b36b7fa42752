"""Combining two four-level verdicts: when a finding needs both conditions, or either one."""

from __future__ import annotations

from analyzer.core.findings import SEVERITIES


def lower_severity(a: str | None, b: str | None) -> str | None:
    """The milder of two severities; None when either is None (both conditions must hold)."""
    if a is None or b is None:
        return None
    return min(a, b, key=SEVERITIES.index)


def higher_severity(a: str | None, b: str | None) -> str | None:
    """The graver of two severities; None only when both are None (either condition suffices)."""
    present = [s for s in (a, b) if s is not None]
    return max(present, key=SEVERITIES.index) if present else None
