"""Independent oracles for the bill of a Spark run: edge windows, local mode, sizes and run frequency.

Why: ``tests/core/test_money_oracles.py`` prices one typical cluster run by hand; the bill
also has edges a typical run never reaches (a log without a start or an end, local mode, a
cluster of 1-core executors, one executor alone) and a monthly projection. Each figure
below is worked out in the comments from the billing rules (an executor core-hour is a
vCPU-hour plus the executor's container memory per core; the driver is billed for the run
unless it is the machine itself), never with a helper of ``analyzer.core.cost``.
"""

from __future__ import annotations

import pytest

from analyzer.core.catalog import parse_catalog
from analyzer.core.cost import (
    CostSettings,
    infer_runs_per_month,
    ledger_core_hours,
    price_application,
    price_report,
    priced_window,
)
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Job

H = 3_600_000  # ms per hour
DAY = 24 * H
T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC
VCPU, GIB = 0.04, 0.005
CATALOG = parse_catalog({"name": "oracle", "as_of": "2026-01-01", "source": "test", "vcpu_hour": VCPU,
                         "gib_hour": GIB}, "oracle")
# 8g heap + max(384 MiB, 10 %) overhead = 8.8 GiB per executor; 4g + 0.4 GiB for the 1-core driver.
EXEC_GIB = 8.8
DRIVER_HOUR = VCPU + 4.4 * GIB  # 0.062 $
ZERO = {"useful": 0.0, "failed_work": 0.0, "driver_only": 0.0, "skew_tail": 0.0, "idle_cores": 0.0}


def app(**changes: object) -> Application:
    """A 2-hour run on one 4-core executor, one job for the first hour."""
    fields: dict[str, object] = dict(
        app_id="app-1", attempt_id=None, name="nightly", user="u", spark_version="3.5.1", master="yarn",
        start_time_ms=T0, end_time_ms=T0 + 2 * H, complete=True, source="hand",
        properties={"spark.executor.memory": "8g", "spark.driver.memory": "4g"},
        executors=(Executor("driver", "d", 0, T0), Executor("1", "a", 4, T0, T0 + 2 * H)),
        jobs=(Job(0, "SUCCEEDED", T0, T0 + H, (0,)),))
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


def price(run: Application):  # type: ignore[no-untyped-def]
    return price_application(run, CostSettings(catalog=CATALOG))


# --- what is known of the run's window ----------------------------------------------------------------


def test_a_run_without_a_start_costs_nothing() -> None:
    run = app(start_time_ms=None, end_time_ms=None)
    assert priced_window(run) is None
    assert ledger_core_hours(run) == ZERO
    cost = price(run)
    assert (cost.total_usd, cost.executor_usd, cost.driver_usd, cost.run_hours) == (0.0, 0.0, 0.0, 0.0)
    assert cost.executor_core_hours == 0.0
    assert cost.ledger_usd == {**ZERO, "driver": 0.0}


def test_a_run_known_only_by_its_start_is_priced_at_that_instant() -> None:
    run = app(end_time_ms=None, jobs=())  # no end, no job or stage to end it
    assert priced_window(run) == (T0, T0)
    assert ledger_core_hours(run) == ZERO
    cost = price(run)
    assert (cost.total_usd, cost.run_hours) == (0.0, 0.0)


def test_the_fields_of_a_bill() -> None:
    cost = price(app(attempt_id="3", name="etl"))
    # One 4-core executor for 2 h = 8 core-hours at 0.04 + 8.8 / 4 x 0.005 = 0.051 $; the driver 2 h.
    assert (cost.app_id, cost.attempt_id, cost.app_name) == ("app-1", "3", "etl")
    assert cost.run_hours == pytest.approx(2.0)
    assert cost.usd_per_core_hour == pytest.approx(0.051)
    assert cost.executor_usd == pytest.approx(8 * 0.051)
    assert cost.driver_usd == pytest.approx(2 * DRIVER_HOUR)
    assert (cost.runs_per_month, cost.monthly_usd, cost.notes, cost.savings_usd) == (None, None, (), 0.0)
    # Job 0-1 h, the second hour driver-only for the executor's 4 cores.
    assert cost.ledger_core_hours == {**ZERO, "driver_only": pytest.approx(4.0),
                                      "idle_cores": pytest.approx(4.0)}


