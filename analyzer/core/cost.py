"""Turn an application's runtime into money, and every dollar into exactly one bucket.

The bill of an application is its executors' lifetimes (cores x $/vCPU-hour plus memory
x $/GiB-hour) and its driver's. The waste ledger splits the executors' core-hours into
useful task time, failed or retried work, driver-only time (executors held while no job
runs), the skew tail (slots idle while stragglers finish) and the remaining idle cores;
the driver is a bucket of its own. Buckets never overlap, so the savings of all findings,
each capped by its bucket, never add up to more than the bill.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from analyzer.core import timeline as tl
from analyzer.core.catalog import NodeType, PriceCatalog
from analyzer.core.findings import Finding
from analyzer.core.model import Application
from analyzer.core.spark_savings import RULE_BUCKET, assign_savings  # noqa: F401  (RULE_BUCKET re-exported)
from analyzer.core.units import MS_PER_HOUR, GiB, parse_size

BUCKETS = ("useful", "failed_work", "driver_only", "skew_tail", "idle_cores", "driver")
DAYS_PER_MONTH = 30.44
MIN_RUNS_FOR_FREQUENCY = 3


@dataclass(frozen=True, slots=True)
class CostSettings:
    """How to price: which catalog, spot capacity or not, how many runs a month."""

    catalog: PriceCatalog
    spot: bool = False
    runs_per_month: float | None = None

    @property
    def spot_warning(self) -> str | None:
        """One line when ``--spot`` was asked of a catalog that gives no spot discount, else None.

        Why here and not a print: the cost model has no stderr; the API writes this line and
        every report carries it in the application's cost notes.
        """
        if self.spot and not self.catalog.spot_discount:
            return (f"--spot: price catalog '{self.catalog.name}' gives no spot_discount; executors are "
                    "priced at on-demand rates")
        return None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the pricing assumed about spot capacity, for the report."""
        warning = self.spot_warning
        if warning:
            return (warning,)
        if self.spot:
            return (f"--spot: executors priced {self.catalog.spot_discount:.0%} below on demand "
                    f"(catalog '{self.catalog.name}', {self.catalog.spot_source or 'no source given'}); "
                    "the driver at on-demand rates",)
        return ()


@dataclass(frozen=True, slots=True)
class WhatIfRow:
    """One cluster size of the Sparklens-style what-if: predicted wall time and cost of a run."""

    executors: int  # executors (local mode: cores of local[N])
    predicted_ms: int
    usd: float
    observed: bool = False  # the size the application really ran with


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Predicted run time and cost per executor count, and the critical path (infinite executors).

    ``unit`` is "executors" or, in local mode, "local cores". Rows assume a static cluster of
    that size held for the whole run; ``critical_path_ms`` is the run with as many executors as
    tasks (driver-only time plus each job group's longest chain of stages, each as long as its
    longest task), a floor no cluster size goes below.
    """

    unit: str
    cores_per_executor: int
    model_error: float  # |real − simulated| / real job time at the observed size
    rows: tuple[WhatIfRow, ...]
    critical_path_ms: int


@dataclass(frozen=True, slots=True)
class AppCost:
    """The priced bill of one application run and its waste ledger."""

    app_id: str
    attempt_id: str | None
    app_name: str
    total_usd: float
    executor_usd: float
    driver_usd: float
    executor_core_hours: float
    usd_per_core_hour: float
    ledger_usd: dict[str, float]
    ledger_core_hours: dict[str, float]
    savings_usd: float = 0.0
    runs_per_month: float | None = None
    notes: tuple[str, ...] = ()  # pricing assumptions the report states (spot capacity)
    run_hours: float = 0.0  # the priced stretch of the run (the driver is billed for all of it)
    what_if: WhatIf | None = None  # set by the API (analyzer.api.whatif), which may run the simulator

    @property
    def monthly_usd(self) -> float | None:
        """Projected monthly cost, when the run frequency is known."""
        return None if self.runs_per_month is None else self.total_usd * self.runs_per_month


def memory_gib(props: Mapping[str, str], role: str) -> float:
    """Container memory of an executor or the driver: heap + overhead (+ PySpark memory), GiB."""
    heap = _gib(props.get(f"spark.{role}.memory")) or 1.0
    overhead = _gib(props.get(f"spark.{role}.memoryOverhead")) or max(384 / 1024, 0.1 * heap)
    pyspark = _gib(props.get(f"spark.{role}.pyspark.memory")) or 0.0
    return heap + overhead + pyspark


def _gib(text: str | None) -> float | None:
    """A memory setting in GiB; a bare number is MiB, as Spark reads it."""
    size = parse_size(text, "m")
    return None if size is None else size / GiB


def executor_spans(app: Application, window: tuple[int, int]) -> list[tl.Lifetime]:
    """Executors' core-holding spans; a run with none (local mode) is one machine of local[N] cores."""
    lifetimes = tl.executor_lifetimes(app, window)
    if lifetimes:
        return lifetimes
    return [tl.Lifetime("driver", tl.local_cores(app) or 1, *window)]


