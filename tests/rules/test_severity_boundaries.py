"""Rule severities at their exact boundaries, through each rule's public ``check()``.

Why: a threshold compared with ``>`` instead of ``>=``, or a damping floor off by one,
changes what users are told to fix and what ``--fail-on`` gates, and a test on a real log
whose value sits far from any boundary cannot tell. Each case below builds a model whose
measured value lands exactly on a boundary (or one unit below it) and states the expected
severity and evidence, computed by hand from the rule's documented formula: spill ratio =
memory spilled / (input + shuffle read); GC share = GC time / executor run time;
SELECT * avoidable fraction = 1 − assumed needed columns / table columns.

A measurement below a damping floor may be dropped or reported as an ``info`` early
warning (with no saving); both are accepted, a graded severity is not.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Quantiles, Stage, StageMetrics, TaskDistributions
from analyzer.core.warehouse_model import QueryRecord, TableStorage, WarehouseHistory
from rules.spark.gc_pressure import GcPressure
from rules.spark.spill import StageSpill
from rules.warehouse.select_star import SelectStar

MiB, GiB, TiB = 1024**2, 1024**3, 1024**4
T0 = 1_767_571_200_000


def stage(metrics: StageMetrics, tasks: int = 8) -> Stage:
    q = Quantiles(1, 1, 1, 1, 1)
    return Stage(stage_id=3, attempt_id=0, name="agg", status="COMPLETE", num_tasks=tasks,
                 num_complete_tasks=tasks, num_failed_tasks=0, num_killed_tasks=0, num_speculative_tasks=0,
                 submission_time_ms=T0, first_task_launched_time_ms=T0, completion_time_ms=T0 + 60_000,
                 failure_reason=None, parent_stage_ids=(), job_ids=(0,), metrics=metrics,
                 tasks=TaskDistributions(tasks, q, q, q, q, q, q, q, q), task_durations_ms=(1000,) * tasks)


def app(*stages: Stage) -> Application:
    """A YARN application of 4-core executors with a 4 GiB heap."""
    return Application(app_id="app-9", attempt_id=None, name="etl", user="u", spark_version="3.5.1",
                       master="yarn", start_time_ms=T0, end_time_ms=T0 + 3_600_000, complete=True, source="x",
                       properties={"spark.executor.memory": "4g", "spark.executor.cores": "4"},
                       executors=(Executor("driver", "d", 0, T0), Executor("1", "h", 4, T0, T0 + 3_600_000)),
                       stages=stages)


def graded(findings: list[Finding]) -> list[str]:
    """Severities that count: info early warnings (below a damping floor) are left out."""
    return [f.severity for f in findings if f.severity != "info"]


def assert_damped(findings: list[Finding]) -> None:
    assert graded(findings) == []
    assert all(f.estimated_savings_usd == 0 and not f.avoidable_core_hours for f in findings)


# --- spark.spill: ratio 0.1 / 0.5 / 1.0 / 3.0, at least 100 MiB spilled to disk -------------------

DATA = 1000 * MiB  # input + shuffle read of the stage


def spill(memory_spilled: int, disk_spilled: int = 200 * MiB, **config: Any) -> list[Finding]:
    metrics = StageMetrics(input_bytes=600 * MiB, shuffle_read_bytes=400 * MiB,
                           memory_bytes_spilled=memory_spilled, disk_bytes_spilled=disk_spilled)
    return list(StageSpill().check(app(stage(metrics)), StageSpill.Config(**config)))


@pytest.mark.parametrize(("memory_spilled", "expected"), [
    (DATA // 10 - 1, []), (DATA // 10, ["low"]),
    (DATA // 2 - 1, ["low"]), (DATA // 2, ["medium"]),
    (DATA - 1, ["medium"]), (DATA, ["high"]),
    (3 * DATA - 1, ["high"]), (3 * DATA, ["critical"]),
])
def test_spill_ratio_boundaries(memory_spilled: int, expected: list[str]) -> None:
    assert graded(spill(memory_spilled)) == expected


def test_spill_evidence_and_saving_by_hand() -> None:
    (f,) = spill(DATA // 2, disk_spilled=200 * MiB)
    assert f.rule_id == "spark.spill" and f.subject["stage_id"] == 3 and f.subject["app_id"] == "app-9"
    ev = f.evidence
    assert ev["memory_spilled_bytes"] == 500 * MiB and ev["disk_spilled_bytes"] == 200 * MiB
    assert ev["stage_data_bytes"] == DATA and ev["spill_ratio"] == 0.5
    assert ev["spill_per_task_bytes"] == 500 * MiB // 8
    # Unified memory per task: (4096 MiB heap - 300 MiB reserved) x 0.6 / 4 cores.
    assert ev["execution_memory_per_task_bytes"] == int((4096 - 300) * MiB * 0.6 / 4)
    # 200 MiB written and read back at 100 MiB/s: 4 core-seconds.
    assert f.avoidable_core_hours == pytest.approx(4 / 3600)


def test_spill_damping_floor_is_inclusive() -> None:
    assert graded(spill(DATA, disk_spilled=100 * MiB)) == ["high"]
    assert_damped(spill(DATA, disk_spilled=100 * MiB - 1))
    assert spill(DATA, disk_spilled=0) == []


def test_spill_thresholds_come_from_the_config() -> None:
    from rules.engine import Thresholds

    strict = Thresholds(low=0.01, medium=0.02, high=0.03, critical=0.04)
    assert graded(spill(DATA // 25, ratio=strict)) == ["critical"]  # 0.04
    assert graded(spill(DATA // 25 - 1, ratio=strict)) == ["high"]


def test_spill_without_data_read_counts_any_spill_as_ratio_one() -> None:
    metrics = StageMetrics(memory_bytes_spilled=5 * MiB, disk_bytes_spilled=200 * MiB)
    (f,) = StageSpill().check(app(stage(metrics)), StageSpill.Config())
    assert f.severity == "high" and f.evidence["spill_ratio"] == 1.0


# --- spark.gc-pressure: share 0.08 / 0.1 / 0.15 / 0.2 of run time, 300 s of task time ---------------

RUN_MS = 1_000_000  # 1000 s of executor run time


def gc(gc_ms: int, run_ms: int = RUN_MS) -> list[Finding]:
    metrics = StageMetrics(executor_run_time_ms=run_ms, jvm_gc_time_ms=gc_ms)
    return list(GcPressure().check(app(stage(metrics)), GcPressure.Config()))


@pytest.mark.parametrize(("gc_ms", "expected"), [
    (79_999, []), (80_000, ["low"]), (99_999, ["low"]), (100_000, ["medium"]),
    (149_999, ["medium"]), (150_000, ["high"]), (199_999, ["high"]), (200_000, ["critical"]),
])
def test_gc_share_boundaries(gc_ms: int, expected: list[str]) -> None:
    assert graded(gc(gc_ms)) == expected


def test_gc_evidence_and_saving_by_hand() -> None:
    (f,) = gc(150_000)
    assert f.evidence["gc_time_ms"] == 150_000 and f.evidence["executor_run_time_ms"] == RUN_MS
    assert f.evidence["gc_share"] == 0.15
    # GC above the healthy 5 %: 150 s - 0.05 x 1000 s = 100 core-seconds.
    assert f.avoidable_core_hours == pytest.approx(100 / 3600)


def test_gc_damping_floor_is_inclusive() -> None:
    assert graded(gc(60_000, run_ms=300_000)) == ["critical"]  # 300 s exactly, share 0.2
    assert_damped(gc(60_000, run_ms=299_999))


# --- warehouse.select-star: avoidable fraction 0.5 / 0.7 / 0.85 / 0.95, at least 1 GiB read ----------


def star(columns: int, needed: int = 10, billed: int = 2 * TiB, **config: Any) -> list[Finding]:
    job = QueryRecord(vendor="bigquery", query_id="j1", start_time_ms=T0, end_time_ms=T0 + 60_000,
                      status="DONE", query_text="SELECT * FROM `p.d.events` WHERE day = '2026-01-01'",
                      statement_type="SELECT", project="p", bytes_scanned=billed, bytes_billed=billed,
                      slot_ms=1000, job_type="QUERY", referenced_tables=("p.d.events",))
    history = WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0,
                               window_end_ms=T0 + 86_400_000, queries=(job,),  # type: ignore[arg-type]
                               tables=(TableStorage("p.d.events", 4 * TiB, column_count=columns),))
    return list(SelectStar().check(history, SelectStar.Config(assumed_needed_columns=needed, **config)))


@pytest.mark.parametrize(("columns", "needed", "expected"), [
    (19, 10, []), (20, 10, ["low"]),  # 1 - 10/20 = 0.5
    (9, 3, ["low"]), (10, 3, ["medium"]),  # 0.667; 1 - 3/10 = 0.7
    (19, 3, ["medium"]), (20, 3, ["high"]),  # 0.842; 1 - 3/20 = 0.85
    (19, 1, ["high"]), (20, 1, ["critical"]),  # 0.947; 1 - 1/20 = 0.95
])
def test_select_star_fraction_boundaries(columns: int, needed: int, expected: list[str]) -> None:
    assert graded(star(columns, needed)) == expected


def test_select_star_evidence_and_usage_by_hand() -> None:
    (f,) = star(40)
    assert f.subject["table"] == "p.d.events" and f.subject["project"] == "p"
    ev = f.evidence
    assert (ev["queries"], ev["column_count"], ev["assumed_needed_columns"]) == (1, 40, 10)
    assert ev["scanned_bytes_total"] == 2 * TiB and ev["avoidable_fraction"] == 0.75
    assert "2026-01-01" not in str(ev["example_sql"])  # literals masked in evidence
    # 2 TiB billed on demand, three quarters of it avoidable.
    assert f.avoidable_usage == {"tib_billed": pytest.approx(1.5)}


def test_select_star_damping_floor_is_inclusive() -> None:
    assert graded(star(40, billed=GiB)) == ["medium"]  # 0.75
    assert_damped(star(40, billed=GiB - 1))


def test_spill_recommendation_figures_by_hand() -> None:
    (f,) = spill(DATA // 2)
    # Working set per task: 569.4 MiB of execution memory + 62.5 MiB spilled (500 MiB / 8 tasks);
    # heap that fits 4 of them: 300 MiB + 4 x 631.9 MiB / 0.6 = 4512.7 MiB, rounded up.
    assert "--conf spark.executor.memory=4513m (from 4g)" in f.recommendation
    assert "569.4 MiB of execution memory" in f.recommendation and "spilled 62.5 MiB" in f.recommendation


def test_gc_recommendation_states_the_heap_per_task() -> None:
    (f,) = gc(150_000)
    assert "--conf spark.executor.memory=" in f.recommendation
    assert "1,024 MiB per concurrent task" in f.recommendation  # 4 GiB heap / 4 cores


# --- measure() and check() details (each test kills mutants that once survived) ------------------


def stage_n(stage_id: int, metrics: StageMetrics, tasks: int = 8, failed: int = 0) -> Stage:
    return dataclasses.replace(stage(metrics, tasks), stage_id=stage_id, num_complete_tasks=tasks - failed,
                               num_failed_tasks=failed)


def check_spill(*stages: Stage) -> list[Finding]:
    return list(StageSpill().check(app(*stages), StageSpill.Config()))


def test_spill_per_task_counts_failed_attempts_and_a_single_task() -> None:
    metrics = StageMetrics(input_bytes=DATA, memory_bytes_spilled=DATA, disk_bytes_spilled=200 * MiB)
    (f,) = check_spill(stage_n(3, metrics, tasks=8, failed=2))
    assert f.evidence["spill_per_task_bytes"] == DATA // 8  # 6 complete + 2 failed attempts
    (f,) = check_spill(stage_n(3, metrics, tasks=1))
    assert f.evidence["spill_per_task_bytes"] == DATA


def test_spill_without_data_read_or_spilled() -> None:
    one_byte = StageMetrics(memory_bytes_spilled=1, disk_bytes_spilled=200 * MiB)
    assert [f.severity for f in check_spill(stage_n(3, one_byte))] == ["high"]  # ratio 1
    nothing = StageMetrics(memory_bytes_spilled=0, disk_bytes_spilled=200 * MiB)
    assert check_spill(stage_n(3, nothing)) == []  # ratio 0


def test_spill_keeps_judging_stages_after_one_below_the_thresholds() -> None:
    small = StageMetrics(input_bytes=DATA, memory_bytes_spilled=DATA // 20, disk_bytes_spilled=200 * MiB)
    big = StageMetrics(input_bytes=DATA, memory_bytes_spilled=DATA, disk_bytes_spilled=200 * MiB)
    found = check_spill(stage_n(1, small), stage_n(2, big))
    assert [(f.subject["stage_id"], f.severity) for f in found] == [(2, "high")]


def test_spill_below_the_floor_is_an_early_warning_with_its_graded_severity() -> None:
    metrics = StageMetrics(input_bytes=DATA, memory_bytes_spilled=DATA, disk_bytes_spilled=1)
    (f,) = check_spill(stage_n(3, metrics))
    assert f.severity == "info" and f.avoidable_core_hours == 0
    assert f.evidence["early_warning"]["graded_severity"] == "high"  # type: ignore[index]
    assert "100×" in f.scale_note and "None" not in f.scale_note


def check_gc(*stages: Stage) -> list[Finding]:
    return list(GcPressure().check(app(*stages), GcPressure.Config()))


def test_gc_without_run_time_is_no_finding() -> None:
    assert check_gc(stage_n(3, StageMetrics())) == []


def test_gc_application_finding_lists_its_worst_stages() -> None:
    (f,) = check_gc(stage_n(3, StageMetrics(executor_run_time_ms=RUN_MS, jvm_gc_time_ms=200_000)),
                    stage_n(4, StageMetrics(executor_run_time_ms=RUN_MS, jvm_gc_time_ms=100_000)))
    assert f.subject.get("stage_id") is None and f.severity == "high"  # 300 s / 2000 s = 0.15
    worst = cast("list[dict[str, object]]", f.evidence["worst_stages"])
    assert [s["stage_id"] for s in worst] == [3, 4]


def test_gc_damping_names_the_task_time_it_saw() -> None:
    (f,) = gc(30_000, run_ms=150_000)
    assert f.severity == "info"
    assert "150.0 s of task run time (min_app_run_seconds 300)" in str(f.evidence["early_warning"])


def test_gc_large_stages_are_judged_alone_from_300_seconds_of_task_time() -> None:
    at_floor = stage_n(1, StageMetrics(executor_run_time_ms=300_000, jvm_gc_time_ms=60_000))  # 0.2
    below = stage_n(2, StageMetrics(executor_run_time_ms=299_999, jvm_gc_time_ms=60_000))
    healthy = stage_n(3, StageMetrics(executor_run_time_ms=3_000_000, jvm_gc_time_ms=0))
    found = [f for f in check_gc(at_floor, below, healthy) if f.severity != "info"]
    assert [(f.subject.get("stage_id"), f.severity) for f in found] == [(1, "critical")]


def test_select_star_measure_of_one_query() -> None:
    from rules.warehouse.select_star import measure

    storage = TableStorage("p.d.Events", 4 * TiB, column_count=40)
    bq = QueryRecord(vendor="bigquery", query_id="j", start_time_ms=T0, end_time_ms=T0 + 1, status="DONE",
                     bytes_scanned=7 * GiB, bytes_billed=5 * GiB)
    m = measure(bq, "events", storage, 10)
    assert (m.table, m.column_count, m.scanned_bytes) == ("p.d.Events", 40, 5 * GiB)
    assert m.avoidable_fraction == 0.75
    unbilled = dataclasses.replace(bq, bytes_billed=None)
    assert measure(unbilled, "events", storage, 10).scanned_bytes == 7 * GiB
    sf = dataclasses.replace(bq, vendor="snowflake", bytes_billed=3 * GiB)  # Snowflake bills time, not bytes
    assert measure(sf, "events", storage, 10).scanned_bytes == 7 * GiB
    unknown = measure(bq, "events", None, 10)
    assert (unknown.table, unknown.column_count, unknown.avoidable_fraction) == ("events", None, 0.0)


def star_history(*jobs: QueryRecord, tables: tuple[TableStorage, ...]) -> list[Finding]:
    history = WarehouseHistory(vendor=jobs[0].vendor, source="hand", window_start_ms=T0,
                               window_end_ms=T0 + 86_400_000, queries=jobs, tables=tables)  # type: ignore[arg-type]
    return list(SelectStar().check(history, SelectStar.Config()))


def job(qid: str, text: str, billed: int | None = 2 * TiB, scanned: int = 2 * TiB) -> QueryRecord:
    return QueryRecord(vendor="bigquery", query_id=qid, start_time_ms=T0, end_time_ms=T0 + 60_000,
                       status="DONE", query_text=text, statement_type="SELECT", project="p",
                       bytes_scanned=scanned, bytes_billed=billed, slot_ms=1000, job_type="QUERY")


def test_select_star_of_two_tables_in_one_query_is_two_findings() -> None:
    tables = (TableStorage("p.d.a", TiB, column_count=40), TableStorage("p.d.b", TiB, column_count=20),
              TableStorage("p.d.c", TiB, column_count=12))
    found = star_history(job("j1", "SELECT * FROM `p.d.c` UNION ALL SELECT * FROM `p.d.a` "
                                   "UNION ALL SELECT * FROM `p.d.b`"),
                         job("j2", "SELECT x FROM `p.d.a`"), tables=tables)
    graded_only = [f for f in found if f.severity != "info"]
    by_table = {f.subject["table"]: (f.severity, f.evidence["column_count"], f.evidence["queries"],
                                     f.evidence["scanned_bytes_total"]) for f in graded_only}
    assert by_table == {"p.d.a": ("medium", 40, 1, 2 * TiB), "p.d.b": ("low", 20, 1, 2 * TiB)}  # c: 0.17


def test_select_star_reads_unbilled_bigquery_and_snowflake_bytes_scanned() -> None:
    tables = (TableStorage("p.d.a", TiB, column_count=40),)
    (f,) = star_history(job("j1", "SELECT * FROM `p.d.a`", billed=None, scanned=3 * GiB), tables=tables)
    assert f.evidence["scanned_bytes_total"] == 3 * GiB
    sf = dataclasses.replace(job("q1", "SELECT * FROM p.d.a", billed=None, scanned=3 * GiB),
                             vendor="snowflake", project=None, warehouse="WH", warehouse_size="X-Small",
                             slot_ms=None)
    (g,) = star_history(sf, tables=tables)
    assert g.evidence["scanned_bytes_total"] == 3 * GiB and g.subject["warehouse"] == "WH"


def test_select_star_of_a_table_of_unknown_width_is_not_measured() -> None:
    (f,) = star_history(job("j1", "SELECT * FROM `p.d.a`"), tables=(TableStorage("p.d.a", TiB),))
    assert f.severity == "info" and not f.avoidable_usage and f.estimated_savings_usd == 0
    assert f.subject["table"] == "p.d.a"
    assert f.scale_note == (
        "Not measured: the table's column count is not in the export (no table storage row with "
        "column_count), so the columns read needlessly cannot be counted. Export the table's size and "
        "columns (TABLE_STORAGE, INFORMATION_SCHEMA.COLUMNS) to size it.")
    (g,) = star_history(job("j1", "SELECT * FROM `p.d.zzz`"), tables=())  # no storage row at all
    assert g.severity == "info" and g.subject["table"] == "p.d.zzz"


def test_select_star_items_of_several_texts_map_to_their_own_tables() -> None:
    tables = (TableStorage("p.d.a", TiB, column_count=40), TableStorage("p.d.b", TiB, column_count=20),
              TableStorage("p.d.c", TiB, column_count=100))
    found = star_history(job("j1", "SELECT * FROM `p.d.c`", billed=TiB, scanned=TiB),
                         job("j2", "SELECT * FROM `p.d.a` UNION ALL SELECT * FROM `p.d.b`"),
                         job("j3", "SELECT * FROM `p.d.b`", billed=3 * TiB, scanned=3 * TiB), tables=tables)
    by_table = {f.subject["table"]: (f.severity, f.evidence["queries"], f.evidence["scanned_bytes_total"])
                for f in found}
    assert by_table == {"p.d.c": ("high", 1, TiB), "p.d.a": ("medium", 1, 2 * TiB),  # 0.9, 0.75, 0.5
                        "p.d.b": ("low", 2, 5 * TiB)}


def test_select_star_bytes_are_billed_bytes_on_bigquery_and_scanned_bytes_on_snowflake() -> None:
    tables = (TableStorage("p.d.a", TiB, column_count=40),)
    (f,) = star_history(job("j1", "SELECT * FROM `p.d.a`", billed=5 * GiB, scanned=7 * GiB), tables=tables)
    assert f.evidence["scanned_bytes_total"] == 5 * GiB
    sf = dataclasses.replace(job("q1", "SELECT * FROM p.d.a", billed=5 * GiB, scanned=7 * GiB),
                             vendor="snowflake", project=None, warehouse="WH", warehouse_size="X-Small",
                             slot_ms=None)
    (g,) = star_history(sf, tables=tables)
    assert g.evidence["scanned_bytes_total"] == 7 * GiB
