"""A rule's verdict on one subject, and the severity scale every rule, gate and report shares.

``info`` is an early warning: a problem a rule detected in a run too small for it to matter
yet (below the rule's damping). It sits below every gate: ``--fail-on`` never counts it, and
it claims no money. ``low`` to ``critical`` are the four levels rule thresholds grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SEVERITIES = ("info", "low", "medium", "high", "critical")
#: The four levels a rule's ``Thresholds`` grade and ``--fail-on`` gates (``info`` is below them all).
GATED_SEVERITIES = SEVERITIES[1:]
#: How sure a finding is: ``high`` measured from the input, ``medium`` modelled (a simulation or an
#: estimate), ``low`` resting on an assumption the data could not confirm (the evidence says which).
CONFIDENCES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Claim:
    """The resource a finding's saving comes from, as the savings ledger counted it.

    Why: two findings may claim the same core-hours, bytes or credits (a full scan that is
    also what makes on-demand pricing expensive). The ledger (``analyzer.core.ledger``) counts
    each unit once, in order, and records here how much of what the rule asked for was left
    to count, at which price, and what the change itself costs, so that
    ``estimated_savings_usd == max(0, counted * usd_per_unit - change_cost_usd)``.
    """

    resource: str  # who pays and in what: "project acme-analytics (TiB billed)"
    unit: str  # "core_hours", "credits", "tib_billed" or "slot_hours"
    asked: float  # units the rule says the change avoids
    counted: float  # units left for it after earlier claims on the same resource and the caps
    usd_per_unit: float
    part: str = ""  # the slice of the resource claimed ("stage 3", "table t", "idle"); "" = all of it
    change_cost_usd: float = 0.0  # what the recommended change itself costs (a reservation, ...)
    overlaps_with: tuple[str, ...] = ()  # findings counted first on the same resource ("rule · subject")
    note: str = ""  # why ``counted`` is below ``asked``, in words

    @property
    def standalone_usd(self) -> float:
        """The saving had this been the only change: what was asked, net of the change's cost."""
        return max(0.0, self.asked * self.usd_per_unit - self.change_cost_usd)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one subject, with the numbers behind it and what to change.

    ``scale_note`` is set on early warnings (``info``): what the problem becomes at
    production scale, with the factor it scales by stated.
    """

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
    claim: Claim | None = None  # set by the cost model's savings ledger
    confidence: str = "high"
    scale_note: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; expected one of {SEVERITIES}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown confidence {self.confidence!r}; expected one of {CONFIDENCES}")

    def subject_label(self) -> str:
        """Who pays for this finding, in words: the application, warehouse, reservation or project."""
        s = self.subject
        for key in ("app_name", "warehouse", "reservation", "project", "table"):
            if s.get(key):
                return str(s[key])
        return str(s.get("app_id", "?"))

    @property
    def severity_rank(self) -> int:
        """-1 for info (below every gate), 0 for low up to 3 for critical."""
        return SEVERITIES.index(self.severity) - 1

    @property
    def is_early_warning(self) -> bool:
        """True for ``info`` findings: seen, but too small in this run to gate or claim money."""
        return self.severity == "info"


def severity_at_least(severity: str, floor: str) -> bool:
    """``severity`` is ``floor`` or graver (both from ``SEVERITIES``)."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)
