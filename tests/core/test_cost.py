"""The cost model: catalogs, the bill of a run, the waste ledger and bucket-capped savings."""

from __future__ import annotations

import pytest
from conftest import EVENTS

from analyzer.api import analyze_spark_logs
from analyzer.core.catalog import (
    BUILTIN,
    CatalogError,
    NodeType,
    load_catalog,
    parse_catalog,
    split_node_price,
)
from analyzer.core.cost import CostSettings, infer_runs_per_month, memory_gib, price_application, price_report
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Job

HOUR = 3_600_000


def app(**kw: object) -> Application:
    base = dict(app_id="a-1", attempt_id=None, name="etl", user="u", spark_version="3.5.0", master="yarn",
                start_time_ms=0, end_time_ms=2 * HOUR, complete=True, source="x",
                properties={"spark.executor.memory": "8g", "spark.driver.memory": "4g"},
                executors=(Executor("1", "h", 4, 0, 2 * HOUR), Executor("2", "h", 4, 0, HOUR)),
                jobs=(Job(0, "SUCCEEDED", 0, HOUR, (0,)),))
    base.update(kw)
    return Application(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_catalogs_load_with_date_and_source(name: str) -> None:
    c = load_catalog(name)
    assert c.as_of and c.source.startswith("http") and c.vcpu_hour > 0 and c.gib_hour > 0
    assert c.warehouse["bigquery"]["usd_per_tib"] == 6.25


def test_node_price_split_preserves_the_node_price() -> None:
    node = NodeType(vcpus=4, memory_gib=16, usd_hour=0.24)
    vcpu, gib = split_node_price(node)
    assert 4 * vcpu + 16 * gib == pytest.approx(0.24)


def test_catalog_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(CatalogError, match="needs 'as_of'"):
        parse_catalog({"name": "x", "source": "s", "vcpu_hour": 1, "gib_hour": 1}, "my.toml")
    bad = tmp_path / "p.toml"
    bad.write_text("name = ")
    with pytest.raises(CatalogError, match="invalid TOML"):
        load_catalog(str(bad))


def test_container_memory_includes_overhead() -> None:
    assert memory_gib({"spark.executor.memory": "8g"}, "executor") == pytest.approx(8.8)
    assert memory_gib({"spark.executor.memory": "1g"}, "executor") == pytest.approx(1.375)
    assert memory_gib({"spark.executor.memory": "4g", "spark.executor.memoryOverhead": "1g"}, "executor") == 5
    # a bare number is MiB, as Spark reads it
    assert memory_gib({"spark.executor.memory": "1536"}, "executor") == pytest.approx(1.5 + 0.375)


def test_bill_of_a_run_and_its_ledger() -> None:
    catalog = parse_catalog(
        {"name": "t", "as_of": "2026", "source": "test", "vcpu_hour": 0.04, "gib_hour": 0.005}, "t"
    )
    cost = price_application(app(), CostSettings(catalog=catalog))
    # executors: 4 cores x 2 h + 4 cores x 1 h = 12 core-hours; memory 8.8 GiB per 4 cores
    per_core_hour = 0.04 + 8.8 / 4 * 0.005
    assert cost.executor_core_hours == pytest.approx(12)
    assert cost.executor_usd == pytest.approx(12 * per_core_hour)
    # driver: 1 core + 4.4 GiB for 2 h
    assert cost.driver_usd == pytest.approx(2 * (0.04 + 4.4 * 0.005))
    assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd)
    # no tasks at all: the second hour (no job) is driver-only for the executor still held
    assert cost.ledger_core_hours["driver_only"] == pytest.approx(4)
    assert cost.ledger_core_hours["idle_cores"] == pytest.approx(8)


def test_spot_discount_applies_to_executors_only() -> None:
    catalog = parse_catalog({"name": "t", "as_of": "2026", "source": "s", "vcpu_hour": 0.04,
                             "gib_hour": 0.005, "spot_discount": 0.6}, "t")
    on_demand = price_application(app(), CostSettings(catalog=catalog))
    spot = price_application(app(), CostSettings(catalog=catalog, spot=True))
    assert spot.executor_usd == pytest.approx(on_demand.executor_usd * 0.4)
    assert spot.driver_usd == pytest.approx(on_demand.driver_usd)


