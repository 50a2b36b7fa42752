"""One ledger of claims: every unit of a bill is counted for at most one finding's saving.

Why: findings overlap. The same TiB of a BigQuery table's scans is what a partition filter
saves and what makes on-demand pricing expensive; the same Spark stage's task time is what a
spill fix and a GC fix both shorten. Adding their savings counts those units twice, and
scaling the sum down to fit the bill hides that. Here each finding claims a concrete
resource (who pays, in one billing unit) and optionally a part of it (a stage, a table's
scans, a warehouse's idle time); claims are counted in order, each on what earlier claims
left, so the total is the union of the claims and never exceeds the bill.

Order: claims on a part first (the narrow, specific fixes: a table's scans, a stage), then
claims on the whole resource (a pricing model, a cluster size), each group by standalone
saving, largest first. A claim on a part takes its fraction of what is left of that part
(two fixes of the same scans compose: 77 TiB less 89 % less a further 50 % of the rest); a
claim on the whole takes its fraction of what is left of the resource. What the change itself
costs (a reservation's slot-hours) is subtracted from its saving, never below zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from analyzer.core.findings import Claim, Finding

UNIT_WORDS = {"core_hours": "core-hours", "credits": "credits", "tib_billed": "TiB billed",
              "slot_hours": "slot-hours"}
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """What one finding asks of the ledger, before anything is counted.

    ``part_capacity`` is what the part holds in total (a table's paid TiB, a stage's task
    core-hours); None means the part is exactly what is asked (disjoint from other parts, as
    two stages' skew tails are). ``proportional`` parts may overlap other parts in ways the
    data cannot tell (a repeated query's runs and a table's scans): they are counted in
    proportion to what earlier claims left of the whole resource.
    """

    label: str  # "rule · subject", how other claims name this one
    resource: str
    unit: str
    asked: float
    usd_per_unit: float
    part: str = ""
    part_capacity: float | None = None
    change_cost_usd: float = 0.0
    proportional: bool = False

    @property
    def standalone_usd(self) -> float:
        """The saving had this been the only change."""
        return self.asked * self.usd_per_unit - self.change_cost_usd


def count_claims(requests: Sequence[ClaimRequest], capacity: Mapping[str, float]) -> list[Claim]:
    """Count every request against the ``capacity`` of its resource (units billed); same order as given."""
    order = sorted(range(len(requests)), key=lambda i: (not requests[i].part or requests[i].proportional,
                                                         -requests[i].standalone_usd, requests[i].label))
    left = {r.resource: max(0.0, capacity.get(r.resource, 0.0)) for r in requests}
    part_left: dict[tuple[str, str], float] = {}
    earlier: dict[tuple[str, str], list[str]] = defaultdict(list)
    out: dict[int, Claim] = {}
    for i in order:
        r = requests[i]
        total = max(0.0, capacity.get(r.resource, 0.0))
        counted, why = _take(r, total, left, part_left)
        left[r.resource] -= counted
        before = list(dict.fromkeys(earlier[(r.resource, r.part)] + earlier[(r.resource, "")]))
        if not r.part or r.proportional or why == "resource":
            before = list(dict.fromkeys(label for (res, _), labels in earlier.items() if res == r.resource
                                        for label in labels))
        if counted > _EPSILON:
            earlier[(r.resource, "" if not r.part or r.proportional else r.part)].append(r.label)
        out[i] = Claim(resource=r.resource, unit=r.unit, asked=r.asked, counted=counted,
                       usd_per_unit=r.usd_per_unit, part=r.part, change_cost_usd=r.change_cost_usd,
                       overlaps_with=tuple(before) if counted < r.asked - _EPSILON else (),
                       note=_note(r, counted, why, before))
    return [out[i] for i in range(len(requests))]


def _take(r: ClaimRequest, total: float, left: dict[str, float],
          part_left: dict[tuple[str, str], float]) -> tuple[float, str]:
    """Units counted for ``r`` and why fewer than asked ("overlap", "cap" or "")."""
    asked = max(0.0, r.asked)
    remaining = left[r.resource]
    if not r.part:
        fraction = min(1.0, asked / total) if total > 0 else 0.0
        counted = min(fraction * remaining, asked)
        return counted, "cap" if asked > total + _EPSILON else "overlap"
    size = r.part_capacity if r.part_capacity is not None else asked
    if r.proportional:
        share = remaining / total if total > 0 else 0.0
        counted = min(asked, size) * share
        return min(counted, remaining), "cap" if asked > size + _EPSILON else "overlap"
    key = (r.resource, r.part)
    part_left.setdefault(key, min(size, total))
    fraction = min(1.0, asked / size) if size > 0 else 0.0
    wanted = min(fraction * part_left[key], asked)  # parts of one name may disagree on their size
    counted = min(wanted, remaining)
    part_left[key] -= counted
    if counted < wanted - _EPSILON:
        return counted, "resource"  # other parts of the same resource took the rest of its bill
    return counted, "cap" if asked > min(size, total) + _EPSILON else "overlap"


def _note(r: ClaimRequest, counted: float, why: str, before: list[str]) -> str:
    """Why fewer units were counted than asked, in words; "" when all were counted."""
    if counted >= r.asked - _EPSILON * max(1.0, r.asked):
        return ""
    unit = UNIT_WORDS.get(r.unit, r.unit)
    where = f"{r.part} of {r.resource}" if r.part and why != "resource" else r.resource
    if why == "cap" and not before:
        return f"capped at the {counted:,.4g} {unit} {where} billed (the rule estimated {r.asked:,.4g})"
    if not before:
        return f"{counted:,.4g} of the {r.asked:,.4g} {unit} asked were left of {where}"
    return (f"counted after {'; '.join(before)}: {counted:,.4g} of the {r.asked:,.4g} {unit} asked "
            f"were still billed on {where}")


def superseded(finding: Finding) -> Finding:
    """An early warning (``info``) when other findings left this one's claim nothing worth its change.

    Why: a finding that saves nothing once the findings counted before it are done (a
    reservation after the scan fix took most of the bytes) has no impact of its own to rank or
    gate on; it stays in the report as an early warning saying what it was counted after and
    what it would save alone.
    """
    c = finding.claim
    if finding.severity == "info" or c is None or finding.estimated_savings_usd > 0:
        return finding
    if not c.overlaps_with or c.asked * c.usd_per_unit <= c.change_cost_usd:
        return finding
    note = f"Superseded: {c.note}; alone, it would save ${c.standalone_usd:,.2f}."
    return replace(finding, severity="info", scale_note=note)


def saving_usd(claim: Claim, decimals: int = 2) -> float:
    """The saving a claim is worth: counted units at their price, net of the change's cost, never < 0.

    Rounded down to ``decimals``: rounding to nearest could lift the sum of a pool's savings a
    cent above its bill.
    """
    exact = max(0.0, claim.counted * claim.usd_per_unit - claim.change_cost_usd)
    scale = 10**decimals
    return math.floor(exact * scale + 1e-9) / scale
