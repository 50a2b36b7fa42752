"""Which stage ran a plan node, and how much task time a node is worth.

The event log ties SQL metrics to stages through accumulator ids, but the domain model
keeps only each node's final value, not the stages that updated it. So the match is
rebuilt from numbers that both sides carry: the rows a shuffle ``Exchange`` wrote equal
the shuffle records of the stage that wrote them; the bytes a write command wrote equal
that stage's output bytes. When nothing matches, the rules fall back to the query's
stages that read input (scans) or the query's most expensive stage (joins).
"""

from __future__ import annotations

from analyzer.core.model import Application, PlanNode, SqlExecution, Stage
from rules.spark._plan import (
    BYTES_READ,
    OUTPUT_ROWS,
    SHUFFLE_RECORDS_WRITTEN,
    WRITTEN_BYTES,
    is_file_scan,
    metric,
    node_index,
    parents,
)


def query_stages(app: Application, sql: SqlExecution) -> list[Stage]:
    """Stage attempts that ran (complete or failed) for the jobs of ``sql``."""
    jobs = set(sql.job_ids)
    return [s for s in app.stages
            if s.status in ("COMPLETE", "FAILED") and jobs.intersection(s.job_ids)]


def records_written(node: PlanNode) -> int | None:
    """Rows a shuffle exchange wrote: ``shuffle records written``, or the rows into Photon's sink."""
    written = metric(node, SHUFFLE_RECORDS_WRITTEN)
    if written is None and node.name.endswith("ShuffleExchangeSink"):
        written = metric(node, OUTPUT_ROWS)
    return written


def enclosing_exchange(sql: SqlExecution, node: PlanNode) -> PlanNode | None:
    """The shuffle ``Exchange`` whose map side runs ``node``; None under a broadcast or at the top."""
    index, up = node_index(sql), parents(sql)
    current = up.get(node.node_id)
    while current is not None:
        candidate = index[current]
        if records_written(candidate) is not None:
            return candidate
        if "BroadcastExchange" in candidate.name:
            return None
        current = up.get(current)
    return None


def stage_of(app: Application, sql: SqlExecution, node: PlanNode) -> Stage | None:
    """The stage that ran ``node``; None if unsure.

    The log says it directly when the node's metrics were reported by exactly one stage
    (``PlanNode.stage_ids``); otherwise the stage is matched by shuffle records or written bytes.
    """
    stages = query_stages(app, sql)
    if len(node.stage_ids) == 1:
        direct = _only([s for s in app.stages if s.stage_id == node.stage_ids[0]])
        if direct is not None:
            return direct
    exchange = enclosing_exchange(sql, node)
    if exchange is not None:
        records = records_written(exchange) or 0
        return _only([s for s in stages if records and s.metrics.shuffle_write_records == records])
    written = metric(node, WRITTEN_BYTES)
    if written:
        return _only([s for s in stages if s.metrics.output_bytes == written])
    return None


def _only(stages: list[Stage]) -> Stage | None:
    """The one stage id among ``stages`` (its longest attempt), or None when ambiguous."""
    if len({s.stage_id for s in stages}) != 1:
        return None
    return max(stages, key=lambda s: s.metrics.executor_run_time_ms)


def heaviest_stage(app: Application, sql: SqlExecution) -> Stage | None:
    """The query's stage with the most task time: where a dominating operator must have run."""
    stages = query_stages(app, sql)
    return max(stages, key=lambda s: s.metrics.executor_run_time_ms) if stages else None


def scan_task_ms(app: Application, sql: SqlExecution) -> dict[int, float]:
    """Task time worth of each file scan of ``sql``, by node id.

    A scan whose stage is matched gets that stage's run time, shared by bytes with the
    other scans matched to it. The remaining scans share, by bytes, the run time of the
    query's other stages that read input.
    """
    scans = [n for n in sql.nodes if is_file_scan(n)]
    matched = {n.node_id: stage_of(app, sql, n) for n in scans}
    times: dict[int, float] = {}
    for node in scans:
        stage = matched[node.node_id]
        if stage is not None:
            peers = [n for n in scans if _same_stage(matched[n.node_id], stage)]
            times[node.node_id] = stage.metrics.executor_run_time_ms * _share(node, peers)
    used = {s.stage_id for s in matched.values() if s is not None}
    rest = [n for n in scans if matched[n.node_id] is None]
    input_ms = sum(s.metrics.executor_run_time_ms for s in query_stages(app, sql)
                   if s.metrics.input_bytes > 0 and s.stage_id not in used)
    for node in rest:
        times[node.node_id] = input_ms * _share(node, rest)
    return times


def write_task_ms(app: Application, sql: SqlExecution, write: PlanNode) -> float:
    """Task time of the stage that wrote the files (the stages with output bytes, without a match)."""
    stage = stage_of(app, sql, write)
    if stage is not None:
        return float(stage.metrics.executor_run_time_ms)
    writing = [s for s in query_stages(app, sql) if s.metrics.output_bytes > 0]
    return float(sum(s.metrics.executor_run_time_ms for s in writing))


def _same_stage(a: Stage | None, b: Stage) -> bool:
    return a is not None and a.stage_id == b.stage_id


def _share(scan: PlanNode, peers: list[PlanNode]) -> float:
    """``scan``'s fraction of the bytes its peers (itself included) read; an equal split without bytes."""
    total = sum(metric(n, BYTES_READ) or 0 for n in peers)
    if total <= 0:
        return 1 / len(peers)
    return (metric(scan, BYTES_READ) or 0) / total
