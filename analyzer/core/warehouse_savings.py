"""Warehouse findings priced through the ledger of claims: each credit, TiB or slot-hour once.

A finding's positive ``avoidable_usage`` is its claim on who pays (the warehouse, reservation
or project of its subject) in that billing unit; its negative usage is what the change costs
(the reservation a pricing-model change buys), subtracted from the saving. The claim's part
comes from the subject and evidence the rules already produce: a table's scans (``paid_<unit>``
says how much they were billed), a warehouse's idle time (``savings_bucket="idle"``), a query
pattern's runs (which may overlap a table's scans, so they are counted in proportion). See
``analyzer.core.ledger`` for the counting order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Protocol

from analyzer.core.findings import Claim, Finding
from analyzer.core.ledger import UNIT_WORDS, ClaimRequest, count_claims, saving_usd, superseded


class PoolTotal(Protocol):
    """What the ledger needs of ``warehouse_cost.WarehouseTotal`` (that module imports this one)."""

    @property
    def kind(self) -> str: ...  # noqa: D102
    @property
    def compute_credits(self) -> float: ...  # noqa: D102
    @property
    def cloud_services_credits(self) -> float: ...  # noqa: D102
    @property
    def idle_credits(self) -> float | None: ...  # noqa: D102
    @property
    def tib_billed(self) -> float: ...  # noqa: D102
    @property
    def slot_hours(self) -> float: ...  # noqa: D102


class WarehouseCost(Protocol):
    """What the ledger needs of ``warehouse_cost.WarehouseCost``: prices and who paid what."""

    @property
    def vendor(self) -> str: ...  # noqa: D102
    @property
    def source(self) -> str: ...  # noqa: D102
    @property
    def usd_per_credit(self) -> float: ...  # noqa: D102
    @property
    def usd_per_tib(self) -> float: ...  # noqa: D102
    @property
    def slot_hour_usd(self) -> float: ...  # noqa: D102
    @property
    def warehouses(self) -> Mapping[str, PoolTotal]: ...  # noqa: D102

POOL_KEYS = ("warehouse", "reservation", "project")
USAGE_UNITS = ("credits", "tib_billed", "slot_hours")


def unit_prices(cost: WarehouseCost) -> dict[str, float]:
    """$ per billing unit of a priced history."""
    return {"credits": cost.usd_per_credit, "tib_billed": cost.usd_per_tib, "slot_hours": cost.slot_hour_usd}


def usage_usd(usage: Mapping[str, float], cost: WarehouseCost) -> float:
    """Money of an ``avoidable_usage`` mapping: credits, tib_billed and slot_hours at catalog prices."""
    prices = unit_prices(cost)
    return sum(float(usage.get(unit, 0.0)) * price for unit, price in prices.items())


def finding_pool(finding: Finding) -> str | None:
    """The warehouse, reservation or project a finding's subject names (who pays)."""
    return next((str(finding.subject[k]) for k in POOL_KEYS if finding.subject.get(k)), None)


def label(finding: Finding) -> str:
    """How other claims name this finding: its rule and the narrowest thing it is about."""
    s = finding.subject
    what = s.get("table") or s.get("query_hash") or finding.subject_label()
    return f"{finding.rule_id} · {what}"


def capacity(cost: WarehouseCost, pool: str | None, unit: str) -> float:
    """Units of ``unit`` the pool (or the whole history when None or unknown) was billed."""
    one = cost.warehouses.get(pool or "")
    totals = [one] if one is not None else list(cost.warehouses.values())
    if unit == "credits":
        return sum(t.compute_credits + t.cloud_services_credits for t in totals)
    return sum(t.tib_billed if unit == "tib_billed" else t.slot_hours for t in totals)


def resource(cost: WarehouseCost, pool: str | None, unit: str) -> str:
    """``project acme (TiB billed)``: who pays, in which unit."""
    total = cost.warehouses.get(pool or "")
    who = f"{total.kind} {pool}" if total else f"all of {cost.source}"
    return f"{who} ({UNIT_WORDS[unit]})"