def test_a_negative_skew_estimate_takes_nothing_from_idle() -> None:
    assert ledger_core_hours(app())["skew_tail"] == 0.0  # no skew finding: no skew tail
    assert ledger_core_hours(app(), -2.0) == {**ZERO, "driver_only": pytest.approx(4.0),
                                              "idle_cores": pytest.approx(4.0)}
    assert ledger_core_hours(app(), 1.5)["skew_tail"] == pytest.approx(1.5)


# --- memory per core and who is the machine ----------------------------------------------------------


@pytest.mark.parametrize(("sizes", "core_hour"), [
    ((4,), VCPU + EXEC_GIB / 4 * GIB),      # one executor alone: its memory over its 4 cores = 0.051 $
    ((1, 1), VCPU + EXEC_GIB / 1 * GIB),    # 1-core executors: all 8.8 GiB on the core = 0.084 $
    ((4, 2), VCPU + EXEC_GIB / 3 * GIB),    # mixed sizes: the mean, 3 cores
])
def test_executor_memory_is_shared_by_the_typical_executor_cores(sizes: tuple[int, ...],
                                                                  core_hour: float) -> None:
    executors = (Executor("driver", "d", 0, T0),
                 *(Executor(str(i), "h", c, T0, T0 + 2 * H) for i, c in enumerate(sizes, 1)))
    cost = price(app(executors=executors))
    assert cost.usd_per_core_hour == pytest.approx(core_hour)
    assert cost.executor_core_hours == pytest.approx(2 * sum(sizes))
    assert cost.driver_usd == pytest.approx(2 * DRIVER_HOUR)  # a cluster, even of 1-core executors


def test_in_local_mode_the_driver_is_the_machine_and_not_billed_twice() -> None:
    # local[4]: the driver's 4 cores for 2 h are the executor core-hours (memory of "executor" settings).
    run = app(master="local[4]", executors=(Executor("driver", "d", 4, T0),))
    cost = price(run)
    assert cost.executor_core_hours == pytest.approx(8.0)
    assert cost.driver_usd == 0.0 and cost.ledger_usd["driver"] == 0.0
    assert cost.total_usd == pytest.approx(8 * (VCPU + EXEC_GIB / 4 * GIB))


@pytest.mark.parametrize(("master", "cores"), [("local[*]", 1), ("local[3]", 3), ("yarn", 1)])
def test_a_run_without_executor_cores_is_one_machine_of_local_n_cores(master: str, cores: int) -> None:
    # No executor and a driver without cores: one machine of local[N] cores (1 when N is unknown) for 2 h.
    cost = price(app(master=master, executors=(Executor("driver", "d", 0, T0),)))
    assert cost.executor_core_hours == pytest.approx(2 * cores)
    assert cost.driver_usd == 0.0


def test_a_cluster_whose_executor_cores_were_lost_still_bills_its_driver() -> None:
    # An executor known only from its block manager (cores 0): billed at spark.executor.cores = 4 for 2 h,
    # and the driver, on its own machine, for the 2 h as well.
    props = {"spark.executor.memory": "8g", "spark.driver.memory": "4g", "spark.executor.cores": "4"}
    run = app(properties=props,
              executors=(Executor("driver", "d", 0, T0), Executor("1", "a", 0, T0, T0 + 2 * H)))
    cost = price(run)
    assert cost.executor_core_hours == pytest.approx(8.0)
    assert cost.driver_usd == pytest.approx(2 * DRIVER_HOUR)


def test_pyspark_memory_is_part_of_the_container() -> None:
    # 1 GiB heap (the default) + 384 MiB overhead + 2 GiB for Python workers = 3.375 GiB over 4 cores.
    cost = price(app(properties={"spark.executor.pyspark.memory": "2g", "spark.driver.memory": "4g"}))
    assert cost.usd_per_core_hour == pytest.approx(VCPU + 3.375 / 4 * GIB)


def test_spot_notes() -> None:
    discounted = parse_catalog({"name": "cheap", "as_of": "2026", "source": "s", "vcpu_hour": VCPU,
                                "gib_hour": GIB, "spot_discount": 0.5}, "cheap")
    assert CostSettings(catalog=discounted, spot=True).notes == (
        "--spot: executors priced 50% below on demand (catalog 'cheap', no source given); "
        "the driver at on-demand rates",)
    on_demand = CostSettings(catalog=discounted)
    assert on_demand.notes == () and on_demand.spot_warning is None
    assert CostSettings(catalog=CATALOG).spot_warning is None  # no discount, but none asked for
    assert CostSettings(catalog=CATALOG, spot=True).spot_warning == (
        "--spot: price catalog 'oracle' gives no spot_discount; executors are priced at on-demand rates")


