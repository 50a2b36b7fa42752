"""bigquery.pricing-model: projects or reservations that would pay less under the other pricing model."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.core.findings import Finding
from analyzer.core.query_table import QueryTable, per_category
from analyzer.core.units import MS_PER_HOUR
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import QueryRecord, WarehouseHistory
from analyzer.core.warehouse_usage import slot_hours, tib_billed
from rules.engine import Thresholds, WarehouseRule, option
from rules.warehouse.common import DAYS_PER_MONTH, in_order_sum, percentile, records, usage, window_days

AUTOSCALE_STEP = 50  # BigQuery autoscales slots in multiples of 50


def round_slots(slots: float) -> int:
    """Slots rounded up to the autoscaling step (0 stays 0)."""
    return int(math.ceil(slots / AUTOSCALE_STEP - 1e-9) * AUTOSCALE_STEP)


def hourly_slots(start: np.ndarray, end: np.ndarray, slot_ms: np.ndarray, start_ms: int,
                 hours: int) -> list[float]:
    """Average slots in use in each hour of the window: each job's slot-ms spread evenly over its run.

    ``start``, ``end`` and ``slot_ms`` are the jobs' columns (NaN where not reported); jobs
    without slot-ms or start are skipped, a missing end counts as the start.
    """
    keep = ~np.isnan(start) & ~np.isnan(slot_ms) & (slot_ms != 0)
    lo, slots, end = start[keep].astype(np.int64), slot_ms[keep], end[keep]
    hi = np.maximum(np.where(np.isnan(end) | (end == 0), lo, end).astype(np.int64), lo + 1)
    first = np.maximum(0, (lo - start_ms) // MS_PER_HOUR)
    count = np.maximum(np.minimum(hours, (hi - start_ms - 1) // MS_PER_HOUR + 1) - first, 0)
    if count.size and count.max() <= 1:  # most jobs run within one hour
        job = np.flatnonzero(count)
        hour = first[job]
    else:
        # One piece per (job, hour it overlaps), jobs in row order, hours ascending: bincount
        # then adds each hour's pieces in the order a loop over the jobs would.
        job = np.repeat(np.arange(lo.size), count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        hour = np.repeat(first, count) + offset
    h_lo = start_ms + hour * MS_PER_HOUR
    lo, hi = lo[job], hi[job]
    overlap = np.minimum(hi, h_lo + MS_PER_HOUR) - np.maximum(lo, h_lo)
    share = slots[job] * overlap / (hi - lo) / MS_PER_HOUR
    return list(np.bincount(hour, weights=share, minlength=hours)[:hours].tolist())


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


def measure(jobs: QueryTable | Sequence[QueryRecord], start_ms: int, days: float,
            break_even: float) -> PricingMeasure:
    """TiB billed on demand, slot-hours used, and a reservation sized from hourly slot use.

    The reservation has a baseline of the median hourly slots and autoscales to the p99, both
    in steps of 50; it bills ``Σ_h max(baseline, round50(slots used in h))``. Costs compare
    at ``break_even`` slot-hours per TiB (on-demand $/TiB ÷ edition $/slot-hour). A reservation
    is judged by the slot-hours its jobs used, a lower bound of what it bills.
    """
    table = jobs if isinstance(jobs, QueryTable) else QueryTable.from_records(jobs)
    reserved = per_category(table.frame["warehouse"], bool, False, bool)
    return _measure(table.numbers("start_time_ms"), table.numbers("end_time_ms"), table.numbers("slot_ms"),
                    tib_billed(table), slot_hours(table), not reserved.any(), start_ms, days, break_even)


def _measure(start: np.ndarray, end: np.ndarray, slot_ms: np.ndarray, tib_column: np.ndarray,
             hours_column: np.ndarray, on_demand: bool, start_ms: int, days: float,
             break_even: float) -> PricingMeasure:
    """``measure`` of jobs given as columns: times, slot-ms, TiB billed and slot-hours of each."""
    hours = max(1, math.ceil(days * 24))
    per_hour = hourly_slots(start, end, slot_ms, start_ms, hours)
    baseline, peak = round_slots(percentile(per_hour, 0.5)), round_slots(percentile(per_hour, 0.99))
    reserved = sum(max(baseline, round_slots(u)) for u in per_hour)
    tib, used = in_order_sum(tib_column), in_order_sum(hours_column)
    if on_demand:
        fraction = 1 - reserved / (tib * break_even) if tib else 0.0
    else:
        fraction = 1 - tib * break_even / used if used else 0.0
    return PricingMeasure(
        current_model="on_demand" if on_demand else "editions", jobs=int(start.size), tib_billed=tib,
        slot_hours_used=used, baseline_slots=baseline, max_slots=max(baseline, peak),
        reservation_slot_hours=float(reserved), savings_fraction=fraction, days=days,
    )


class PricingModel(WarehouseRule["PricingModel.Config"]):
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

    @dataclass(frozen=True)
    class Config:
        """Options of bigquery.pricing-model."""

        savings_fraction: Thresholds = option(Thresholds(low=0.1, medium=0.25, high=0.4, critical=0.6),
                                              "1 − cost under the other model / cost under the current one")
        break_even_slot_hours_per_tib: float = option(156.25, "on-demand $/TiB ÷ edition $/slot-hour")
        edition: str = option("standard", "edition of the recommended reservation")
        min_monthly_tib_billed: float = option(10.0, "damping: ignore on-demand projects billing less/month")
        min_monthly_slot_hours: float = option(1460.0, "damping: ignore reservations using less a month")

    def check(self, history: WarehouseHistory, config: PricingModel.Config) -> Iterator[Finding]:
        """One finding per on-demand project or reservation that the other model would serve cheaper."""
        table = history.queries
        frame = table.frame
        bigquery = (frame["vendor"] == "bigquery").to_numpy()
        if not bigquery.any():
            return
        if vendor(history.vendor).bills == "bytes":
            used = usage(history)
            script, tib, hours_used = used.script, used.tib_billed, used.slot_hours
        else:
            script = per_category(frame["statement_type"], lambda t: t.upper() == "SCRIPT", False, bool)
            tib, hours_used = tib_billed(table, script), slot_hours(table, script)
        jobs = np.flatnonzero(bigquery & ~script)
        # Who pays, as one integer per row: ("reservation", name) or ("project", name or "?").
        keys: dict[tuple[str, str], int] = {}
        unknown = keys.setdefault(("project", "?"), 0)
        reservation = per_category(frame["warehouse"],
                                   lambda w: keys.setdefault(("reservation", w), len(keys)) if w else -1,
                                   -1, np.int64)
        project = per_category(frame["project"], lambda p: keys.setdefault(("project", p or "?"), len(keys)),
                               unknown, np.int64)
        key = np.where(reservation >= 0, reservation, project)[jobs]
        order = np.argsort(key.astype(np.uint16) if len(keys) <= 65_536 else key, kind="stable")
        counts = np.bincount(key, minlength=len(keys))
        bounds = np.concatenate(([0], np.cumsum(counts)))
        start_col, end_col, slot_col = (table.numbers(n) for n in ("start_time_ms", "end_time_ms", "slot_ms"))
        days = window_days(history)
        if history.window_start_ms is not None:
            start = history.window_start_ms
        else:
            known = start_col[~np.isnan(start_col)]
            start = int(known.min()) if known.size else 0
        for (kind, name), k in sorted(keys.items()):
            if not counts[k]:
                continue
            rows = jobs[order[bounds[k]:bounds[k + 1]]]  # in row order: the sort is stable
            m = _measure(start_col[rows], end_col[rows], slot_col[rows], tib[rows], hours_used[rows],
                         kind == "project", start, days, config.break_even_slot_hours_per_tib)
            monthly = DAYS_PER_MONTH / m.days
            heavy = (m.tib_billed * monthly >= config.min_monthly_tib_billed if kind == "project"
                     else m.slot_hours_used * monthly >= config.min_monthly_slot_hours)
            severity = config.savings_fraction.severity(m.savings_fraction)
            if heavy and severity:
                yield self._finding(kind, name, records(history, rows[:1])[0].project, m, severity, config)

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
            confidence="medium",  # the reservation is simulated from hourly slot use
        )
