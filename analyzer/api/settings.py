"""Loading what a user configures — rule thresholds and price catalogs — with one error type.

Why: the CLI turns a ``SettingsError`` into a usage error (exit 2) and the audit into a
config error naming the key, without either knowing where rules or catalogs live.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.core.catalog import CatalogError, PriceCatalog, load_catalog
from rules.config import ConfigError, load_config
from rules.engine import EngineConfig, RuleBase, Thresholds, config_fields


class SettingsError(ValueError):
    """A rules config or price catalog that cannot be used; ``str()`` is one line naming the file."""


def load_rules_config(path: str | None) -> EngineConfig:
    """Thresholds and suppressions from ``path`` (default: ./deanalyze.toml when present)."""
    try:
        return load_config(path)
    except ConfigError as err:
        raise SettingsError(str(err)) from None


def load_prices(name_or_path: str | None) -> PriceCatalog:
    """A built-in price catalog by name, or a TOML file."""
    try:
        return load_catalog(name_or_path)
    except CatalogError as err:
        raise SettingsError(str(err)) from None


@dataclass(frozen=True, slots=True)
class RuleOption:
    """One option of a rule as ``deanalyze explain`` shows it."""

    name: str
    value: object
    doc: str

    @property
    def scale(self) -> str | None:
        """``ratio >= 2/4/8/16`` for a severity threshold, None for any other option."""
        if not isinstance(self.value, Thresholds):
            return None
        levels = "/".join(option_number(self.name, x) for x in self.value.as_dict().values())
        return f"{self.name} {'>=' if self.value.ascending else '<='} {levels}"

    @property
    def shown(self) -> str:
        """The value in words: ``low=2, medium=4, ...`` for thresholds."""
        if isinstance(self.value, Thresholds):
            return ", ".join(f"{k}={option_number(self.name, v)}" for k, v in self.value.as_dict().items())
        if isinstance(self.value, int | float) and not isinstance(self.value, bool):
            return option_number(self.name, self.value)
        return str(self.value)


_BINARY = (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def option_number(name: str, value: float) -> str:
    """An option value without scientific notation: sizes in binary units, other numbers in full.

    ``1073741824`` bytes -> ``1 GiB``; ``3145728`` -> ``3 MiB``; ``1e9`` pairs -> ``1,000,000,000``.
    """
    if "bytes" in name or name.endswith("_size"):  # data_size: the broadcast's bytes
        for unit, size in _BINARY:
            if abs(value) >= size:
                return f"{value / size:,.4g} {unit}"
        return f"{value:,.0f} B"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's id, kind, documentation and effective options."""

    id: str
    kind: str
    summary: str
    documentation: str
    options: tuple[RuleOption, ...]

    @property
    def scale(self) -> str:
        """Where the rule's four severities start (its first threshold option)."""
        return next((o.scale for o in self.options if o.scale), "")


def rule_infos(config: EngineConfig | None = None) -> list[RuleInfo]:
    """Every rule, sorted by id, with the options ``config`` gives it (defaults otherwise)."""
    from rules.registry import all_rules

    return sorted((_info(rule, config or EngineConfig()) for rule in all_rules()), key=lambda r: r.id)


def rule_info(rule_id: str, config: EngineConfig | None = None) -> RuleInfo | None:
    """One rule by id, or None when no rule has that id."""
    from rules.registry import rules_by_id

    rule = rules_by_id().get(rule_id)
    return None if rule is None else _info(rule, config or EngineConfig())


def _info(rule: type[RuleBase], config: EngineConfig) -> RuleInfo:
    options = tuple(RuleOption(n, v, d) for n, v, d in config_fields(config.config_for(rule)))
    return RuleInfo(id=rule.id, kind=rule.kind, summary=rule.summary(), documentation=rule.documentation(),
                    options=options)
