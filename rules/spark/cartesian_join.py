"""spark.cartesian-join: a join that compared every row of one side with every row of the other."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.core.findings import Finding
from analyzer.core.model import Application, PlanNode, SqlExecution, Stage
from rules.damping import SCALE, damped_by, early_warning, scaled_duration
from rules.engine import SparkRule, Thresholds, option
from rules.spark._plan import (
    OUTPUT_ROWS,
    SHUFFLE_RECORDS_WRITTEN,
    attribute_names,
    metric,
    node_index,
    pretty,
    split_top_level,
)
from rules.spark._plan_stages import heaviest_stage, stage_of
from rules.spark.common import core_hours, is_small_run, subject

NESTED_LOOP_JOINS = ("CartesianProduct", "BroadcastNestedLoopJoin")
_BAND = re.compile(r"abs\(\(?[^()]+ - [^()]+\)?\)\s*<=?\s*([\d.]+)")
_NOT_CONDITION = {"BuildLeft", "BuildRight", "Inner", "Cross", "LeftOuter", "RightOuter", "FullOuter",
                  "LeftSemi", "LeftAnti"}


@dataclass(frozen=True, slots=True)
class CartesianMeasure:
    """The numbers behind a cartesian-join verdict for one join node."""

    left_rows: int
    right_rows: int
    recompute_divisor: int
    pairs: float
    output_rows: int
    selectivity: float
    waste_fraction: float
    join_task_ms: float
    avoidable_ms: float


def is_nested_loop_join(node: PlanNode) -> bool:
    """``CartesianProduct`` or ``BroadcastNestedLoopJoin`` (with Photon/RAPIDS prefixes)."""
    return node.name.endswith(NESTED_LOOP_JOINS)


def side_rows(sql: SqlExecution, node_id: int) -> tuple[int, bool]:
    """Rows one join input produced, and whether that count is exact.

    Counts above the join's stage (a shuffle's records written, a broadcast's rows) are
    exact. Counts inside a ``CartesianProduct``'s stage are not: each of its tasks
    recomputes one partition of each side, so they are multiplied by the other side's
    partition count.
    """
    index = node_index(sql)
    current = index.get(node_id)
    while current is not None:
        written = metric(current, SHUFFLE_RECORDS_WRITTEN)
        if written is not None:
            return written, True
        rows = metric(current, OUTPUT_ROWS)
        if rows is not None:
            return rows, "BroadcastExchange" in current.name
        if len(current.child_ids) > 1:
            sides = [side_rows(sql, c) for c in current.child_ids]
            return sum(r for r, _ in sides), all(e for _, e in sides)
        current = index.get(current.child_ids[0]) if current.child_ids else None
    return 0, True


def measure(sql: SqlExecution, node: PlanNode, join_stage: Stage | None) -> CartesianMeasure:
    """Pairs compared, rows kept, and the share of the join stage's time spent on discarded pairs."""
    (left, left_exact), (right, right_exact) = (side_rows(sql, c) for c in node.child_ids[:2])
    divisor = 1
    if node.name.endswith("CartesianProduct") and not (left_exact and right_exact) and join_stage is not None:
        divisor = max(1, join_stage.num_tasks)  # one task per (left, right) partition pair
    output = metric(node, OUTPUT_ROWS) or 0
    pairs = max(float(output), left * right / divisor)
    waste = max(0.0, 1 - (left + right + output) / pairs) if pairs else 0.0
    task_ms = float(join_stage.metrics.executor_run_time_ms) if join_stage is not None else 0.0
    return CartesianMeasure(
        left_rows=left, right_rows=right, recompute_divisor=divisor, pairs=pairs, output_rows=output,
        selectivity=output / pairs if pairs else 0.0, waste_fraction=waste, join_task_ms=task_ms,
        avoidable_ms=task_ms * waste,
    )


def join_condition(node: PlanNode) -> str:
    """The join's condition from its description (``CartesianProduct (a < b)``); empty when none."""
    rest = node.description[len(node.name):] if node.description.startswith(node.name) else ""
    parts = [p for p in split_top_level(rest.strip()) if p not in _NOT_CONDITION
             and not p.startswith("ExistenceJoin")]
    return ", ".join(parts)


