"""The one object every report format renders: what was read, found and skipped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from analyzer.model import Application, InputError

SCHEMA_VERSION = "1.0"
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one subject, with the numbers behind it and what to change."""

    rule_id: str
    severity: str
    subject: Mapping[str, object]
    title: str
    evidence: Mapping[str, object]
    recommendation: str
    tradeoffs: str = ""
    avoidable_core_hours: float = 0.0

    @property
    def severity_rank(self) -> int:
        """0 for low up to 3 for critical."""
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run of deanalyze produced, ready for any renderer."""

    generated_at: str
    applications: tuple[Application, ...]
    findings: tuple[Finding, ...] = ()
    errors: tuple[InputError, ...] = ()
    schema_version: str = SCHEMA_VERSION
    tool_version: str = field(default="")
