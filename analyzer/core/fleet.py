"""The fleet's memory as data: recurring applications, their runs, regressions, owners' costs.

Why in ``analyzer.core``: the run history store (``analyzer.api.history``) computes these
objects from many recorded runs, and the renderers (``reports.fleet_*``) show them; both
sides meet here, so renderers never import the store. Everything is frozen and holds
numbers with units in their names, like the rest of the domain model; only ``reports``
formats them.

A *recurring application* is every run of one job definition: a Spark application
grouped by a stable key (normalised name, a configured property, Airflow or Databricks
job ids), or a warehouse query pattern or dbt model, whose "runs" are one row per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNATTRIBUTED = "(unattributed)"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run of a recurring application (a warehouse pattern's run is one day of its queries)."""

    app_id: str
    attempt_id: str | None
    start_time_ms: int | None
    duration_ms: int | None
    cost_usd: float | None
    input_bytes: int | None
    source: str = ""
    runs: int = 1  # queries in the day for a warehouse pattern; 1 for a Spark run
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class StageMove:
    """A stage (or query pattern) whose time moved between the baseline and the regressed run."""

    stage: str  # "3" (a stage id) or a query pattern's fingerprint
    name: str
    baseline_ms: float
    value_ms: float

    @property
    def delta_ms(self) -> float:
        """How much longer the stage took than its baseline."""
        return self.value_ms - self.baseline_ms


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A Spark property that differs between the regressed run and the run before it."""

    key: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Regression:
    """A run far above its application's own recent baseline while its input did not grow as much."""

    key: str
    name: str
    app_id: str
    attempt_id: str | None
    start_time_ms: int | None
    metric: str  # "duration_ms" or "cost_usd"
    baseline: float  # median of the previous runs
    value: float
    change: float  # value / baseline
    mad: float  # median absolute deviation of the previous runs
    baseline_runs: int
    input_change: float | None  # input / median previous input; None when no input was recorded
    stages: tuple[StageMove, ...] = ()
    config_changes: tuple[ConfigChange, ...] = ()


@dataclass(frozen=True, slots=True)
class RecurringApp:
    """All recorded runs of one job definition, oldest first, and what they cost."""

    key: str
    name: str
    kind: str  # "spark", "snowflake" or "bigquery"
    runs: tuple[RunSummary, ...]
    total_usd: float
    usd_per_run: float | None
    usd_per_month: float | None
    duration_change: float | None = None  # median of the last runs / median of the first runs
    input_change: float | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class FindingTrack:
    """One finding followed across the runs of its application: new, persisting or resolved."""

    key: str
    rule_id: str
    app_key: str
    subject: str
    severity: str
    status: str  # "new", "persisting" or "resolved"
    first_seen_ms: int | None
    last_seen_ms: int | None
    runs_seen: int
    predicted_saving_usd: float  # per run, as the rule estimated it in its last run
    realised_saving_usd: float | None = None  # per run: median cost before minus after (resolved only)


@dataclass(frozen=True, slots=True)
class DailyCost:
    """What one source's owner spent on one day (UTC)."""

    day: str  # YYYY-MM-DD
    kind: str
    source: str
    owner: str  # UNATTRIBUTED when no attribution key matched
    usd: float


@dataclass(frozen=True, slots=True)
class FleetReport:
    """Everything ``deanalyze history`` and ``deanalyze dashboard`` show, ready for any renderer."""

    generated_at: str
    tool_version: str
    history: str
    applications: tuple[RecurringApp, ...]
    regressions: tuple[Regression, ...] = ()
    findings: tuple[FindingTrack, ...] = ()
    daily_costs: tuple[DailyCost, ...] = ()
    since: str | None = None
    app_pattern: str | None = None
    methodology: tuple[str, ...] = field(default_factory=tuple)

    def cost_by_owner(self) -> list[tuple[str, float]]:
        """(owner, dollars), costliest first, the unattributed share last."""
        totals: dict[str, float] = {}
        for row in self.daily_costs:
            totals[row.owner] = totals.get(row.owner, 0.0) + row.usd
        named = sorted(((o, u) for o, u in totals.items() if o != UNATTRIBUTED), key=lambda p: -p[1])
        return named + ([(UNATTRIBUTED, totals[UNATTRIBUTED])] if UNATTRIBUTED in totals else [])

    @property
    def total_usd(self) -> float:
        """Everything the recorded runs and warehouse days cost."""
        return sum(row.usd for row in self.daily_costs)
