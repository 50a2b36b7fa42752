"""bigquery.pricing-model: projects or reservations that would pay less under the other pricing model."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from analyzer.model import QueryRecord, WarehouseHistory
from analyzer.report import Finding
from analyzer.warehouse_usage import slot_hours, tib_billed
from rules.engine import Rule, Thresholds, option, register
from rules.warehouse.common import DAYS_PER_MONTH, percentile, window_days

MS_PER_HOUR = 3_600_000
AUTOSCALE_STEP = 50  # BigQuery autoscales slots in multiples of 50


def round_slots(slots: float) -> int:
    """Slots rounded up to the autoscaling step (0 stays 0)."""
    return int(math.ceil(slots / AUTOSCALE_STEP - 1e-9) * AUTOSCALE_STEP)


def hourly_slots(jobs: Sequence[QueryRecord], start_ms: int, hours: int) -> list[float]:
    """Average slots in use in each hour of the window: each job's slot-ms spread evenly over its run."""
    used = [0.0] * hours
    for q in jobs:
        if not q.slot_ms or q.start_time_ms is None:
            continue
        lo, hi = q.start_time_ms, max(q.end_time_ms or q.start_time_ms, q.start_time_ms + 1)
        first, last = (lo - start_ms) // MS_PER_HOUR, (hi - start_ms - 1) // MS_PER_HOUR
        for h in range(max(0, first), min(hours, last + 1)):
            h_lo, h_hi = start_ms + h * MS_PER_HOUR, start_ms + (h + 1) * MS_PER_HOUR
            used[h] += q.slot_ms * (min(hi, h_hi) - max(lo, h_lo)) / (hi - lo) / MS_PER_HOUR
    return used


@dataclass(frozen=True, slots=True)
class PricingMeasure:
    """One project's (or reservation's) usage under both models, over the window."""

    current_model: str  # "on_demand" or "editions"
    jobs: int
    tib_billed: float
    slot_hours_used: float
    baseline_slots: int
    max_slots: int
    reservation_slot_hours: float
    savings_fraction: float  # 1 − alternative cost / current cost, at the break-even ratio
    days: float


def measure(jobs: Sequence[QueryRecord], start_ms: int, days: float, break_even: float) -> PricingMeasure:
    """TiB billed on demand, slot-hours used, and a reservation sized from hourly slot use.

    The reservation has a baseline of the median hourly slots and autoscales to the p99, both
    in steps of 50; it bills ``Σ_h max(baseline, round50(slots used in h))``. Costs compare
    at ``break_even`` slot-hours per TiB (on-demand $/TiB ÷ edition $/slot-hour). A reservation
    is judged by the slot-hours its jobs used, a lower bound of what it bills.
    """
    hours = max(1, math.ceil(days * 24))
    per_hour = hourly_slots(jobs, start_ms, hours)
    baseline, peak = round_slots(percentile(per_hour, 0.5)), round_slots(percentile(per_hour, 0.99))
    reserved = sum(max(baseline, round_slots(u)) for u in per_hour)
    tib = sum(tib_billed(q) for q in jobs)
    used = sum(slot_hours(q) for q in jobs)
    on_demand = all(not q.warehouse for q in jobs)
    if on_demand:
        fraction = 1 - reserved / (tib * break_even) if tib else 0.0
    else:
        fraction = 1 - tib * break_even / used if used else 0.0
    return PricingMeasure(
        current_model="on_demand" if on_demand else "editions", jobs=len(jobs), tib_billed=tib,
        slot_hours_used=used, baseline_slots=baseline, max_slots=max(baseline, peak),
        reservation_slot_hours=float(reserved), savings_fraction=fraction, days=days,
    )