def request(f: Finding, cost: WarehouseCost) -> tuple[ClaimRequest, float]:
    """The finding's claim on its pool, and that resource's capacity."""
    prices = unit_prices(cost)
    usage = {u: float(f.avoidable_usage.get(u, 0.0)) for u in USAGE_UNITS}
    gains = {u: v for u, v in usage.items() if v > 0}
    pool = finding_pool(f)
    unit = max(gains, key=lambda u: gains[u] * prices[u]) if gains else _billed_unit(cost, pool)
    change = sum(-v * prices[u] for u, v in usage.items() if v < 0)
    part, size, proportional = _part(f, cost, pool, unit)
    req = ClaimRequest(label=label(f), resource=resource(cost, pool, unit), unit=unit,
                       asked=max(0.0, usage[unit]), usd_per_unit=prices[unit], part=part, part_capacity=size,
                       change_cost_usd=change, proportional=proportional)
    return req, capacity(cost, pool, unit)


def _billed_unit(cost: WarehouseCost, pool: str | None) -> str:
    """The unit the pool is billed in: credits, TiB (on-demand project) or slot-hours (reservation)."""
    if cost.vendor == "snowflake":
        return "credits"
    total = cost.warehouses.get(pool or "")
    return "slot_hours" if total is not None and total.kind == "reservation" else "tib_billed"


def _part(f: Finding, cost: WarehouseCost, pool: str | None, unit: str) -> tuple[str, float | None, bool]:
    """(part, what the part was billed, counted in proportion?) from the subject and evidence."""
    paid = f.evidence.get(f"paid_{unit}")
    size = float(paid) if isinstance(paid, int | float) and not isinstance(paid, bool) else None
    if f.subject.get("table"):
        return f"scans of {f.subject['table']}", size, False
    if f.subject.get("query_hash"):
        return f"runs of query {str(f.subject['query_hash'])[:12]}", size, True
    if f.savings_bucket == "idle":
        total = cost.warehouses.get(pool or "")
        idle = None if total is None else total.idle_credits
        return "idle time", idle, False
    return "", None, False


def _count_named_pools_first(pairs: list[tuple[ClaimRequest, float]], named: list[bool]) -> list[Claim]:
    """Claims on the pools of the bill first; then claims on the whole history (a pool the bill does
    not know, or none), on what the first left of the whole bill in their unit.

    Why: a claim on ``all of <source>`` and one on ``warehouse WH`` are different resources to the
    ledger, but the same credits on the bill; counted apart they could together exceed it.
    """
    first = [i for i, is_named in enumerate(named) if is_named]
    rest = [i for i, is_named in enumerate(named) if not is_named]
    claims: dict[int, Claim] = {}
    counted = count_claims([pairs[i][0] for i in first], {pairs[i][0].resource: pairs[i][1] for i in first})
    claims.update(zip(first, counted, strict=True))
    used: dict[str, float] = defaultdict(float)
    for claim in counted:
        used[claim.unit] += claim.counted
    whole = {pairs[i][0].resource: max(0.0, pairs[i][1] - used[pairs[i][0].unit]) for i in rest}
    claims.update(zip(rest, count_claims([pairs[i][0] for i in rest], whole), strict=True))
    return [claims[i] for i in range(len(pairs))]


def assign_savings(findings: Iterable[Finding], cost: WarehouseCost) -> list[Finding]:
    """Count each finding's claim once in the ledger and price it; ``paid_*`` evidence as ``paid_usd``.

    Findings overlap (a full scan may also be what makes on-demand pricing expensive); the
    ledger counts the narrow claims first and the broad ones on what is left, and each
    finding's claim says what it was counted after. Savings are never scaled to fit a bill.
    """
    items = list(findings)
    pairs = [request(f, cost) for f in items]
    claims = _count_named_pools_first(pairs, [(finding_pool(f) or "") in cost.warehouses for f in items])
    out = []
    for f, claim in zip(items, claims, strict=True):
        evidence = dict(f.evidence)
        paid = {k[5:]: float(v) for k, v in f.evidence.items()
                if k in ("paid_credits", "paid_tib_billed", "paid_slot_hours") and isinstance(v, int | float)}
        if paid:
            evidence["paid_usd"] = round(usage_usd(paid, cost), 2)
        out.append(superseded(replace(f, estimated_savings_usd=saving_usd(claim), evidence=evidence,
                                      savings_bucket=f.savings_bucket or "compute", claim=claim)))
    return out
