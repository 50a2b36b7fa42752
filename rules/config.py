"""Load rule thresholds and suppressions from a TOML file (``--config`` or ./deanalyze.toml).

Format::

    [rules."spark.skew"]
    time_ratio = { low = 3, medium = 5, high = 10, critical = 20 }
    min_stage_seconds = 120

    [rules."spark.gc-pressure"]
    enabled = false

    [suppress]
    apps = ["adhoc-*"]                                   # every rule, apps matching a pattern
    rules = [{ rule = "spark.small-files", app = "ingest-*" }]

Unknown rules or options are errors (a typo must not silently keep a default).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from analyzer.core.toml_files import TomlFileError, read_toml
from rules.engine import EngineConfig, RuleBase, Thresholds

DEFAULT_CONFIG_FILE = "deanalyze.toml"


class ConfigError(ValueError):
    """A config file that cannot be used; ``str()`` names the file and the problem."""


def load_config(path: str | Path | None = None) -> EngineConfig:
    """Read ``path`` (or ./deanalyze.toml when present) into an ``EngineConfig``."""
    if path is None:
        if not Path(DEFAULT_CONFIG_FILE).is_file():
            return EngineConfig()
        path = DEFAULT_CONFIG_FILE
    try:
        data = read_toml(path)
    except TomlFileError as err:
        raise ConfigError(str(err)) from None
    try:
        return parse_config(data)
    except (ValueError, TypeError, AttributeError) as err:  # AttributeError: a value of the wrong shape
        raise ConfigError(f"{path}: {err}") from None


def parse_config(data: dict[str, Any]) -> EngineConfig:
    """Validate and merge a parsed TOML document over the rules' defaults."""
    from rules.registry import rules_by_id  # every rule module: only when there is a file to check

    unknown = set(data) - {"rules", "suppress", "cost", "report"}
    if unknown:
        raise ValueError(f"unknown section(s): {', '.join(sorted(unknown))}")
    configs: dict[str, Any] = {}
    disabled: set[str] = set()
    for rule_id, options in (data.get("rules") or {}).items():
        rule = rules_by_id().get(rule_id)
        if rule is None:
            raise ValueError(f"unknown rule id {rule_id!r} (see 'deanalyze rules')")
        options = dict(options)
        if options.pop("enabled", True) is False:
            disabled.add(rule_id)
        configs[rule_id] = _merge(rule, options)
    suppress = data.get("suppress") or {}
    pairs = []
    for item in suppress.get("rules", []):
        if item.get("rule") not in rules_by_id():
            raise ValueError(f"suppress: unknown rule id {item.get('rule')!r}")
        pairs.append((item["rule"], str(item.get("app", "*"))))
    return EngineConfig(
        rule_configs=configs, disabled_rules=frozenset(disabled),
        suppressed_apps=tuple(str(p) for p in suppress.get("apps", [])), suppressed=tuple(pairs),
    )


def _merge(rule: type[RuleBase], options: dict[str, Any]) -> Any:
    """The rule's default config with ``options`` applied; thresholds merge level by level."""
    defaults = rule.default_config()
    known = {f.name for f in dataclasses.fields(defaults)}
    changes: dict[str, Any] = {}
    for name, value in options.items():
        if name not in known:
            raise ValueError(f"rule {rule.id}: unknown option {name!r} (known: {', '.join(sorted(known))})")
        current = getattr(defaults, name)
        if isinstance(current, Thresholds):
            if not isinstance(value, dict):
                raise ValueError(f"rule {rule.id}: {name} must be a table of low/medium/high/critical")
            value = dataclasses.replace(current, **value)
        elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif type(value) is not type(current):
            raise ValueError(f"rule {rule.id}: {name} must be a {type(current).__name__}")
        changes[name] = value
    return dataclasses.replace(defaults, **changes)
