"""The SQL-plan rules: full scans, small files, cartesian joins and large broadcasts.

Scenario tests read real Spark 4.3 logs from ``tests/data/scenarios/sql`` (made by
``tests/scenarios/sql_jobs.py``); unit tests build plan nodes by hand, so every measured
number is checked exactly; boundary tests run each rule at its default thresholds.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from conftest import DATA

from analyzer.api import analyze_spark_logs
from analyzer.core.findings import Finding
from analyzer.core.model import (
    Application,
    Executor,
    Job,
    PlanNode,
    SqlExecution,
    Stage,
    StageMetrics,
    TaskDistributions,
)
from rules.config import parse_config
from rules.spark import cartesian_join, full_scan, large_broadcast, small_files
from rules.spark._plan import filter_list, human_bytes, plan_field, pretty, prunes_nothing, scan_key
from rules.spark._plan_partitions import example_filter, partition_columns
from rules.spark._plan_stages import scan_task_ms, stage_of
from rules.spark.common import GiB, MiB

SCENARIOS = DATA / "scenarios" / "sql"
MY_RULES = {"spark.full-scan", "spark.small-files", "spark.cartesian-join", "spark.large-broadcast"}
# The toy logs read MiB, not GiB: lower the thresholds that are about size, nothing else.
TOY = {"rules": {
    "spark.full-scan": {"bytes_read": {"low": 1 * MiB, "medium": 4 * MiB}},
    "spark.small-files": {"files": {"low": 50, "medium": 150}},
    "spark.cartesian-join": {"pairs": {"low": 1e6, "medium": 3e6}},
}}


@cache
def _findings(scenario: str, toy: bool) -> tuple[Finding, ...]:
    report = analyze_spark_logs([str(SCENARIOS / scenario)], rules_config=parse_config(TOY if toy else {}))
    assert not report.errors and len(report.applications) == 1
    return tuple(f for f in report.findings if f.rule_id in MY_RULES)


def findings(scenario: str, rule_id: str | None = None, toy: bool = True) -> list[Finding]:
    return [f for f in _findings(scenario, toy) if rule_id is None or f.rule_id == rule_id]


# --- real Spark logs -------------------------------------------------------------------------------------


def test_full_scan_names_the_partition_column() -> None:
    [f] = findings("full-scan", "spark.full-scan")
    assert f.severity == "medium"
    assert f.subject["table"] == "spark_catalog.default.sales" and f.subject["sql_execution_id"] == 3
    assert f.evidence["partitions_read"] == 30 and f.evidence["files_read"] == 30
    assert f.evidence["partition_filters"] == "[]" and f.evidence["partition_columns"] == ["dt"]
    assert "`dt`" in f.recommendation and "WHERE dt = " in f.recommendation
    assert f.evidence["avoidable_fraction"] == pytest.approx(29 / 30, abs=1e-3)
    assert 0 < f.avoidable_core_hours < f.evidence["scan_task_ms"] / 3_600_000


def test_full_scan_defaults_are_for_production_data() -> None:
    # 4.7 MiB is below 1 GiB: at the defaults an early warning of what the scan reads at 100x the data
    [f] = findings("full-scan", "spark.full-scan", toy=False)
    assert (f.severity, f.confidence) == ("info", "medium")
    assert f.avoidable_core_hours == f.estimated_savings_usd == 0
    ew = f.evidence["early_warning"]
    assert isinstance(ew, dict) and ew["damped_by"] == ["it read 4.7 MiB (the lowest threshold is 1.0 GiB)"]
    assert ew["graded_severity"] is None and ew["measured_avoidable"]["core_hours"] > 0
    assert "The scan grows with the table: at 100× the data it would read 467.3 MiB per run, 97% of it" in (
        f.scale_note)
    assert "`dt`" in f.recommendation  # the same concrete fix as a graded finding


def test_partition_pruned_read_is_not_a_full_scan() -> None:
    assert findings("partition-pruned", "spark.full-scan") == []


def test_small_files_write_and_read() -> None:
    write, read = sorted(findings("small-files", "spark.small-files"), key=lambda f: f.subject["operation"],
                         reverse=True)
    assert (write.subject["operation"], read.subject["operation"]) == ("write", "read")
    assert write.severity == read.severity == "medium"
    assert write.evidence["files"] == 240 and write.evidence["partitions"] == 60
    assert '`.repartition(60, "k")` before `.write.partitionBy("k")`' in write.recommendation
    assert "60 files instead of 240" in write.recommendation
    assert read.evidence["files"] == 200 and read.evidence["target_files"] == 50
    assert "from 200 files to 50" in read.recommendation and ".repartition(50, \"k\")" in read.recommendation
    assert "spark.sql.files.openCostInBytes=65536" in read.recommendation
    assert write.evidence["overhead_fraction"] == pytest.approx(0.75, abs=0.01)
    assert {f.severity for f in findings("small-files", "spark.small-files", toy=False)} == {"low"}


def test_cartesian_product_and_nested_loop_join() -> None:
    band, cross = sorted(findings("cross-join", "spark.cartesian-join"),
                         key=lambda f: f.subject["sql_execution_id"])
    assert band.subject["operator"] == "CartesianProduct" and band.severity == "medium"
    assert band.evidence["pairs"] == 4_000_000 and band.evidence["recompute_divisor"] == 4
    assert band.evidence["output_rows"] == 19_976
    assert "W = 2" in band.recommendation and "floor(a_v / 2)" in band.recommendation
    assert band.avoidable_core_hours > 0
    assert cross.subject["operator"] == "BroadcastNestedLoopJoin"
    assert cross.evidence["pairs"] == cross.evidence["output_rows"] == 4_000_000
    assert cross.avoidable_core_hours == 0  # a true cross product: nothing was discarded
    assert cross.severity == "info"  # so nothing to save, whatever its size: at most an early warning
    assert cross.scale_note.startswith("Every pair compared was kept")
    assert "ON l.key = r.key" in cross.recommendation
    # production defaults: 4e6 pairs are below 1e9, but 4e10 at 100x the rows on each side
    # (the engine keeps the largest early warning per rule and application and counts the others)
    [early] = findings("cross-join", "spark.cartesian-join", toy=False)
    assert (early.severity, early.subject["operator"]) == ("info", "CartesianProduct")
    assert early.evidence["early_warning"]["other_early_warnings"] == 1  # type: ignore[index]
    assert "would compare 40,000,000,000 pairs (10,000× as many)" in early.scale_note


def test_large_broadcast_with_default_thresholds() -> None:
    [f] = findings("broadcast", "spark.large-broadcast", toy=False)
    assert f.severity == "medium"  # > 0.2 of the 2 GiB driver heap
    assert f.evidence["data_size_bytes"] > 512 * MiB and f.evidence["rows"] == 6_000_000
    assert f.evidence["memory_bytes"] == 2 * GiB and f.evidence["auto_broadcast_threshold_bytes"] == GiB
    assert "--conf spark.sql.autoBroadcastJoinThreshold=204m" in f.recommendation
    assert f.evidence["recommended_threshold_bytes"] == 204 * MiB


@pytest.mark.parametrize("toy", [False, True])
def test_healthy_sql_stays_quiet(toy: bool) -> None:
    assert findings("healthy-sql", toy=toy) == []


@pytest.mark.parametrize("scenario", ["full-scan", "partition-pruned", "small-files", "cross-join"])
def test_toy_logs_raise_nothing_medium_with_production_defaults(scenario: str) -> None:
    ids = {f.rule_id for f in findings(scenario, toy=False) if f.severity_rank >= 1}
    assert ids == set()


# --- hand-built plans: exact measures --------------------------------------------------------------------


def node(node_id: int, name: str, metrics: dict[str, int] | None = None,
         metadata: dict[str, str] | None = None, children: tuple[int, ...] = (),
         description: str = "") -> PlanNode:
    return PlanNode(node_id=node_id, name=name, description=description or name, metadata=metadata or {},
                    metrics=metrics or {}, child_ids=children)


def sql_of(*nodes: PlanNode, execution_id: int = 1, job_ids: tuple[int, ...] = (0,)) -> SqlExecution:
    return SqlExecution(execution_id=execution_id, description="q", start_time_ms=0, end_time_ms=1,
                        physical_plan="", nodes=nodes, job_ids=job_ids)


def stage(stage_id: int, run_ms: int, tasks: int = 4, **metrics: int) -> Stage:
    return Stage(
        stage_id=stage_id, attempt_id=0, name="s", status="COMPLETE", num_tasks=tasks,
        num_complete_tasks=tasks, num_failed_tasks=0, num_killed_tasks=0, num_speculative_tasks=0,
        submission_time_ms=0, first_task_launched_time_ms=0, completion_time_ms=run_ms, failure_reason=None,
        parent_stage_ids=(), job_ids=(0,), metrics=StageMetrics(executor_run_time_ms=run_ms, **metrics),
        tasks=TaskDistributions(0, None, None, None, None, None, None, None, None),
    )


def app_of(sqls: tuple[SqlExecution, ...] = (), stages: tuple[Stage, ...] = (), master: str = "yarn",
           properties: dict[str, str] | None = None, executors: int = 0, cores: int = 4) -> Application:
    execs = tuple(Executor(str(i), "h", cores, 0) for i in range(1, executors + 1))
    return Application(
        app_id="app-1", attempt_id=None, name="t", user=None, spark_version="4.3.0", master=master,
        start_time_ms=0, end_time_ms=1, complete=True, source="test", properties=properties or {},
        executors=(Executor("driver", "h", 0, 0), *execs), jobs=(Job(0, "SUCCEEDED", 0, 1, (1,), 1),),
        stages=stages, sql_executions=sqls,
    )


def scan(node_id: int = 3, partitions: int | None = 30, filters: str = "[]", size: int = 3000,
         files: int = 60, table: str = "db.sales", output: str = "amount#1,dt#2",
         read_schema: str = "struct<amount:double>") -> PlanNode:
    metrics = {"number of files read": files, "size of files read": size, "number of output rows": 10}
    if partitions is not None:
        metrics["number of partitions read"] = partitions
    metadata = {"PartitionFilters": filters, "ReadSchema": read_schema,
                "Location": "InMemoryFileIndex(1 paths)[s3://b/sales]"}
    return node(node_id, f"Scan parquet {table}", metrics, metadata,
                description=f"FileScan parquet {table}[{output}] Batched: true, PartitionFilters: {filters}")


def test_full_scan_measure_is_exact() -> None:
    m = full_scan.measure(scan(), task_ms=1200.0, needed_partitions=1)
    assert (m.bytes_read, m.files_read, m.partitions_read, m.scans) == (3000, 60, 30, 1)
    assert m.avoidable_fraction == pytest.approx(29 / 30) and m.avoidable_ms == pytest.approx(1160.0)
    assert full_scan.measure(scan(partitions=2), 1000.0, needed_partitions=5).avoidable_ms == 0
    merged = full_scan.merge([m, full_scan.measure(scan(partitions=10), 800.0, 1)])
    assert (merged.bytes_read, merged.partitions_read, merged.scans) == (6000, 30, 2)
    assert merged.avoidable_ms == pytest.approx(1160 + 720) and merged.scan_task_ms == 2000


@pytest.mark.parametrize(("filters", "partitions", "unpruned"), [
    ("[]", 30, []),
    ("[isnotnull(dt#2)]", 30, ["isnotnull(dt#2)"]),
    ("[isnotnull(dt#2), (dt#2 = 2024-01-15)]", 1, None),
    ("[dynamicpruningexpression(dt#2 IN dynamicpruning#9)]", 30, None),
    ("[]", None, None),  # no "number of partitions read": the relation is not partitioned
    ("[isnotnull(dt#2), (dt#2 >= 2024-01-10)...]", 30, None),  # truncated: unknown
])
def test_unpruned_filters(filters: str, partitions: int | None, unpruned: list[str] | None) -> None:
    assert full_scan.unpruned_filters(scan(filters=filters, partitions=partitions)) == unpruned


def test_partition_paths_read_with_base_path_are_pruned() -> None:
    by_path = scan(partitions=12)
    location = "InMemoryFileIndex(12 paths)[s3://b/sales/dt=2024-01-01, s3://b/sales/dt=2024-01-02, ...]"
    by_path = PlanNode(3, by_path.name, by_path.description, {**by_path.metadata, "Location": location},
                       by_path.metrics)
    assert full_scan.unpruned_filters(by_path) is None


def test_plan_fields_from_metadata_or_description() -> None:
    gpu = node(1, "GpuScan parquet ", {"number of files read": 3, "partitions": 3},
               description="GpuFileGpuScan parquet [a#1,d#2] Batched: true, DataFilters: [], "
                           "Format: Parquet, Location: InMemoryFileIndex[gs://b/t], PartitionFilters: [], "
                           "PushedFilters: [(a > 1)]")
    assert plan_field(gpu, "PartitionFilters") == "[]" and plan_field(gpu, "PushedFilters") == "[(a > 1)]"
    assert full_scan.unpruned_filters(gpu) == [] and scan_key(gpu) == "gs://b/t"
    assert filter_list("[isnotnull(d#2), (d#2 IN (1,2))]") == ["isnotnull(d#2)", "(d#2 IN (1,2))"]
    assert prunes_nothing([]) and not prunes_nothing(["(d#2 = 1)"])
    assert pretty("(abs((a_v#2L - b_v#5L)) <= 2)") == "(abs((a_v - b_v)) <= 2)"
    assert human_bytes(4_900_132) == "4.7 MiB" and human_bytes(512) == "512 B"


def test_partition_columns_from_all_evidence() -> None:
    full = scan()
    pruned = scan(node_id=7, partitions=1, filters="[isnotnull(hour#9), (hour#9 = 3)]", output="amount#1")
    pruned = PlanNode(7, pruned.name, pruned.description, {**pruned.metadata, "Location":
                      "InMemoryFileIndex(1 paths)[s3://b/sales/dt=2024-01-15/hour=3]"}, pruned.metrics)
    app = app_of((sql_of(full), sql_of(pruned, execution_id=2)))
    assert partition_columns(app, "db.sales", [full]) == ["dt", "hour"]
    assert example_filter(app, "db.sales", ["dt"]) == "WHERE dt = '2024-01-15'"
    assert example_filter(app, "db.sales", ["hour"]) == "WHERE hour = '3'"
    assert example_filter(app, "db.sales", []) == "WHERE <partition column> = <value>"


def test_scan_task_time_by_matched_stage() -> None:
    plan = sql_of(
        node(0, "Exchange", {"shuffle records written": 30}, children=(1,)),
        node(1, "HashAggregate", children=(2,)), node(2, "Filter", children=(3,)), scan(),
    )
    matched, other = stage(5, 4000, shuffle_write_records=30, input_bytes=900), stage(6, 100, input_bytes=10)
    app = app_of((plan,), (matched, other))
    assert stage_of(app, plan, plan.nodes[3]) == matched
    assert scan_task_ms(app, plan) == {3: 4000.0}
    ambiguous = app_of((plan,), (matched, stage(7, 50, shuffle_write_records=30)))
    assert stage_of(ambiguous, plan, plan.nodes[3]) is None
    assert scan_task_ms(ambiguous, plan) == {3: 4000.0}  # falls back to the stages that read input


def test_small_files_measure_is_exact() -> None:
    write = node(0, "Execute InsertIntoHadoopFsRelationCommand",
                 {"number of written files": 240, "written output": 240 * 2048, "number of dynamic part": 60},
                 description="Execute InsertIntoHadoopFsRelationCommand s3://b/ev, false, [k#1L], Parquet")
    m = small_files.measure(write, task_ms=1000.0)
    assert m is not None
    assert (m.files, m.total_bytes, m.avg_file_bytes) == (240, 491520, 2048)
    assert (m.partitions, m.target_files) == (60, 60)
    expected = 180 * 4 * MiB / (491520 + 240 * 4 * MiB)
    assert m.overhead_fraction == pytest.approx(expected) and m.avoidable_ms == pytest.approx(1000 * expected)
    unpartitioned = small_files.count_measure(files=400, size=300 * MiB, partitions=0, task_ms=10.0,
                                              open_cost=4 * MiB, target_file_bytes=128 * MiB)
    assert unpartitioned.target_files == 3  # ceil(300 / 128)
    assert small_files.measure(node(1, "Scan orc ", {"number of files": 75}), 1.0) is None  # Spark 2.x
    assert small_files.measure(node(2, "Project"), 1.0) is None


def cartesian_plan(name: str = "CartesianProduct", left: PlanNode | None = None,
                   right: PlanNode | None = None) -> SqlExecution:
    return sql_of(
        node(0, "Exchange", {"shuffle records written": 4}, children=(1,)),
        node(1, name, {"number of output rows": 19_976}, children=(2, 3),
             description=f"{name} (abs((a_v#2L - b_v#5L)) <= 2)"),
        left or node(2, "Filter", {"number of output rows": 4000}),
        right or node(3, "Filter", {"number of output rows": 4000}),
    )


def test_cartesian_measure_divides_recomputed_inputs() -> None:
    plan = cartesian_plan()
    join_stage = stage(0, 5000, tasks=4, shuffle_write_records=4)
    assert stage_of(app_of((plan,), (join_stage,)), plan, plan.nodes[1]) == join_stage
    m = cartesian_join.measure(plan, plan.nodes[1], join_stage)
    assert (m.left_rows, m.right_rows, m.recompute_divisor, m.pairs) == (4000, 4000, 4, 4_000_000)
    assert m.waste_fraction == pytest.approx(1 - (4000 + 4000 + 19_976) / 4_000_000)
    assert m.avoidable_ms == pytest.approx(5000 * m.waste_fraction)
    assert cartesian_join.join_condition(plan.nodes[1]) == "(abs((a_v#2L - b_v#5L)) <= 2)"


def test_nested_loop_join_inputs_are_exact() -> None:
    broadcast = node(3, "BroadcastExchange", {"number of output rows": 50})
    plan = cartesian_plan("BroadcastNestedLoopJoin", right=broadcast)
    m = cartesian_join.measure(plan, plan.nodes[1], stage(0, 1000, tasks=4))
    assert (m.left_rows, m.right_rows, m.recompute_divisor, m.pairs) == (4000, 50, 1, 200_000)
    bnlj = node(9, "BroadcastNestedLoopJoin", description="BroadcastNestedLoopJoin BuildRight, Cross")
    assert cartesian_join.join_condition(bnlj) == ""
    assert cartesian_join.join_condition(node(9, "BroadcastNestedLoopJoin", description=(
        "BroadcastNestedLoopJoin BuildLeft, LeftOuter, ((a#1 >= lo#2) AND (a#1 < hi#3))"))) == (
        "((a#1 >= lo#2) AND (a#1 < hi#3))")


def test_broadcast_measure_is_exact() -> None:
    exchange = node(4, "BroadcastExchange", {"data size": 600 * MiB, "number of output rows": 9,
                                             "time to collect": 2000, "time to build": 1000,
                                             "time to broadcast": 500})
    m = large_broadcast.measure(exchange, executors=10, cores_per_executor=4, memory_bytes=4 * GiB)
    assert m.memory_ratio == pytest.approx(600 / 4096) and (m.collect_ms, m.driver_only_ms) == (2000, 1500)
    assert m.idle_core_seconds == pytest.approx(10 * 4 * 1.5)
    assert m.copy_core_seconds == pytest.approx(9 * 4 * 600 / 100)
    old = node(5, "BroadcastExchange", {"data size (bytes)": 168, "time to build (ms)": 7})  # Spark 2.x names
    assert large_broadcast.measure(old, 0, 2, GiB).driver_only_ms == 7


def test_broadcast_threshold_and_cluster_shape() -> None:
    config = large_broadcast.LargeBroadcast.Config()
    assert large_broadcast.recommended_threshold(GiB, 2 * GiB, config) == 204 * MiB
    assert large_broadcast.recommended_threshold(GiB, 16 * GiB, config) == 256 * MiB
    assert large_broadcast.recommended_threshold(10 * MiB, 2 * GiB, config) == 10 * MiB
    assert large_broadcast.recommended_threshold(-1, 2 * GiB, config) == 10 * MiB
    local = app_of(master="local[2]", properties={"spark.driver.memory": "2g"})
    assert large_broadcast.cluster_shape(local) == (0, 2, 2 * GiB)
    cluster = app_of(executors=3, properties={"spark.driver.memory": "8g", "spark.executor.memory": "6g"})
    assert large_broadcast.cluster_shape(cluster) == (3, 4, 6 * GiB)
    disabled = app_of(properties={"spark.sql.autoBroadcastJoinThreshold": "-1"})
    assert large_broadcast.current_threshold(disabled) == -1


def test_runtime_set_broadcast_threshold_wins_over_launch_value() -> None:
    app = app_of(properties={"spark.sql.autoBroadcastJoinThreshold": "10m"})
    query = SqlExecution(execution_id=1, description="q", start_time_ms=0, end_time_ms=1,
                         physical_plan="", nodes=(), job_ids=(),
                         modified_configs={"spark.sql.autoBroadcastJoinThreshold": "1g"})
    assert large_broadcast.current_threshold(app, query) == GiB
    assert large_broadcast.current_threshold(app) == 10 * MiB


def test_plan_nodes_know_their_stage_from_the_log() -> None:
    app = analyze_spark_logs([str(DATA / "scenarios" / "sql" / "cross-join")]).applications[0]
    located = [(q, n) for q in app.sql_executions for n in q.nodes if len(n.stage_ids) == 1]
    assert located
    for query, node in located:
        stage = stage_of(app, query, node)
        assert stage is not None and stage.stage_id == node.stage_ids[0]


# --- default thresholds at their boundaries --------------------------------------------------------------


def run(rule: Any, app: Application) -> list[Finding]:
    return list(rule().check(app, rule.default_config()))


@pytest.mark.parametrize(("size", "partitions", "severity"), [
    (GiB - 1, 30, "info"), (GiB, 30, "low"), (10 * GiB, 30, "medium"), (1024 * GiB, 30, "critical"),
    (10 * GiB, 9, "info"), (10 * GiB, 10, "medium"),
    (10 * GiB, 1, None),  # one partition: nothing to prune
])
def test_full_scan_boundaries(size: int, partitions: int, severity: str | None) -> None:
    app = app_of((sql_of(scan(size=size, partitions=partitions)),), (stage(1, 1000, input_bytes=size),))
    assert [f.severity for f in run(full_scan.FullScan, app)] == ([severity] if severity else [])


@pytest.mark.parametrize(("files", "avg", "severity"), [
    (100, 3 * MiB, "low"), (99, 3 * MiB, "info"), (100, 3 * MiB + 1, None),
    (3, 1024, None),  # 3 files of 1 KiB: no more files than the one a partition needs
    (1000, MiB, "medium"), (1000, 64 * 1024, "medium"), (100_000, 64 * 1024, "critical"),
])
def test_small_files_boundaries(files: int, avg: int, severity: str | None) -> None:
    plan = sql_of(scan(files=files, size=files * avg, partitions=None))
    app = app_of((plan,), (stage(1, 1000, input_bytes=1),))
    assert [f.severity for f in run(small_files.SmallFiles, app)] == ([severity] if severity else [])


@pytest.mark.parametrize(("left", "right", "severity"), [
    (1000, 99, None),  # 99,000 pairs: below 1e9 even at 100x the rows on each side (1e4 x the pairs)
    (1000, 100, "info"),  # 100,000 pairs: 1e9 at 100x the rows on each side
    (99_999, 10_000, "info"), (100_000, 10_000, "low"), (100_000, 100_000, "medium"),
    (10**6, 10**6, "critical"),
])
def test_cartesian_boundaries(left: int, right: int, severity: str | None) -> None:
    plan = cartesian_plan("BroadcastNestedLoopJoin", node(2, "Range", {"number of output rows": left}),
                          node(3, "BroadcastExchange", {"number of output rows": right}))
    app = app_of((plan,), (stage(1, 1000, shuffle_write_records=4),))
    assert [f.severity for f in run(cartesian_join.CartesianJoin, app)] == ([severity] if severity else [])


@pytest.mark.parametrize(("size", "heap", "severity"), [
    (256 * MiB - 1, 16 * GiB, None), (256 * MiB, 16 * GiB, "low"), (GiB, 16 * GiB, "medium"),
    (200 * MiB, 2000 * MiB, "low"), (200 * MiB, 1000 * MiB, "medium"), (200 * MiB, 400 * MiB, "critical"),
])
def test_large_broadcast_boundaries(size: int, heap: int, severity: str | None) -> None:
    plan = sql_of(node(0, "BroadcastExchange", {"data size": size}))
    app = app_of((plan,), master="local[4]", properties={"spark.driver.memory": f"{heap // MiB}m"})
    assert [f.severity for f in run(large_broadcast.LargeBroadcast, app)] == ([severity] if severity else [])


# --- the shared corpus: real plans from Spark 2.2 to 3.5, Photon and RAPIDS ------------------------------


def test_corpus_full_scans_are_the_unpruned_fact_tables(shared_events) -> None:
    base = shared_events / "NVIDIA-spark-rapids-tools/core/src/test/resources"
    logs = [base / "spark-events-qualification/nds_q72_dataproc_2_2.zstd",
            base / "spark-events-qualification/nds_q88_photon_db_13_3.zstd",
            base / "spark-events-profiling/nds_q66_gpu.zstd",
            base / "spark-events-profiling/spark2-eventlog.zstd"]
    report = analyze_spark_logs([str(p) for p in logs])
    got = {(f.subject["table"].rsplit("/", 1)[-1], f.severity, tuple(f.evidence["partition_columns"]))
           for f in report.findings if f.rule_id == "spark.full-scan"}
    assert got == {("catalog_returns", "medium", ("cr_returned_date_sk",)),
                   ("inventory", "low", ("inv_date_sk",)),  # only isnotnull(inv_date_sk): prunes nothing
                   ("store_sales", "critical", ("ss_sold_date_sk",))}  # Photon: "partitions read", 8 scans
    assert not [f for f in report.findings if f.rule_id in MY_RULES - {"spark.full-scan"}]