class CartesianJoin(SparkRule["CartesianJoin.Config"]):
    """A join compared every row of one side with every row of the other (cartesian or nested loop).

    ## Why it matters
    Without an equality between the two sides, Spark cannot hash or sort the rows into
    matching groups: it evaluates the condition on all left x right pairs. Work grows with
    the product of the inputs, so a join of two 100,000-row tables evaluates ten billion
    pairs, and a small increase in either input multiplies the cost.

    ## Anti-pattern
    ``a.crossJoin(b)`` or a missing ``ON`` clause; a band or range condition only
    (``abs(a.t - b.t) < 5``, ``a.ts BETWEEN b.start AND b.end``); an equality hidden in an
    ``OR`` or a UDF. The plan shows ``CartesianProduct`` or ``BroadcastNestedLoopJoin``.

    ## Fix
    Add an equality Spark can use: the missing key, or for band and range joins a bucket
    key (``floor(t / W)`` on one side, exploded to neighbouring buckets on the other) next
    to the original condition, so a sort-merge or hash join compares only rows of the same
    bucket. Databricks has the ``RANGE_JOIN`` hint for this.

    ## Savings estimate
    Pairs P = left rows x right rows (``CartesianProduct`` recomputes each input per
    partition pair, so counts taken inside its stage are divided by the stage's task
    count). An equi-join touches each input row and each output row about once, so
    ``1 - (left + right + output) / P`` of the join stage's task time is avoidable: near
    zero for a true cross product whose output is needed.

    ## Known problems
    The join's stage is found by matching shuffle records; when that fails the query's
    most expensive stage is used. When only one input is recomputed per partition pair,
    dividing by the task count underestimates the pairs (never below the output rows). The
    saving models an equi-join's work (confidence medium); a join that kept every pair it
    compared saves nothing and is at most ``info``. Damping: in a small run (less than one
    core-hour of task time), a join below the lowest ``pairs`` threshold whose pairs at 100×
    the rows on each side (10,000× the pairs) would reach it is an ``info`` early warning (the
    largest one per application); it claims no saving.
    """

    id = "spark.cartesian-join"

    @dataclass(frozen=True)
    class Config:
        """Options of spark.cartesian-join."""

        pairs: Thresholds = option(Thresholds(low=1e9, medium=1e10, high=1e11, critical=1e12),
                                   "row pairs the join compared: left rows x right rows")

    def check(self, app: Application, config: CartesianJoin.Config) -> Iterator[Finding]:
        """Grade every CartesianProduct / BroadcastNestedLoopJoin on the pairs it compared."""
        for sql in app.sql_executions:
            for node in sql.nodes:
                if not is_nested_loop_join(node) or len(node.child_ids) < 2:
                    continue
                stage = stage_of(app, sql, node) or heaviest_stage(app, sql)
                m = measure(sql, node, stage)
                severity = config.pairs.severity(m.pairs)
                scaled = m.pairs * SCALE**2
                if severity is None and (config.pairs.severity(scaled) is None or not is_small_run(app)):
                    continue
                finding = self._finding(app, sql, node, m, severity or "low")
                damped = damped_by((severity is None, f"{m.pairs:,.0f} row pairs (the lowest threshold is "
                                                      f"{config.pairs.low:,.0f})"))
                if damped:
                    yield early_warning(finding, None, damped, _at_scale(m))
                elif m.waste_fraction <= 0:
                    # Nothing was discarded: the product is the result; no saving, so at most info.
                    kept = ("Every pair compared was kept: the product is the query's result, so a join "
                            "key would change it. ")
                    yield early_warning(finding, severity, [], kept + _at_scale(m))
                else:
                    yield finding

    def _finding(self, app: Application, sql: SqlExecution, node: PlanNode, m: CartesianMeasure,
                 severity: str) -> Finding:
        raw = join_condition(node)
        condition = pretty(raw)
        return Finding(
            rule_id=self.id, severity=severity,
            subject={**subject(app, sql=sql), "plan_node_id": node.node_id, "operator": node.name},
            title=f"{node.name} in query {sql.execution_id} compared {m.pairs:,.0f} row pairs "
                  f"to keep {m.output_rows:,}",
            evidence={
                "pairs": round(m.pairs), "left_rows": m.left_rows, "right_rows": m.right_rows,
                "recompute_divisor": m.recompute_divisor, "output_rows": m.output_rows,
                "selectivity": m.selectivity, "condition": condition, "join_task_ms": round(m.join_task_ms),
                "waste_fraction": round(m.waste_fraction, 4),
            },
            recommendation=_recommendation(condition, attribute_names(raw), m),
            tradeoffs=_tradeoffs(condition),
            avoidable_core_hours=core_hours(m.avoidable_ms),
            confidence="medium",  # the pairs are measured; the saving models an equi-join's work
        )


def _at_scale(m: CartesianMeasure) -> str:
    """Pairs grow with the product of the inputs: ``SCALE`` times the rows on each side."""
    return (f"The work grows with the product of the inputs: at {SCALE}× the rows on each side the join "
            f"would compare {m.pairs * SCALE**2:,.0f} pairs ({SCALE**2:,}× as many), about "
            f"{scaled_duration(m.join_task_ms * SCALE**2 / 1000)} of task time at this speed.")


def _recommendation(condition: str, columns: list[str], m: CartesianMeasure) -> str:
    """A bucketed equi-join for a band condition, or the missing key for a plain cross product."""
    if not condition:
        return (f"This is a cross product ({m.output_rows:,} output rows). If the sides share a key, join "
                "on it (`ON l.key = r.key`) to get a hash or sort-merge join; if the product is intended, "
                "aggregate each side first and keep the smaller side broadcast (`/*+ BROADCAST(small) */`).")
    left, right = (columns + ["l.x", "r.x"])[:2] if len(columns) != 1 else (columns[0], columns[0])
    w = _band_width(condition) or "W"
    bucket = f"floor({right} / {w})"
    return (f"The condition `{condition}` has no equality Spark can hash on, so it was evaluated on all "
            f"{m.pairs:,.0f} pairs to keep {m.output_rows:,} ({m.selectivity:.4%}). Add a bucket key of the "
            f"band width W = {w}: `floor({left} / {w}) AS bucket` on one side, "
            f"`explode(array({bucket} - 1, {bucket}, {bucket} + 1)) AS bucket` on the other, and join "
            f"`ON l.bucket = r.bucket AND {condition}` (on Databricks the `RANGE_JOIN` hint does this).")


def _band_width(condition: str) -> str | None:
    """``d`` of a band condition ``abs(x - y) <= d`` (or ``< d``), when the condition is one."""
    match = _BAND.search(condition)
    return match.group(1) if match else None


def _tradeoffs(condition: str) -> str:
    """What the recommended change costs or risks."""
    if not condition:
        return ("A join key changes the result unless the sides really match on it; aggregating first only "
                "helps when the query aggregates the product anyway.")
    return ("Bucketing triples one side's rows in the shuffle (each row goes to three buckets) and needs a "
            "width: narrower buckets duplicate more rows, wider ones compare more pairs.")
