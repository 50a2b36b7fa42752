"""A rule's verdict on one subject, and the severity scale every rule, gate and report shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    estimated_savings_usd: float = 0.0
    savings_bucket: str | None = None
    avoidable_usage: Mapping[str, float] = field(default_factory=dict)

    def subject_label(self) -> str:
        """Who pays for this finding, in words: the application, warehouse, reservation or project."""
        s = self.subject
        for key in ("app_name", "warehouse", "reservation", "project", "table"):
            if s.get(key):
                return str(s[key])
        return str(s.get("app_id", "?"))

    @property
    def severity_rank(self) -> int:
        """0 for low up to 3 for critical."""
        return SEVERITIES.index(self.severity)
