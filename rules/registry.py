"""Every rule by id, and running them: the one place that knows the whole list.

Why explicit tuples instead of a directory scan: the list of rules is code a reader can
see and a type checker can check (sqlglot's optimizer ``RULES`` does the same), and a
stray helper module can never register itself by its file name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from analyzer.core.findings import Finding
from analyzer.core.model import Application
from analyzer.core.warehouse_model import WarehouseHistory
from rules.damping import one_early_warning_per_rule
from rules.engine import EngineConfig, RuleBase, SparkRule, WarehouseRule
from rules.spark import SPARK_RULES


def warehouse_rules() -> tuple[type[WarehouseRule[Any]], ...]:
    """The warehouse rules, imported on first use: they need pandas, which a Spark run never loads."""
    from rules.warehouse import WAREHOUSE_RULES

    return WAREHOUSE_RULES


def all_rules() -> tuple[type[RuleBase], ...]:
    """Every rule, Spark first."""
    return (*SPARK_RULES, *warehouse_rules())


@functools.cache
def rules_by_id() -> Mapping[str, type[RuleBase]]:
    """Every rule by its id; two rules with one id are a programming error caught at once."""
    rules = all_rules()
    by_id = {rule.id: rule for rule in rules}
    if len(by_id) != len(rules):
        raise RuntimeError("two rules share an id")
    return by_id

# Called with (rule id, subject, exception) when a rule fails on one subject; the default re-raises.
RuleErrorHandler = Callable[[str, Any, Exception], None]
Subject = TypeVar("Subject", Application, WarehouseHistory)


def _raise(rule_id: str, subject: object, err: Exception) -> None:
    raise err


def run_rules(apps: Iterable[Application], config: EngineConfig | None = None,
              on_error: RuleErrorHandler = _raise) -> list[Finding]:
    """Run every Spark rule over every application; findings sorted by severity."""
    return _run(apps, SPARK_RULES, config, lambda app: app.name, on_error)


def run_warehouse_rules(
    histories: Iterable[WarehouseHistory], config: EngineConfig | None = None,
    on_error: RuleErrorHandler = _raise,
) -> list[Finding]:
    """Run every warehouse rule over every query history (suppression patterns match the source)."""
    return _run(histories, warehouse_rules(), config, lambda history: history.source, on_error)


def _run(subjects: Iterable[Subject], rules: Sequence[type[SparkRule[Any]] | type[WarehouseRule[Any]]],
         config: EngineConfig | None, name_of: Callable[[Subject], str],
         on_error: RuleErrorHandler) -> list[Finding]:
    """Every rule on every subject; a rule failing on one subject loses only its findings.

    Of one rule's early warnings (``info``) on one subject only the largest is kept
    (``rules.damping.one_early_warning_per_rule``).
    """
    config = config or EngineConfig()
    findings: list[Finding] = []
    for item in subjects:
        for rule_cls in rules:
            if config.is_suppressed(rule_cls.id, name_of(item)):
                continue
            try:
                found = rule_cls().check(item, config.config_for(rule_cls))  # type: ignore[arg-type]
                findings.extend(one_early_warning_per_rule(found))
            except Exception as err:  # noqa: BLE001 - one odd input must not lose the whole report
                on_error(rule_cls.id, item, err)
    findings.sort(key=lambda f: (-f.severity_rank, -f.avoidable_core_hours, f.rule_id))
    return findings
