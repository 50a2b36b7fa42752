"""Warehouse rules check their assumptions against the data: rates over the days a query ran, idle
findings that agree with the metered credits, and nothing above ``info`` without a saving.

Histories are built with ``warehouse_history_factory``, whose metering simulates a warehouse
independently of the rules (resume at a query, suspend AUTO_SUSPEND seconds after the last one,
per-second billing with 60 s per resume).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import warehouse_history_factory as wf
from warehouse_history_factory import DAY, HOUR, MINUTE, SECOND, T0, WEEK, GiB, sf_query

from analyzer.core.catalog import load_catalog
from analyzer.core.findings import Finding
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, WarehouseHistory
from rules.registry import run_warehouse_rules
from rules.warehouse import snowflake_idle

CATALOG = load_catalog("generic")
IDLE, REPEATED = "snowflake.idle-warehouse", "warehouse.repeated-query"


def analyze(history: WarehouseHistory) -> list[Finding]:
    """Every rule, priced as the report prices it."""
    return assign_warehouse_savings(run_warehouse_rules([history]), price_history(history, CATALOG))


def of(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def week(queries: list[QueryRecord], warehouse: str, size: str, metering: tuple[MeteringHour, ...],
         settings: bool) -> WarehouseHistory:
    """A week of one warehouse; ``settings`` False drops its SHOW WAREHOUSES row (AUTO_SUSPEND unknown)."""
    base = wf.snowflake_history(queries, warehouse, size, 600)
    return dataclasses.replace(base, metering=metering, warehouses=base.warehouses if settings else ())


# --- warehouse.repeated-query: rates per day with runs --------------------------------------------


def _burst(runs: int, every_ms: int, day: int = 3) -> WarehouseHistory:
    text = "select region, sum(amount) from sales.public.daily_sales group by region"
    queries = [sf_query(f"r-{i}", "BI_WH", "Small", T0 + day * DAY + 8 * HOUR + i * every_ms, 20 * SECOND,
                        text, bytes_scanned=2 * GiB) for i in range(runs)]
    return wf.snowflake_history(queries, "BI_WH", "Small", 60)


def test_sixty_runs_on_one_day_of_a_week_are_sixty_a_day() -> None:
    history = _burst(60, 10 * MINUTE)  # 08:00-17:50 on one day of a 7-day window
    (f,) = of(analyze(history), REPEATED)
    assert f.evidence["runs_per_day"] == 60 and f.evidence["active_days"] == 1
    assert f.severity == "medium"  # 60 a day; per day of the window it would be 8.6, "low"
    assert f.title.startswith("The same query was paid for 60 times (60 a day on 1 day with runs")
    assert f.evidence["needed_runs"] == 10 and f.estimated_savings_usd > 0  # hourly refresh over 9.8 h


def test_a_query_whose_every_run_is_needed_is_at_most_info() -> None:
    history = _burst(12, 2 * HOUR)  # every 2 h over 22 h: an hourly refresh needs all 12 runs
    (f,) = of(analyze(history), REPEATED)
    assert (f.severity, f.estimated_savings_usd, dict(f.avoidable_usage)) == ("info", 0, {})
    assert f.evidence["needed_runs"] == f.evidence["paid_runs"] == 12
    ew = f.evidence["early_warning"]
    assert isinstance(ew, dict) and ew["graded_severity"] == "low"  # 12 a day
    assert f.scale_note == ("Nothing to save at the assumed refresh: all 12 runs are needed under a 1 h "
                            "refresh. With a daily refresh 11 of the 12 runs would be avoidable.")
    assert f.confidence == "medium"


# --- snowflake.idle-warehouse: the AUTO_SUSPEND checked against the metering ---------------------


def _every_five_minutes(size: str = "X-Small") -> list[QueryRecord]:
    """A 10-s query every 5 minutes, all week: with AUTO_SUSPEND = 60 the warehouse idles 60 of 70 s."""
    return [sf_query(f"p-{i}", "POLL_WH", size, T0 + i * 5 * MINUTE, 10 * SECOND, "select 1")
            for i in range(WEEK // (5 * MINUTE))]


def _scaled(metering: tuple[MeteringHour, ...], factor: float) -> tuple[MeteringHour, ...]:
    return tuple(dataclasses.replace(m, credits_compute=m.credits_compute * factor,
                                     credits_used=m.credits_used * factor,
                                     credits_attributed_queries=min(m.credits_attributed_queries or 0.0,
                                                                    m.credits_compute * factor))
                 for m in metering)


def test_metering_below_the_shortest_simulation_gets_no_idle_finding() -> None:
    queries = _every_five_minutes()
    at_60 = wf.metering(queries, "POLL_WH", "X-Small", 60)
    metered = _scaled(at_60, 0.8)  # 80 % of what even AUTO_SUSPEND = 60 would bill
    lo = np.array([q.end_time_ms - 10 * SECOND for q in queries], dtype=float)
    hi = np.array([q.end_time_ms for q in queries], dtype=float)
    credits = sum(m.credits_compute for m in metered)
    assert snowflake_idle.infer_auto_suspend(lo, hi, 1.0, credits) is None
    assert snowflake_idle.infer_auto_suspend(lo, hi, 1.0, sum(m.credits_compute for m in at_60)) == 60
    # The old assumption (600 s) would have recommended 300 s here, raising the bill: the idle share is
    # 86 % and the pauses between queries are 290 s.
    table = week(queries, "POLL_WH", "X-Small", metered, False).queries
    assumed = snowflake_idle.measure(table, metered, 1.0, 600, 600.0, (60, 600))
    assert assumed.recommended_auto_suspend_s == 300 and assumed.idle_share > 0.8
    assert assumed.avoidable_credits == 0  # the metering is below what 300 s would bill
    # No settings in the export: the 600-s default is not assumed, the metering rules it out.
    assert of(analyze(week(queries, "POLL_WH", "X-Small", metered, settings=False)), IDLE) == []
    # A setting that contradicts the metering gets no finding either: the bill is already below what
    # the recommended AUTO_SUSPEND (300 s, the pause between queries) would bill.
    assert of(analyze(week(queries, "POLL_WH", "X-Small", metered, settings=True)), IDLE) == []


def test_unknown_auto_suspend_is_inferred_from_the_metered_credits() -> None:
    known = wf.idle_week()  # AUTO_SUSPEND = 3600 in the settings
    (f_known,) = of(analyze(known), IDLE)
    unknown = dataclasses.replace(known, warehouses=())
    (f,) = of(analyze(unknown), IDLE)
    assert f.evidence["auto_suspend_source"] == "inferred" and f.evidence["auto_suspend_s"] == 3600
    assert f.title.endswith("(AUTO_SUSPEND 3600 s, inferred from the metered credits)")
    assert f.confidence == "medium" and f_known.confidence == "high"
    assert f.avoidable_usage["credits"] == pytest.approx(f_known.avoidable_usage["credits"], rel=1e-6)
    # the 600-s default would have understated the saving several times over
    rate, m = 4.0, snowflake_idle.measure(unknown.queries, (), 4.0, 600, 600.0, (60, 600))
    assumed = (m.current_billed_s - m.recommended_billed_s) / 3600 * rate
    assert f.avoidable_usage["credits"] > 4 * assumed
    # and the saving agrees with the metering: metered compute less what the recommendation bills
    metered = sum(h.credits_compute for h in known.metering)
    assert f.avoidable_usage["credits"] == pytest.approx(
        metered - f.evidence["simulated_credits_recommended"], abs=1e-3)


@pytest.mark.parametrize(("settings", "confidence"), [(True, "medium"), (False, "low")])
def test_without_metering_idle_time_is_an_unmeasured_info_finding(settings: bool, confidence: str) -> None:
    known = wf.idle_week()
    history = dataclasses.replace(known, metering=(), warehouses=known.warehouses if settings else ())
    (f,) = of(analyze(history), IDLE)
    assert (f.severity, f.confidence, f.estimated_savings_usd, dict(f.avoidable_usage)) == (
        "info", confidence, 0, {})
    assert "would idle (simulated) for" in f.title and f.evidence["metered"] is False
    assert f.scale_note.startswith("Not measured: no WAREHOUSE_METERING_HISTORY rows")
    # the cost table beside it says the same: idle time unknown, no idle dollars
    total = price_history(history, CATALOG).warehouses["REPORTING_WH"]
    assert total.idle_credits is None and total.idle_usd == 0


def test_metered_idle_finding_agrees_with_the_cost_table() -> None:
    history = wf.idle_week()
    (f,) = of(analyze(history), IDLE)
    total = price_history(history, CATALOG).warehouses["REPORTING_WH"]
    assert f.evidence["idle_credits"] == pytest.approx(total.idle_credits, abs=1e-3)
    assert 0 < f.estimated_savings_usd <= total.idle_usd + 0.01


# --- warehouse.select-star: the table's width is an assumption it cannot make ---------------------


def test_select_star_over_a_table_of_unknown_width_is_an_unmeasured_info_finding() -> None:
    history = dataclasses.replace(wf.select_star_week(), tables=())  # no TABLE_STORAGE rows
    (f,) = of(analyze(history), "warehouse.select-star")
    assert (f.severity, f.confidence, f.estimated_savings_usd) == ("info", "low", 0)
    assert f.avoidable_usage == {} and f.evidence["column_count"] is None
    assert f.scale_note.startswith("Not measured: the table's column count is not in the export")
    (known,) = of(analyze(wf.select_star_week()), "warehouse.select-star")
    assert (known.severity, known.confidence) == ("high", "medium")
