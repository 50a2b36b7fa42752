"""The rule engine: thresholds, the Rule base class, the registry, and running rules.

A rule is a pure function of the domain model. It computes its numbers in a separate,
unit-tested step (``measure``-style helpers in its module) and then grades them with
four-level ``Thresholds`` (Dr. Elephant's model): the verdict is the highest level the
value reaches, or no finding at all. Prices are never known here: a finding carries the
usage that could be avoided (core-hours), which the cost model prices later.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from analyzer.core.findings import SEVERITIES, Finding
from analyzer.core.model import Application
from analyzer.core.warehouse_model import WarehouseHistory

DOC_SECTIONS = ("## Why it matters", "## Anti-pattern", "## Fix", "## Savings estimate", "## Known problems")


def option(default: Any, doc: str) -> Any:
    """A documented rule option: ``deanalyze explain`` prints ``doc`` beside the value."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Four severity boundaries; ``ascending`` means bigger values are worse."""

    low: float
    medium: float
    high: float
    critical: float
    ascending: bool = True

    def __post_init__(self) -> None:
        levels = [self.low, self.medium, self.high, self.critical]
        ordered = levels == sorted(levels) if self.ascending else levels == sorted(levels, reverse=True)
        if not ordered:
            raise ValueError(
                f"thresholds must be {'ascending' if self.ascending else 'descending'}: {levels}"
            )

    def severity(self, value: float) -> str | None:
        """The highest level ``value`` reaches, or None when it reaches none."""
        reached = None
        for name in SEVERITIES:
            bound = getattr(self, name)
            if (value >= bound) if self.ascending else (value <= bound):
                reached = name
        return reached

    def as_dict(self) -> dict[str, float]:
        """The four boundaries, for documentation and config round-trips."""
        return {name: getattr(self, name) for name in SEVERITIES}


class Rule:
    """Base class of every rule: a stable id, a documented config, and ``check``.

    Subclasses define ``id`` (dotted, part of the JSON contract), a frozen dataclass
    ``Config`` with defaults, and ``check(app, config)`` yielding findings. The class
    docstring is the user documentation printed by ``deanalyze explain``.
    """

    id: ClassVar[str] = ""
    applies_to: ClassVar[str] = "spark"

    @dataclass(frozen=True)
    class Config:
        """No options."""

    @classmethod
    def summary(cls) -> str:
        """The first line of the documentation: what the rule finds."""
        return (inspect.getdoc(cls) or "").splitlines()[0]

    @classmethod
    def documentation(cls) -> str:
        """The full user documentation."""
        return inspect.getdoc(cls) or ""

    @classmethod
    def default_config(cls) -> Any:
        """The rule's defaults (a frozen ``Config`` instance)."""
        return cls.Config()

    def check(self, app: Any, config: Any) -> Iterator[Finding]:
        """Yield the findings of this rule for one subject: an ``Application`` for Spark rules
        (``applies_to = "spark"``), a ``WarehouseHistory`` for warehouse rules."""
        raise NotImplementedError


REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry under its id (ids are unique)."""
    if not rule.id or rule.id in REGISTRY:
        raise ValueError(f"rule id missing or registered twice: {rule.id!r}")
    REGISTRY[rule.id] = rule
    return rule


@dataclass(frozen=True)
class EngineConfig:
    """Per-rule configs plus suppressions, as loaded from TOML (or the defaults)."""

    rule_configs: dict[str, Any] = field(default_factory=dict)
    disabled_rules: frozenset[str] = frozenset()
    suppressed_apps: tuple[str, ...] = ()
    suppressed: tuple[tuple[str, str], ...] = ()  # (rule id, app-name pattern)

    def config_for(self, rule: type[Rule]) -> Any:
        """The effective config of ``rule``."""
        return self.rule_configs.get(rule.id) or rule.default_config()

    def is_suppressed(self, rule_id: str, app_name: str) -> bool:
        """True when a suppression covers this rule for an application of this name."""
        if rule_id in self.disabled_rules:
            return True
        if any(fnmatch.fnmatchcase(app_name, p) for p in self.suppressed_apps):
            return True
        return any(rid == rule_id and fnmatch.fnmatchcase(app_name, p) for rid, p in self.suppressed)


# Called with (rule id, subject, exception) when a rule fails on one subject; the default re-raises.
RuleErrorHandler = Callable[[str, Any, Exception], None]


def _raise(rule_id: str, subject: Any, err: Exception) -> None:
    raise err


def run_rules(apps: Iterable[Application], config: EngineConfig | None = None,
              on_error: RuleErrorHandler = _raise) -> list[Finding]:
    """Run every Spark rule over every application; findings sorted by severity."""
    return _run(apps, "spark", config, lambda app: app.name, on_error)


def run_warehouse_rules(
    histories: Iterable[WarehouseHistory], config: EngineConfig | None = None,
    on_error: RuleErrorHandler = _raise,
) -> list[Finding]:
    """Run every warehouse rule over every query history (suppression patterns match the source)."""
    return _run(histories, "warehouse", config, lambda history: history.source, on_error)


def _run(subjects: Iterable[Any], kind: str, config: EngineConfig | None, name_of: Any,
         on_error: RuleErrorHandler) -> list[Finding]:
    """Every applicable rule on every subject; a rule failing on one subject loses only its findings."""
    load_builtin_rules(kind)
    config = config or EngineConfig()
    findings: list[Finding] = []
    for item in subjects:
        for rule_cls in REGISTRY.values():
            if rule_cls.applies_to != kind or config.is_suppressed(rule_cls.id, name_of(item)):
                continue
            try:
                findings.extend(rule_cls().check(item, config.config_for(rule_cls)))
            except Exception as err:  # noqa: BLE001 - one odd input must not lose the whole report
                on_error(rule_cls.id, item, err)
    findings.sort(key=lambda f: (-f.severity_rank, -f.avoidable_core_hours, f.rule_id))
    return findings


def config_fields(config: Any) -> list[tuple[str, Any, str]]:
    """(name, value, doc) of every option of a rule config, for ``explain`` and the contract test."""
    return [(f.name, getattr(config, f.name), f.metadata.get("doc", "")) for f in fields(config)]


def load_builtin_rules(kind: str | None = None) -> None:
    """Import the rule packages (of one kind, or all) so that their ``@register`` decorators run."""
    if kind in (None, "spark"):
        import rules.spark  # noqa: F401
    if kind in (None, "warehouse"):
        import rules.warehouse  # noqa: F401