def priced_window(app: Application) -> tuple[int, int] | None:
    """The priced stretch: the app's run, or just its start when nothing else is known."""
    window = tl.app_window(app)
    if window is None and app.start_time_ms is not None:
        return app.start_time_ms, app.start_time_ms
    return window


def ledger_core_hours(app: Application, skew_core_hours: float = 0.0) -> dict[str, float]:
    """Executor core-hours of one app split into non-overlapping buckets (driver excluded)."""
    window = priced_window(app)
    if window is None:
        return dict.fromkeys(BUCKETS[:-1], 0.0)
    spans = executor_spans(app, window)
    allocated = sum((life.end_ms - life.start_ms) * life.cores for life in spans) / MS_PER_HOUR
    task = sum(sum(s.task_durations_ms) for s in app.stages) / MS_PER_HOUR
    failed = sum(s.failed_task_time_ms for s in app.stages) / MS_PER_HOUR
    scale = min(1.0, allocated / task) if task else 1.0  # clocks or core counts can disagree
    useful, failed = (task - failed) * scale, failed * scale
    idle = max(0.0, allocated - useful - failed)
    groups = [(g.start_ms, g.end_ms) for g in tl.job_groups(app, window)]
    driver_only = min(idle, tl.held_core_ms(spans, tl.gaps(window, groups)) / MS_PER_HOUR)
    skew = min(idle - driver_only, max(0.0, skew_core_hours))
    return {"useful": useful, "failed_work": failed, "driver_only": driver_only, "skew_tail": skew,
            "idle_cores": idle - driver_only - skew}


def price_application(app: Application, settings: CostSettings, skew_core_hours: float = 0.0) -> AppCost:
    """The bill and ledger of one application run."""
    c = settings.catalog
    window = priced_window(app)
    hours = 0.0 if window is None else (window[1] - window[0]) / MS_PER_HOUR
    spans = executor_spans(app, window) if window else []
    core_h = sum((life.end_ms - life.start_ms) * life.cores for life in spans) / MS_PER_HOUR
    cores_per_exec = max(1, round(sum(life.cores for life in spans) / max(1, len(spans))))
    discount = c.spot_discount if settings.spot else 0.0
    usd_core_h = executor_core_hour_usd(app, c, cores_per_exec) * (1 - discount)
    # Any executor makes it a cluster, even one whose cores the log lost (only its BlockManagerAdded):
    # it is billed at the typical size, and the driver ran on a machine of its own.
    local = not any(not e.is_driver for e in app.executors)
    driver_usd = 0.0 if local else hours * driver_hour_usd(app, c)
    core_ledger = ledger_core_hours(app, skew_core_hours)
    ledger = {k: v * usd_core_h for k, v in core_ledger.items()}
    ledger["driver"] = driver_usd
    executor_usd = core_h * usd_core_h
    return AppCost(
        app_id=app.app_id, attempt_id=app.attempt_id, app_name=app.name,
        total_usd=executor_usd + driver_usd, executor_usd=executor_usd, driver_usd=driver_usd,
        executor_core_hours=core_h, usd_per_core_hour=usd_core_h, ledger_usd=ledger,
        ledger_core_hours=core_ledger, runs_per_month=settings.runs_per_month, notes=settings.notes,
        run_hours=hours,
    )


