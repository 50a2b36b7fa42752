"""The Sparklens-style what-if of every application: predicted run time and cost per executor count.

Why in the API layer: the cluster simulation is the oversized-cluster rule's
(``rules.spark._simulate``, Sparklens' ``CompletionEstimator``), the cost per core-hour is the
cost model's; the what-if joins the two for every application, whether or not a rule fired,
and the reports render it from ``AppCost.what_if``.

Model: the stage DAG of each job group replayed on N executors held from the group's start
(Sparklens' assumption of a static cluster), calibrated by real/simulated job time at the
observed size; driver-only time kept as measured. Sizes are Sparklens' percentages of the
observed size, as many as a placement budget allows (big logs get 100 %, 50 %, 200 % first).
The critical path is the replay with a slot for every task.
"""

from __future__ import annotations

import math
from dataclasses import replace

from analyzer.core import timeline as tl
from analyzer.core.cost import MS_PER_HOUR, AppCost, WhatIf, WhatIfRow
from analyzer.core.model import Application
from rules.spark._simulate import SimGroups, sim_groups, simulate_jobs

# Sparklens' executor counts (% of the observed), most telling first: big logs get the first few.
PERCENTS = (100, 50, 200, 20, 150, 300, 10, 80, 120, 500, 400, 110)
MAX_PLACEMENTS = 300_000  # tasks x sizes simulated per application (about 0.3 s), at least 3 sizes


def with_what_if(app: Application, cost: AppCost) -> AppCost:
    """``cost`` with its what-if table, or unchanged when the run has no jobs or executors to replay."""
    what_if = what_if_of(app, cost)
    return cost if what_if is None else replace(cost, what_if=what_if)


def what_if_of(app: Application, cost: AppCost) -> WhatIf | None:
    """Predicted wall time and cost at Sparklens' sizes, and the critical path."""
    window = tl.app_window(app)
    lifetimes = tl.executor_lifetimes(app, window) if window else []
    groups = tl.job_groups(app, window) if window else []
    if window is None or not lifetimes or not groups:
        return None
    local = tl.is_local_mode(app) and all(life.executor_id == "driver" for life in lifetimes)
    observed = lifetimes[0].cores if local else tl.peak_executors(lifetimes)
    cores = 1 if local else tl.executor_cores(app)
    per_unit = 1 if local else tl.slots_per_executor(app, cores)
    divisor = tl.task_cpus(app) if local else 1
    stages = sim_groups(app, [(g.start_ms, g.end_ms, g.job_ids) for g in groups])
    tasks = sum(len(s.task_ms) for group in stages for s in group)
    if not tasks:
        return None

    def job_ms(count: int) -> int:
        slots = max(1, count * per_unit // divisor)
        return sum(simulate_jobs(stages, [slots] * len(stages)))

    job_real = sum(g.end_ms - g.start_ms for g in groups)
    driver_only = (window[1] - window[0]) - job_real
    reference = job_ms(observed)
    factor = job_real / reference if reference else 1.0
    percents = PERCENTS[:max(3, MAX_PLACEMENTS // tasks)]
    counts = sorted({max(1, math.ceil(observed * p / 100)) for p in percents})
    rows = tuple(_row(c, driver_only + (job_ms(c) if c != observed else reference) * factor, cores, cost,
                      c == observed) for c in counts)
    return WhatIf(unit="local cores" if local else "executors", cores_per_executor=cores,
                  model_error=abs(job_real - reference) / job_real if job_real else 1.0, rows=rows,
                  critical_path_ms=int(driver_only + _critical_path_ms(stages)))


def _row(count: int, predicted_ms: float, cores: int, cost: AppCost, observed: bool) -> WhatIfRow:
    """Cost of a static cluster of ``count`` executors held for ``predicted_ms``, plus the driver."""
    hours = predicted_ms / MS_PER_HOUR
    driver = cost.driver_usd / cost.run_hours * hours if cost.run_hours else 0.0
    usd = count * cores * hours * cost.usd_per_core_hour + driver
    return WhatIfRow(executors=count, predicted_ms=int(predicted_ms), usd=usd, observed=observed)


def _critical_path_ms(stages: SimGroups) -> int:
    """Σ over job groups of the longest chain of stages, each stage as long as its longest task."""
    every_task = [max(1, sum(len(s.task_ms) for s in group)) for group in stages]  # a slot per task
    return sum(simulate_jobs(stages, every_task))
