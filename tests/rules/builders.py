"""Small builders for hand-built domain models, so a rule case states only what it is about.

Why: the rule cases in ``tests/rules/cases/*.toml`` pin exact severities and evidence values
computed by hand from the model they describe. Building a ``Stage`` or a ``WarehouseHistory``
field by field would bury the three numbers that matter under thirty defaults, so every
builder here fills each field with a neutral default (no spill, no GC, no failure, executors
alive for the whole run) and each case overrides only what its rule measures.

Times in the case files are seconds (``start``, ``end``) or milliseconds where the model
itself counts milliseconds (task durations); they are offsets from ``T0`` so that hand
arithmetic works with small numbers while the model still carries plausible epoch times.
Byte sizes may be written as integers or as strings with a binary unit (``"10 GiB"``,
``"1.5 MiB"``, ``"4 TiB - 1 GiB"``), because the boundaries are at round binary sizes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analyzer.core.model import (
    Application,
    Executor,
    Job,
    PlanNode,
    Quantiles,
    SqlExecution,
    Stage,
    StageMetrics,
    TaskDistributions,
)
from analyzer.core.warehouse_model import (
    MeteringHour,
    QueryRecord,
    TableStorage,
    WarehouseHistory,
    WarehouseSettings,
)

T0 = 1_793_577_600_000  # Monday 2026-11-02 00:00 UTC (the warehouse factory's week starts here too)
SECOND = 1000
HOUR = 3_600_000
DAY = 24 * HOUR
NONE = "<none>"  # TOML has no null: this string stands for None, in models and in expectations
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
_TERM = re.compile(r"\s*([+-]?)\s*([\d.]+)\s*(B|KiB|MiB|GiB|TiB)?\s*")

Spec = Mapping[str, Any]


def _known(spec: Spec, allowed: set[str], what: str) -> None:
    """Reject keys a builder does not read: a misspelt key in a case file must not pass silently."""
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)} (known: {sorted(allowed)})")


_STAGE_KEYS = {"id", "attempt", "name", "status", "tasks", "complete", "failed", "killed", "duration_ms",
               "start", "seconds", "task_ms", "metrics", "run_time_ms", "gc_ms", "input", "shuffle_read",
               "shuffle_write", "failure_causes", "failed_task_time_ms", "failure_reason", "parents", "jobs"}
_APP_KEYS = {"stages", "seconds", "executor", "executors", "cores", "driver_cores", "jobs", "sql", "app_id",
             "name", "spark_version", "master", "properties"}
_SQL_KEYS = {"id", "description", "seconds", "physical_plan", "nodes", "jobs", "modified_configs"}
_HISTORY_KEYS = {"vendor", "days", "queries", "metering", "simulate", "tables", "warehouses"}


def size(value: int | float | str) -> int:
    """Bytes from ``123``, ``"10 GiB"`` or a sum such as ``"4 TiB - 1 GiB"`` (case files' notation)."""
    if not isinstance(value, str):
        return int(value)
    total, pos = 0.0, 0
    while pos < len(value):
        match = _TERM.match(value, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read size {value!r}")
        sign = -1 if match.group(1) == "-" else 1
        total += sign * float(match.group(2)) * _UNITS[match.group(3) or "B"]
        pos = match.end()
    if total != int(total):
        raise ValueError(f"size {value!r} is not a whole number of bytes")
    return int(total)


def quantiles(value: float | str | Sequence[float | str] | None, *,
              is_bytes: bool = False) -> Quantiles | None:
    """A five-number summary from ``[min, p25, p50, p75, max]`` or one value for all five."""
    if value is None:
        return None
    convert = (lambda v: float(size(v))) if is_bytes else float
    if isinstance(value, int | float | str):
        return Quantiles(*([convert(value)] * 5))
    if len(value) != 5:
        raise ValueError(f"quantiles need five values (min, p25, p50, p75, max): {value!r}")
    return Quantiles(*(convert(v) for v in value))


# --- Spark --------------------------------------------------------------------------------------


def stage(spec: Spec, *, default_job: int = 0) -> Stage:
    """One stage attempt (the case files' ``[[case.model.stages]]`` tables).

    Keys: ``id``, ``attempt``, ``status``, ``tasks`` (num_tasks), ``complete``, ``failed``,
    ``killed``, ``start``/``seconds`` (submission offset and wall clock, s), ``duration_ms``,
    ``run_time_ms``, ``gc_ms``, ``input``, ``shuffle_read``, ``shuffle_write`` (per-task
    quantiles: five values or one), ``task_ms`` (every ended attempt's duration: a list, or
    ``[[ms, count], ...]``; default: ``tasks`` times the median duration), ``metrics`` (any
    ``StageMetrics`` field, sizes as strings allowed), ``failure_causes`` (``[[cause, n]]``),
    ``failed_task_time_ms``, ``failure_reason``, ``parents``, ``jobs``.
    """
    _known(spec, _STAGE_KEYS, "stage")
    tasks = int(spec.get("tasks", 100))
    failed = int(spec.get("failed", 0))
    complete = int(spec.get("complete", tasks if spec.get("status", "COMPLETE") == "COMPLETE" else 0))
    duration = quantiles(spec.get("duration_ms", 1000))
    start_ms = T0 + int(float(spec.get("start", 0)) * SECOND)
    end_ms = start_ms + int(float(spec.get("seconds", 60)) * SECOND)
    task_ms = _task_ms(spec.get("task_ms"), complete, duration)
    metric_values = {k: size(v) for k, v in dict(spec.get("metrics", {})).items()}
    metric_values.setdefault("executor_run_time_ms", int(spec.get("run_time_ms", sum(task_ms))))
    if "gc_ms" in spec:
        metric_values["jvm_gc_time_ms"] = int(spec["gc_ms"])
    return Stage(
        stage_id=int(spec.get("id", 0)), attempt_id=int(spec.get("attempt", 0)),
        name=str(spec.get("name", "stage")),
        status=str(spec.get("status", "COMPLETE")), num_tasks=tasks, num_complete_tasks=complete,
        num_failed_tasks=failed, num_killed_tasks=int(spec.get("killed", 0)), num_speculative_tasks=0,
        submission_time_ms=start_ms, first_task_launched_time_ms=start_ms, completion_time_ms=end_ms,
        failure_reason=spec.get("failure_reason"), parent_stage_ids=tuple(spec.get("parents", ())),
        job_ids=tuple(spec.get("jobs", (default_job,))), metrics=StageMetrics(**metric_values),
        tasks=TaskDistributions(
            count=complete, duration_ms=duration, executor_run_time_ms=duration,
            jvm_gc_time_ms=None,
            input_bytes=quantiles(spec.get("input"), is_bytes=True),
            shuffle_read_bytes=quantiles(spec.get("shuffle_read"), is_bytes=True),
            shuffle_write_bytes=quantiles(spec.get("shuffle_write"), is_bytes=True),
            memory_bytes_spilled=None, disk_bytes_spilled=None),
        task_durations_ms=task_ms,
        failure_causes=tuple((str(c), int(n)) for c, n in spec.get("failure_causes", ())),
        task_end_events=len(task_ms), failed_task_time_ms=int(spec.get("failed_task_time_ms", 0)),
    )


def _task_ms(spec: Any, complete: int, duration: Quantiles | None) -> tuple[int, ...]:
    """Every ended attempt's duration: explicit, run-length ``[[ms, n]]``, or ``complete`` x the median."""
    if spec is None:
        return (int(duration.p50),) * complete if duration is not None else ()
    out: list[int] = []
    for item in spec:
        if isinstance(item, list | tuple):
            out += [int(item[0])] * int(item[1])
        else:
            out.append(int(item))
    return tuple(out)


def executor(spec: Spec, app_end_s: float) -> Executor:
    """An executor: ``id``, ``cores``, ``add``/``remove`` (s after T0; remove defaults to none)."""
    _known(spec, {"id", "cores", "add", "remove"}, "executor")
    remove = spec.get("remove")
    return Executor(
        executor_id=str(spec["id"]), host=f"host-{spec['id']}", total_cores=int(spec.get("cores", 4)),
        add_time_ms=T0 + int(float(spec.get("add", 0)) * SECOND),
        remove_time_ms=None if remove is None else T0 + int(float(remove) * SECOND),
    )


def job(spec: Spec) -> Job:
    """A job: ``id``, ``start``/``end`` (s), ``stages``, optional ``sql`` execution id."""
    _known(spec, {"id", "status", "start", "end", "stages", "sql"}, "job")
    return Job(
        job_id=int(spec["id"]), status=str(spec.get("status", "SUCCEEDED")),
        submission_time_ms=T0 + int(float(spec["start"]) * SECOND),
        completion_time_ms=T0 + int(float(spec["end"]) * SECOND),
        stage_ids=tuple(spec.get("stages", ())), sql_execution_id=spec.get("sql"),
    )


def plan_node(spec: Spec) -> PlanNode:
    """A physical-plan node: ``id``, ``name``, ``description`` (default: the name), ``metadata``,
    ``metrics`` (sizes as strings allowed), ``children``, ``stages``."""
    _known(spec, {"id", "name", "description", "metadata", "metrics", "children", "stages"}, "plan node")
    return PlanNode(
        node_id=int(spec["id"]), name=str(spec["name"]),
        description=str(spec.get("description", spec["name"])),
        metadata=dict(spec.get("metadata", {})),
        metrics={k: size(v) for k, v in dict(spec.get("metrics", {})).items()},
        child_ids=tuple(spec.get("children", ())), stage_ids=tuple(spec.get("stages", ())),
    )


def sql_execution(spec: Spec) -> SqlExecution:
    """A SQL execution: ``id``, ``description``, ``jobs``, ``nodes``, ``modified_configs``."""
    _known(spec, _SQL_KEYS, "sql")
    return SqlExecution(
        execution_id=int(spec.get("id", 0)), description=str(spec.get("description", "query")),
        start_time_ms=T0, end_time_ms=T0 + int(float(spec.get("seconds", 60)) * SECOND),
        physical_plan=str(spec.get("physical_plan", "")),
        nodes=tuple(plan_node(n) for n in spec.get("nodes", ())), job_ids=tuple(spec.get("jobs", (0,))),
        modified_configs=dict(spec.get("modified_configs", {})),
    )


def spark_app(spec: Spec) -> Application:
    """A Spark application from a case's ``model`` table.

    Defaults: Spark 3.5.1 on YARN, ``executors`` (2) executors of ``cores`` (4) cores alive from
    the start to the end of the run, which lasts ``seconds`` (default: the last stage's end);
    one job 0 covering every stage unless ``jobs`` are given; a driver entry always present.
    """
    _known(spec, _APP_KEYS, "spark model")
    stages = [stage(s) for s in spec.get("stages", ())]
    last_end = max(((s.completion_time_ms or T0) - T0) / SECOND for s in stages) if stages else 60.0
    seconds = float(spec.get("seconds", last_end))
    if "executor" in spec:
        executors = [executor(e, seconds) for e in spec["executor"]]
    else:
        executors = [executor({"id": str(i + 1), "cores": spec.get("cores", 4)}, seconds)
                     for i in range(int(spec.get("executors", 2)))]
    driver = Executor(executor_id="driver", host="driver-host", total_cores=int(spec.get("driver_cores", 0)),
                      add_time_ms=T0)
    if "jobs" in spec:
        jobs = [job(j) for j in spec["jobs"]]
    else:
        jobs = [job({"id": 0, "start": 0, "end": seconds, "stages": [s.stage_id for s in stages],
                     "sql": 0 if spec.get("sql") else None})]
    return Application(
        app_id=str(spec.get("app_id", "application_1_0001")), attempt_id=None,
        name=str(spec.get("name", "case-app")), user="tester",
        spark_version=str(spec.get("spark_version", "3.5.1")), master=str(spec.get("master", "yarn")),
        start_time_ms=T0, end_time_ms=T0 + int(seconds * SECOND), complete=True, source="hand-built",
        properties={str(k): str(v) for k, v in spec.get("properties", {}).items()},
        executors=(driver, *executors), jobs=tuple(jobs), stages=tuple(stages),
        sql_executions=tuple(sql_execution(q) for q in spec.get("sql", ())),
    )


# --- Warehouses -----------------------------------------------------------------------------------


def _expand(spec: Spec) -> list[dict[str, Any]]:
    """A query spec repeated ``repeat`` times, ``every`` seconds apart (``{i}`` numbers ids and texts)."""
    repeat, every = int(spec.get("repeat", 1)), float(spec.get("every", 0))
    out = []
    for i in range(repeat):
        item = {k: v for k, v in spec.items() if k not in ("repeat", "every")}
        item["start"] = float(spec.get("start", 0)) + i * every
        item["id"] = str(spec.get("id", "q{i}")).replace("{i}", str(i))
        item["text"] = str(spec.get("text", "select 1")).replace("{i}", str(i))
        out.append(item)
    return out


_QUERY_KEYS = {f.name for f in dataclasses.fields(QueryRecord)} | {
    "start", "exec_s", "queued_s", "compile_s", "id", "text", "tables"}
_SIZE_FIELDS = ("bytes_scanned", "bytes_billed", "spilled_local_bytes", "spilled_remote_bytes")


def query(spec: Spec, vendor: str) -> QueryRecord:
    """One query: ``start`` (s after T0), ``exec_s`` (execution), ``queued_s``, ``compile_s``, and any
    ``QueryRecord`` field (sizes as strings allowed). Snowflake times follow QUERY_HISTORY: queue and
    compile precede execution; BigQuery jobs run ``exec_s`` from their start."""
    _known(spec, _QUERY_KEYS, "query")
    start = T0 + int(round(float(spec.get("start", 0)) * SECOND))
    execution = int(round(float(spec.get("exec_s", 10)) * SECOND))
    queued = int(round(float(spec.get("queued_s", 0)) * SECOND))
    compiling = int(round(float(spec.get("compile_s", 0)) * SECOND))
    own = ("start", "exec_s", "queued_s", "compile_s", "id", "text", "tables")
    fields: dict[str, Any] = {k: None if v == NONE else v for k, v in spec.items() if k not in own}
    for name in _SIZE_FIELDS:
        if fields.get(name) is not None:
            fields[name] = size(fields[name])
    end = start + queued + compiling + execution
    base: dict[str, Any] = dict(
        vendor=vendor, query_id=str(spec.get("id", "q")), start_time_ms=start, end_time_ms=end,
        status="SUCCESS" if vendor == "snowflake" else "DONE", query_text=str(spec.get("text", "select 1")),
        statement_type="SELECT", total_elapsed_ms=end - start, execution_ms=execution,
        referenced_tables=tuple(spec.get("tables", ())),
    )
    if vendor == "snowflake":
        base.update(warehouse="WH", warehouse_size="Medium", warehouse_type="STANDARD",
                    compilation_ms=compiling, queued_overload_ms=queued, queued_provisioning_ms=0)
    else:
        base.update(project="acme", job_type="QUERY")
    base.update(fields)
    return QueryRecord(**base)


def metering_hours(spec: Sequence[Spec]) -> tuple[MeteringHour, ...]:
    """Hourly metering rows: ``warehouse``, ``hour`` (first hour's offset from T0, in hours), ``hours``
    (how many consecutive equal rows), ``compute`` and ``attributed`` credits per hour."""
    out = []
    for item in spec:
        _known(item, {"warehouse", "hour", "hours", "compute", "attributed"}, "metering")
        first = int(item.get("hour", 0))
        attributed = item.get("attributed")
        for h in range(first, first + int(item.get("hours", 1))):
            compute = float(item["compute"])
            out.append(MeteringHour(
                warehouse=str(item.get("warehouse", "WH")), start_time_ms=T0 + h * HOUR,
                end_time_ms=T0 + (h + 1) * HOUR, credits_used=compute, credits_compute=compute,
                credits_cloud_services=0.0,
                credits_attributed_queries=None if attributed is None else float(attributed)))
    return tuple(out)


def warehouse_history(spec: Spec) -> WarehouseHistory:
    """A warehouse history from a case's ``model`` table.

    ``vendor`` (snowflake), ``days`` (window length from T0; 7), ``queries`` (each with
    ``repeat``/``every`` to write a timer in one line), ``metering`` (see ``metering_hours``;
    ``metering = "simulate"`` uses ``tests/warehouse_history_factory.metering`` for the ``simulate``
    list of ``{name, size, auto_suspend_s}``, else for ``warehouses``), ``tables``
    and ``warehouses`` (any ``TableStorage`` / ``WarehouseSettings`` field).
    """
    _known(spec, _HISTORY_KEYS, "warehouse model")
    vendor = str(spec.get("vendor", "snowflake"))
    queries = [query(q, vendor) for item in spec.get("queries", ()) for q in _expand(item)]
    metering: tuple[MeteringHour, ...] = ()
    raw = spec.get("metering", ())
    if raw == "simulate":
        from warehouse_history_factory import metering as simulate  # the factory's own simulation

        meters = spec.get("simulate", spec.get("warehouses", ()))  # simulated warehouses need no settings row
        metering = tuple(m for w in meters for m in simulate(
            queries, str(w["name"]), str(w["size"]), int(w.get("auto_suspend_s", 60))))
    else:
        metering = metering_hours(raw)
    tables = tuple(TableStorage(**{**t, "total_logical_bytes": size(t["total_logical_bytes"])})
                   for t in spec.get("tables", ()))
    warehouses = tuple(WarehouseSettings(**w) for w in spec.get("warehouses", ()))
    return WarehouseHistory(
        vendor=vendor, source=f"{vendor}:case", window_start_ms=T0,
        window_end_ms=T0 + int(float(spec.get("days", 7)) * DAY),
        queries=tuple(queries),  # type: ignore[arg-type]  # records become a QueryTable on construction
        metering=metering, tables=tables, warehouses=warehouses,
    )