# Where platforms name the machine types of a cluster (Databricks writes both).
WORKER_NODE_KEYS = ("spark.databricks.workerNodeTypeId", "spark.databricks.clusterUsageTags.clusterNodeType")
DRIVER_NODE_KEYS = ("spark.databricks.driverNodeTypeId", "spark.databricks.clusterUsageTags.driverNodeType")


def node_type(app: Application, catalog: PriceCatalog, keys: Sequence[str]) -> NodeType | None:
    """The catalog's price of the machine type the log names, when it has one."""
    for key in keys:
        node = catalog.node_types.get(app.properties.get(key, ""))
        if node is not None:
            return node
    return None


def executor_core_hour_usd(app: Application, catalog: PriceCatalog, cores_per_executor: int) -> float:
    """One executor core-hour: a share of the worker node's price when the node type is known,
    else a vCPU-hour plus the executor's container memory per core."""
    node = node_type(app, catalog, WORKER_NODE_KEYS)
    if node is not None:
        return catalog.node_hour(node) / node.vcpus
    mem_per_core = memory_gib(app.properties, "executor") / cores_per_executor
    return catalog.vcpu_hour + mem_per_core * catalog.gib_hour


def driver_hour_usd(app: Application, catalog: PriceCatalog) -> float:
    """One driver-hour: its node's price when the node type is known, else cores and memory."""
    node = node_type(app, catalog, DRIVER_NODE_KEYS)
    if node is not None:
        return catalog.node_hour(node)
    cores = float(app.properties.get("spark.driver.cores", "1") or 1)
    return cores * catalog.vcpu_hour + memory_gib(app.properties, "driver") * catalog.gib_hour


def infer_runs_per_month(apps: Sequence[Application]) -> dict[str, float]:
    """Runs a month per application name, from several runs of the same name analysed together."""
    starts: dict[str, list[int]] = defaultdict(list)
    for app in apps:
        if app.start_time_ms is not None:
            starts[app.name].append(app.start_time_ms)
    rates = {}
    for name, times in starts.items():
        span_days = (max(times) - min(times)) / 86_400_000
        if len(set(times)) >= MIN_RUNS_FOR_FREQUENCY and span_days >= 1:
            rates[name] = (len(times) - 1) / span_days * DAYS_PER_MONTH
    return rates


def price_report(apps: Sequence[Application], findings: Sequence[Finding],
                 settings: CostSettings) -> tuple[list[AppCost], list[Finding]]:
    """Price every application and count every finding's claim once in its application's ledger."""
    by_app: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
    for f in findings:
        attempt = f.subject.get("attempt_id")
        by_app[(str(f.subject.get("app_id")), None if attempt is None else str(attempt))].append(f)
    inferred = infer_runs_per_month(apps) if settings.runs_per_month is None else {}
    costs, priced = [], []
    for app in apps:
        own = by_app.pop((app.app_id, app.attempt_id), [])
        skew = sum(f.avoidable_core_hours for f in own if f.rule_id == "spark.skew")
        runs = settings.runs_per_month if settings.runs_per_month is not None else inferred.get(app.name)
        cost = price_application(app, replace(settings, runs_per_month=runs), skew)
        saved = assign_savings(own, cost, app)
        costs.append(replace(cost, savings_usd=sum(f.estimated_savings_usd for f in saved)))
        priced += saved
    priced += [f for rest in by_app.values() for f in rest]  # findings of apps not analysed here
    return costs, priced