@register
class PricingModel(Rule):
    """A BigQuery project or reservation would pay less under the other pricing model.

    ## Why it matters
    On demand bills the bytes each query reads; editions bill slot-hours of a reservation.
    Steady, heavy scanning is cheaper on a reservation; light or bursty use is cheaper on
    demand. The wrong model can cost twice the right one, every month.

    ## Anti-pattern
    A project scanning hundreds of TiB a month on demand around the clock; a reservation
    whose jobs use a few slot-hours a day.

    ## Fix
    On demand → editions: ``CREATE RESERVATION `admin.region-us.p-res` OPTIONS (edition =
    'STANDARD', slot_capacity = 500, autoscale_max_slots = 500);`` then ``CREATE ASSIGNMENT``
    of the project, sized from the hourly slot use (baseline = median hour, max = p99 hour).
    Editions → on demand: remove the project's assignment.

    ## Savings estimate
    The avoidable usage is the current model's usage with the other model's usage as a
    negative entry (``{"tib_billed": T, "slot_hours": -S}``), so the catalog prices both and
    the saving is their difference. The severity uses ``break_even_slot_hours_per_tib``.

    ## Known problems
    The reservation simulation uses hourly averages: minute peaks above them autoscale and
    cost more; commitments (1-3 years) cost less. A reservation's real bill (baseline slots
    idle or not) is not in the job history, so switching away from one is judged by used
    slots only. The free on-demand TiB per month is ignored. ``break_even_slot_hours_per_tib``
    must match the catalog's prices (6.25 $/TiB ÷ 0.04 $/slot-hour Standard = 156.25).
    """

    id = "bigquery.pricing-model"
    applies_to = "warehouse"

    @dataclass(frozen=True)
    class Config:
        """Options of bigquery.pricing-model."""

        savings_fraction: Thresholds = option(Thresholds(low=0.1, medium=0.25, high=0.4, critical=0.6),
                                              "1 − cost under the other model / cost under the current one")
        break_even_slot_hours_per_tib: float = option(156.25, "on-demand $/TiB ÷ edition $/slot-hour")
        edition: str = option("standard", "edition of the recommended reservation")
        min_monthly_tib_billed: float = option(10.0, "damping: ignore on-demand projects billing less/month")
        min_monthly_slot_hours: float = option(1460.0, "damping: ignore reservations using less a month")

    def check(self, history: WarehouseHistory, config: Config) -> Iterator[Finding]:
        """One finding per on-demand project or reservation that the other model would serve cheaper."""
        groups: dict[tuple[str, str], list[QueryRecord]] = defaultdict(list)
        for q in history.queries:
            if q.vendor == "bigquery" and (q.statement_type or "").upper() != "SCRIPT":
                key = ("reservation", q.warehouse) if q.warehouse else ("project", q.project or "?")
                groups[key].append(q)
        days = window_days(history)
        starts = [q.start_time_ms for q in history.queries if q.start_time_ms is not None]
        start = history.window_start_ms if history.window_start_ms is not None else min(starts, default=0)
        for (kind, name), jobs in sorted(groups.items()):
            m = measure(jobs, start, days, config.break_even_slot_hours_per_tib)
            monthly = DAYS_PER_MONTH / m.days
            heavy = (m.tib_billed * monthly >= config.min_monthly_tib_billed if kind == "project"
                     else m.slot_hours_used * monthly >= config.min_monthly_slot_hours)
            severity = config.savings_fraction.severity(m.savings_fraction)
            if heavy and severity:
                yield self._finding(kind, name, jobs[0].project, m, severity, config)

    def _finding(self, kind: str, name: str, project: str | None, m: PricingMeasure, severity: str,
                 config: Config) -> Finding:
        monthly = DAYS_PER_MONTH / m.days
        evidence: dict[str, object] = {
            "jobs": m.jobs, "window_days": round(m.days, 2), "tib_billed": round(m.tib_billed, 4),
            "slot_hours_used": round(m.slot_hours_used, 2),
            "monthly_tib_billed": round(m.tib_billed * monthly, 2),
            "monthly_slot_hours_used": round(m.slot_hours_used * monthly, 1),
            "savings_fraction": round(m.savings_fraction, 4),
            "break_even_slot_hours_per_tib": config.break_even_slot_hours_per_tib,
        }
        if kind == "project":
            edition = config.edition.upper()
            evidence.update(baseline_slots=m.baseline_slots, max_slots=m.max_slots,
                            reservation_slot_hours=round(m.reservation_slot_hours, 1),
                            monthly_reservation_slot_hours=round(m.reservation_slot_hours * monthly, 1))
            recommendation = (
                f"Move project {name} to a {edition} reservation of {m.baseline_slots} baseline slots "
                f"autoscaling to {m.max_slots}: CREATE RESERVATION "
                f"`<admin_project>.region-<location>.{name}-res` "
                f"OPTIONS (edition = '{edition}', slot_capacity = {m.baseline_slots}, "
                f"autoscale_max_slots = {m.max_slots - m.baseline_slots}); CREATE ASSIGNMENT "
                f"`<admin_project>.region-<location>.{name}-res.{name}` "
                f"OPTIONS (assignee = 'projects/{name}', "
                f"job_type = 'QUERY'); about {m.savings_fraction:.0%} less than on demand")
            usage = {"tib_billed": m.tib_billed, "slot_hours": -m.reservation_slot_hours}
            title = f"Project {name} would pay about {m.savings_fraction:.0%} less on a reservation"
            subject: dict[str, object] = {"vendor": "bigquery", "project": name}
            tradeoffs = ("A reservation caps capacity at its max slots (queries queue instead of scaling "
                         "without limit) and bills its baseline whether used or not; on-demand bills nothing "
                         "when idle.")
        else:
            recommendation = (f"Run the jobs of reservation {name} on demand (remove their assignment): they "
                              f"used {m.slot_hours_used * monthly:,.0f} slot-hours a month but would bill "
                              f"{m.tib_billed * monthly:,.2f} TiB on demand, "
                              f"about {m.savings_fraction:.0%} less")
            usage = {"slot_hours": m.slot_hours_used, "tib_billed": -m.tib_billed}
            title = f"Reservation {name} would pay about {m.savings_fraction:.0%} less on demand"
            subject = {"vendor": "bigquery", "reservation": name, "project": project}
            tradeoffs = ("On demand bills every byte scanned: one careless full scan costs what it reads, "
                         "and on-demand capacity is shared (about 2,000 slots per project).")
        return Finding(
            rule_id=self.id, severity=severity, subject=subject, title=title, evidence=evidence,
            recommendation=recommendation + ".", tradeoffs=tradeoffs, savings_bucket="pricing",
            avoidable_usage={k: round(v, 6) for k, v in usage.items()},
        )
