"""SQL executions: the final physical plan of each query and its metric values.

Metric values come from two places Spark logs anyway: the accumulables of each completed
stage (task-side metrics such as rows and bytes) and the driver's accumulator updates
(scan metrics such as files, partitions and size of files read). Reading them there
avoids decoding every task's accumulables, which is most of a log's bytes.
"""

from __future__ import annotations

from typing import Any

from analyzer.core.model import PlanNode, SqlExecution
from connectors.spark_eventlog import events as ev
from connectors.spark_eventlog.redaction import redact

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class SqlState:
    """Replay state of every SQL execution of one application."""

    def __init__(self) -> None:
        self.executions: dict[int, dict[str, Any]] = {}
        self.acc_values: dict[int, int] = {}
        self.acc_stages: dict[int, set[int]] = {}

    def handle(self, event: Any) -> None:
        """Apply one SQL listener event; other event types are ignored."""
        if isinstance(event, ev.SqlExecutionStart):
            self.executions[event.execution_id] = {
                "description": event.description, "start": event.time, "end": None,
                "plan": event.physical_plan, "plan_info": event.plan_info,
                "jobs": self.executions.get(event.execution_id, {}).get("jobs", []), "error": None,
                "configs": {str(k): redact(str(k), str(v))
                            for k, v in (event.modified_configs or {}).items()},
            }
        elif isinstance(event, ev.SqlExecutionEnd):
            ex = self._get(event.execution_id)
            ex["end"] = event.time
            ex["error"] = event.error_message or None
        elif isinstance(event, ev.SqlAdaptiveUpdate):
            ex = self._get(event.execution_id)
            ex["plan"] = event.physical_plan or ex.get("plan", "")
            ex["plan_info"] = event.plan_info or ex.get("plan_info")
        elif isinstance(event, ev.DriverAccumUpdates):
            for pair in event.updates:
                value = _as_int(pair[1]) if len(pair) == 2 else None
                if value is not None:
                    self.acc_values[int(pair[0])] = value

    def _get(self, execution_id: int) -> dict[str, Any]:
        return self.executions.setdefault(execution_id, {
            "description": "", "start": None, "end": None, "plan": "", "plan_info": None,
            "jobs": [], "error": None, "configs": {},
        })

    def record_accumulables(self, stage_id: int, accumulables: list[ev.Accumulable]) -> None:
        """Keep the newest total of every accumulator a completed stage reports, and the stage."""
        values, stages = self.acc_values, self.acc_stages
        for acc in accumulables:
            value = _as_int(acc.value)
            if value is not None:
                values[acc.id] = value
                stages.setdefault(acc.id, set()).add(stage_id)

    def link_job(self, execution_id: int | None, job_id: int) -> None:
        """Remember that a job ran on behalf of a SQL execution."""
        if execution_id is not None:
            self._get(execution_id)["jobs"].append(job_id)

    def freeze(self) -> tuple[SqlExecution, ...]:
        """Immutable executions, ordered by id."""
        return tuple(self._freeze_one(i, d) for i, d in sorted(self.executions.items()))

    def _freeze_one(self, execution_id: int, d: dict[str, Any]) -> SqlExecution:
        nodes: list[PlanNode] = []
        if isinstance(d["plan_info"], dict):
            _flatten(d["plan_info"], nodes, self.acc_values, self.acc_stages)
        return SqlExecution(
            execution_id=execution_id, description=d["description"] or "",
            start_time_ms=d["start"], end_time_ms=d["end"], physical_plan=d["plan"] or "",
            nodes=tuple(nodes), job_ids=tuple(d["jobs"]), error_message=d["error"],
            modified_configs=d["configs"],
        )


def _flatten(info: dict[str, Any], out: list[PlanNode], values: dict[int, int],
             acc_stages: dict[int, set[int]]) -> int:
    """Append ``info`` and its subtree in pre-order; return the node's id.

    A node ran in the stages that reported any of its metrics' accumulators.
    """
    node_id = len(out)
    out.append(None)  # type: ignore[arg-type]  # placeholder keeps pre-order ids
    child_ids = tuple(_flatten(c, out, values, acc_stages) for c in info.get("children") or ()
                      if isinstance(c, dict))
    metrics = {}
    stage_ids: set[int] = set()
    for m in info.get("metrics") or ():
        acc = m.get("accumulatorId")
        if isinstance(acc, int) and acc in values:
            metrics[str(m.get("name", ""))] = values[acc]
            stage_ids |= acc_stages.get(acc, set())
    metadata = {str(k): str(v) for k, v in (info.get("metadata") or {}).items()}
    out[node_id] = PlanNode(
        node_id=node_id, name=str(info.get("nodeName", "")),
        description=str(info.get("simpleString", "")), metadata=metadata,
        metrics=metrics, child_ids=child_ids, stage_ids=tuple(sorted(stage_ids)),
    )
    return node_id


def _as_int(value: Any) -> int | None:
    """An accumulator value as an int, or None when it is not a number a report can hold.

    Values outside int64 (``2**70``, ``1e400`` decoded as infinity, NaN) are dropped: they
    would overflow the JSON encoder, and no Spark metric reaches them.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        value = int(value)
    elif isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    if isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX:
        return value
    return None
