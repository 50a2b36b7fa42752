"""What a rule is: thresholds, the typed ``SparkRule`` / ``WarehouseRule`` bases, and the engine config.

A rule is a pure function of the domain model. It computes its numbers in a separate,
unit-tested step (``measure``-style helpers in its module) and then grades them with
four-level ``Thresholds`` (Dr. Elephant's model): the verdict is the highest level the
value reaches, or no finding at all. Prices are never known here: a finding carries the
usage that could be avoided (core-hours), which the cost model prices later.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Generic, TypeVar

from analyzer.core.findings import GATED_SEVERITIES, Finding
from analyzer.core.model import Application
from analyzer.core.warehouse_model import WarehouseHistory

ConfigT = TypeVar("ConfigT")

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
        for name in GATED_SEVERITIES:
            bound = getattr(self, name)
            if (value >= bound) if self.ascending else (value <= bound):
                reached = name
        return reached

    def as_dict(self) -> dict[str, float]:
        """The four boundaries, for documentation and config round-trips."""
        return {name: getattr(self, name) for name in GATED_SEVERITIES}


class RuleBase:
    """What every rule declares: a stable id, its documentation and a documented ``Config``.

    Subclass ``SparkRule`` or ``WarehouseRule`` (never this class): the base says which
    part of the domain model ``check`` receives. ``id`` is dotted and part of the JSON
    contract; the class docstring is the user documentation printed by ``deanalyze explain``.
    """

    id: ClassVar[str] = ""
    kind: ClassVar[str] = ""

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
    def default_config(cls) -> Any:  # each rule's own frozen dataclass
        """The rule's defaults (a frozen ``Config`` instance)."""
        return cls.Config()


class SparkRule(RuleBase, Generic[ConfigT]):
    """A rule over one Spark ``Application``; ``ConfigT`` is the rule's own ``Config`` class."""

    kind: ClassVar[str] = "spark"

    def check(self, app: Application, config: ConfigT) -> Iterator[Finding]:
        """Yield this rule's findings for one application."""
        raise NotImplementedError


class WarehouseRule(RuleBase, Generic[ConfigT]):
    """A rule over one warehouse ``WarehouseHistory`` (BigQuery or Snowflake)."""

    kind: ClassVar[str] = "warehouse"

    def check(self, history: WarehouseHistory, config: ConfigT) -> Iterator[Finding]:
        """Yield this rule's findings for one query history."""
        raise NotImplementedError


Rule = SparkRule[Any] | WarehouseRule[Any]
RuleClass = type[SparkRule[Any]] | type[WarehouseRule[Any]]


@dataclass(frozen=True)
class EngineConfig:
    """Per-rule configs plus suppressions, as loaded from TOML (or the defaults)."""

    rule_configs: dict[str, Any] = field(default_factory=dict)
    disabled_rules: frozenset[str] = frozenset()
    suppressed_apps: tuple[str, ...] = ()
    suppressed: tuple[tuple[str, str], ...] = ()  # (rule id, app-name pattern)

    def config_for(self, rule: type[RuleBase]) -> Any:
        """The effective config of ``rule``."""
        return self.rule_configs.get(rule.id) or rule.default_config()

    def is_suppressed(self, rule_id: str, app_name: str) -> bool:
        """True when a suppression covers this rule for an application of this name."""
        if rule_id in self.disabled_rules:
            return True
        if any(fnmatch.fnmatchcase(app_name, p) for p in self.suppressed_apps):
            return True
        return any(rid == rule_id and fnmatch.fnmatchcase(app_name, p) for rid, p in self.suppressed)


def config_fields(config: Any) -> list[tuple[str, Any, str]]:
    """(name, value, doc) of every option of a rule config, for ``explain`` and the contract test."""
    return [(f.name, getattr(config, f.name), f.metadata.get("doc", "")) for f in fields(config)]