# --- runs a month --------------------------------------------------------------------------------------


def runs(*starts: int | None, name: str = "nightly") -> list[Application]:
    return [app(app_id=f"r{i}", name=name, start_time_ms=s, end_time_ms=None if s is None else s + H)
            for i, s in enumerate(starts)]


def test_runs_per_month_by_hand() -> None:
    # 3 runs over exactly 1 day: 2 intervals a day x 30.44 days = 60.88 runs a month.
    assert infer_runs_per_month(runs(T0, T0 + DAY // 2, T0 + DAY)) == {"nightly": pytest.approx(60.88)}
    # 4 runs, two at the same instant (3 distinct), over 2 days: 3 intervals / 2 days x 30.44 = 45.66.
    assert infer_runs_per_month(runs(T0, T0, T0 + DAY, T0 + 2 * DAY)) == {"nightly": pytest.approx(45.66)}
    # A run without a start says nothing; the other 3 over 2 days: 2 / 2 x 30.44.
    assert infer_runs_per_month(runs(T0, None, T0 + DAY, T0 + 2 * DAY)) == {"nightly": pytest.approx(30.44)}
    # Names are apart: 3 "nightly" runs, 1 "adhoc".
    assert set(infer_runs_per_month(runs(T0, T0 + DAY, T0 + 2 * DAY) + runs(T0, name="adhoc"))) == {"nightly"}


@pytest.mark.parametrize("starts", [
    (T0, T0 + DAY),                       # 2 runs: too few
    (T0, T0, T0 + 2 * DAY),               # 3 runs at 2 distinct instants
    (T0, T0 + H, T0 + 2 * H),             # 3 runs within 2 hours: under a day
    (T0, T0 + DAY // 2, T0 + DAY - 1),    # a millisecond short of a day
])
def test_too_little_history_gives_no_frequency(starts: tuple[int, ...]) -> None:
    assert infer_runs_per_month(runs(*starts)) == {}


def test_the_monthly_projection_uses_the_given_frequency_or_the_inferred_one() -> None:
    history = runs(T0, T0 + DAY, T0 + 2 * DAY) + runs(T0, name="adhoc")
    costs, _ = price_report(history, [], CostSettings(catalog=CATALOG))
    # Inferred: 2 intervals over 2 days = 30.44 runs a month for "nightly"; "adhoc" ran once: unknown.
    assert [c.runs_per_month for c in costs] == [pytest.approx(30.44)] * 3 + [None]
    assert costs[0].monthly_usd == pytest.approx(costs[0].total_usd * 30.44)
    assert costs[3].monthly_usd is None
    # Given: 10 a month for every application, whatever the history says.
    costs, _ = price_report(history, [], CostSettings(catalog=CATALOG, runs_per_month=10.0))
    assert [c.runs_per_month for c in costs] == [10.0] * 4
    assert costs[3].monthly_usd == pytest.approx(costs[3].total_usd * 10)


def test_every_application_keeps_its_own_findings() -> None:
    def idle(app_id: str, attempt: object) -> Finding:
        return Finding(rule_id="spark.oversized-cluster", severity="high",
                       subject={"app_id": app_id, "attempt_id": attempt}, title="t", evidence={},
                       recommendation="r", avoidable_core_hours=2.0)

    # Two runs, each 4 idle core-hours (second hour, job-less, is driver-only: 4; idle cores: 4).
    first, second = app(app_id="a1"), app(app_id="a2", attempt_id="2")
    costs, priced = price_report([first, second], [idle("a1", None), idle("a2", 2), idle("a9", None)],
                                 CostSettings(catalog=CATALOG))
    # Each claims 2 of its run's 4 idle core-hours at 0.051 $; the attempt id 2 matches "2".
    assert [f.subject["app_id"] for f in priced] == ["a1", "a2", "a9"]
    assert [f.estimated_savings_usd for f in priced] == [pytest.approx(0.102), pytest.approx(0.102), 0.0]
    assert [c.savings_usd for c in costs] == [pytest.approx(0.102), pytest.approx(0.102)]