def test_savings_are_capped_by_their_bucket() -> None:
    catalog = load_catalog("generic")
    greedy = [Finding("spark.driver-bound", "high", {"app_id": "a-1", "attempt_id": None}, "t", {}, "r",
                      avoidable_core_hours=1000.0),
              Finding("spark.spill", "low", {"app_id": "a-1", "attempt_id": None}, "t", {}, "r",
                      avoidable_core_hours=0.5)]
    costs, priced = price_report([app()], greedy, CostSettings(catalog=catalog))
    by_rule = {f.rule_id: f for f in priced}
    assert by_rule["spark.driver-bound"].estimated_savings_usd == pytest.approx(
        costs[0].ledger_usd["driver_only"], abs=1e-4
    )
    assert by_rule["spark.spill"].estimated_savings_usd == 0  # no useful task time in this toy run
    assert costs[0].savings_usd <= costs[0].total_usd


def test_runs_per_month_inferred_from_several_runs() -> None:
    day = 24 * HOUR
    runs = [app(start_time_ms=i * day, end_time_ms=i * day + HOUR) for i in range(8)]
    assert infer_runs_per_month(runs)["etl"] == pytest.approx(30.44)
    assert infer_runs_per_month(runs[:2]) == {}


def test_real_logs_every_dollar_in_one_bucket() -> None:
    report = analyze_spark_logs([str(EVENTS / "apache-spark/spark-events")])
    assert report.costs and len(report.costs) == len(report.applications)
    for cost in report.costs:
        assert all(v >= 0 for v in cost.ledger_usd.values())
        assert sum(cost.ledger_usd.values()) == pytest.approx(cost.total_usd, rel=1e-9, abs=1e-12)


def test_databricks_nodes_priced_by_the_node_type_the_log_names() -> None:
    catalog = parse_catalog({
        "name": "db", "as_of": "2026", "source": "test", "usd_per_dbu": 0.15,
        "reference_node": {"vcpus": 4, "memory_gib": 16, "usd_hour": 0.192, "dbu_hour": 0.69},
        "node_types": {
            "m5.2xlarge": {"vcpus": 8, "memory_gib": 32, "usd_hour": 0.384, "dbu_hour": 1.37},
            "m5.xlarge": {"vcpus": 4, "memory_gib": 16, "usd_hour": 0.192, "dbu_hour": 0.69}}}, "db")
    props = {"spark.databricks.workerNodeTypeId": "m5.2xlarge",
             "spark.databricks.driverNodeTypeId": "m5.xlarge"}
    run = app(properties=props, executors=(Executor("1", "h", 8, 0, 2 * HOUR),))
    cost = price_application(run, CostSettings(catalog=catalog))
    assert cost.usd_per_core_hour == pytest.approx((0.384 + 1.37 * 0.15) / 8)
    assert cost.executor_usd == pytest.approx(2 * (0.384 + 1.37 * 0.15))  # one worker node for 2 h
    assert cost.driver_usd == pytest.approx(2 * (0.192 + 0.69 * 0.15))
    unknown = price_application(app(properties={"spark.databricks.workerNodeTypeId": "x9.huge"}),
                                CostSettings(catalog=catalog))
    assert unknown.usd_per_core_hour == pytest.approx(catalog.vcpu_hour + 1.375 / 4 * catalog.gib_hour)


def test_every_bundled_catalog_has_a_dated_sourced_spot_discount() -> None:
    for name in BUILTIN:
        catalog = load_catalog(name)
        assert 0.3 <= catalog.spot_discount <= 0.7, name  # real spot/preemptible discounts, net of fixed fees
        assert "http" in catalog.spot_source and "(as of 20" in catalog.spot_source, name


def test_spot_without_a_discount_warns_in_the_report() -> None:
    catalog = parse_catalog({"name": "contract", "as_of": "2026", "source": "s", "vcpu_hour": 0.04,
                             "gib_hour": 0.005}, "t")
    settings = CostSettings(catalog=catalog, spot=True)
    assert settings.spot_warning is not None and "'contract' gives no spot_discount" in settings.spot_warning
    cost = price_application(app(), settings)
    assert cost.notes == (settings.spot_warning,)
    with_discount = CostSettings(catalog=load_catalog("emr"), spot=True)
    assert with_discount.spot_warning is None and "52% below on demand" in with_discount.notes[0]


def test_cli_spot_warning_is_one_stderr_line(tmp_path) -> None:
    from click.testing import CliRunner

    from analyzer.cli import main

    prices = tmp_path / "contract.toml"
    prices.write_text('name = "contract"\nas_of = "2026-12-01"\nsource = "our contract"\n'
                      "vcpu_hour = 0.03\ngib_hour = 0.004\n")
    sample = EVENTS / "apache-spark/spark-events/local-1430917381534"
    result = CliRunner().invoke(main, ["spark-logs", str(sample), "--spot", "--prices", str(prices)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("deanalyze: --spot: price catalog 'contract' gives no spot_discount") == 1
    assert "gives no spot_discount" in result.stdout  # and the report says it under the cost table
