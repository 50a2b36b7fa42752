"""The weekly audit's TOML config and ISO-week names, validated into frozen objects.

Every problem is one ``AuditConfigError`` line naming the file and the key, so a
scheduler's log says exactly what to fix. Relative paths resolve against the config
file's folder: a cron job's working folder is rarely the one the config was written in.

Format::

    [output]
    dir = "audit"                      # reports land in DIR/<ISO week>/
    formats = ["md", "json", "html"]   # default: all three
    prices = "generic"                 # price catalog name or TOML file (as --prices)
    rules_config = "deanalyze.toml"    # optional (as --config); default: built-in thresholds
    plotlyjs = "inline"                # HTML: inline or cdn
    history = "fleet.duckdb"           # optional run history (as --history); fleet.html beside the summary

    [[spark]]                          # name, paths, jobs, spot, runs_per_month
    [[snowflake]]                      # name, query_history_file + metering_file | connection | live
    [[bigquery]]                       # name, jobs_file + table_storage_file | project + region, edition

Every source table also takes ``owner_keys`` and ``app_keys`` (lists, as ``--owner-key`` and
``--app-key``) for the run history.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.api.sources import BY_AUDIT_TABLE, Source, SourceOption, options_of
from analyzer.core.errors import SourceSettingsError
from analyzer.core.toml_files import TomlFileError, read_toml

if TYPE_CHECKING:
    from analyzer.core.catalog import PriceCatalog
    from rules.engine import EngineConfig

FORMATS = ("md", "json", "html")
RESERVED_NAMES = frozenset({"summary"})  # summary.md / summary.json live beside the reports
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

_TOML_TYPES: dict[str, type] = {
    "str": str, "strs": list, "path": str, "paths": list, "int": int, "float": float, "bool": bool,
    "choice": str, "workers": object,
}


def _source_keys(source: Source) -> dict[str, type]:
    """The keys of a source's audit table and their TOML types, from the options it declares."""
    return {"name": str} | {o.name: _TOML_TYPES[o.type] for o in options_of(source) if o.audit}


# Allowed keys per table and their TOML types ("paths" is a list of strings).
_OUTPUT_KEYS: dict[str, type] = {
    "dir": str, "formats": list, "prices": str, "rules_config": str, "plotlyjs": str,
}
_KEYS: dict[str, dict[str, type]] = {"output": _OUTPUT_KEYS} | {
    table: _source_keys(source) for table, source in BY_AUDIT_TABLE.items()
}


HISTORY_KEYS = ("owner_keys", "app_keys")  # run-history settings of every source table (lists of strings)
_KEYS["output"]["history"] = str
for _table in BY_AUDIT_TABLE:
    _KEYS[_table].update(dict.fromkeys(HISTORY_KEYS, list))


class AuditConfigError(ValueError):
    """An unusable audit config or week; ``str()`` is one line naming the file and the key."""


@dataclass(frozen=True, slots=True)
class AuditSource:
    """One source of the audit: its table (spark, snowflake, bigquery, ...), name and validated settings.

    ``settings`` holds the table's keys with relative paths already resolved; ``source`` is
    the registered source the table names.
    """

    kind: str
    name: str
    settings: dict[str, Any]
    source: Source

    def get(self, key: str, default: Any = None) -> Any:
        """A setting, or ``default`` when the config left it out."""
        return self.settings.get(key, default)


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Where reports go, in which formats, at which prices, and the sources to read."""

    path: Path
    output_dir: Path
    formats: tuple[str, ...]
    prices: str
    rules_config: str | None
    plotlyjs: str
    sources: tuple[AuditSource, ...]
    catalog: PriceCatalog
    rules: EngineConfig
    history: str | None = None  # the run history file (``[output] history``)


def load_audit_config(path: str | os.PathLike[str]) -> AuditConfig:
    """Read and validate ``path``; raises ``AuditConfigError`` (one line) on any problem."""
    path = Path(path)
    try:
        data = read_toml(path)
    except TomlFileError as err:
        raise AuditConfigError(str(err)) from None
    try:
        return _parse(data, path)
    except ValueError as err:
        raise AuditConfigError(f"{path}: {err}") from None


def _parse(data: dict[str, Any], path: Path) -> AuditConfig:
    base = path.resolve().parent
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown section [{unknown[0]}] (expected [output], {_tables_in_words()})")
    output = data.get("output", {})
    if not isinstance(output, dict):
        raise ValueError("[output] must be a table")
    _check_types(output, "output", "[output]")
    formats = tuple(output.get("formats", FORMATS))
    bad = [f for f in formats if f not in FORMATS] or ([] if formats and len(set(formats)) == len(formats)
                                                       else ["(empty or repeated)"])
    if bad:
        raise ValueError(f"output.formats: {bad[0]!r} is not a list of distinct formats from md, json, html")
    plotlyjs = output.get("plotlyjs", "inline")
    if plotlyjs not in ("inline", "cdn"):
        raise ValueError(f"output.plotlyjs: {plotlyjs!r} is not 'inline' or 'cdn'")
    rules_config = output.get("rules_config")
    prices = _prices(base, output.get("prices", "generic"))
    rules_path = None if rules_config is None else resolve_path(base, rules_config)
    return AuditConfig(
        path=path, output_dir=Path(resolve_path(base, output.get("dir", "audit"))), formats=formats,
        prices=prices, rules_config=rules_path, plotlyjs=plotlyjs, sources=_sources(data, base),
        catalog=_catalog(prices), rules=_rules(rules_path),
        history=None if output.get("history") is None else resolve_path(base, output["history"]),
    )


def _sources(data: dict[str, Any], base: Path) -> tuple[AuditSource, ...]:
    sources: list[AuditSource] = []
    seen: dict[str, str] = {}
    for kind in BY_AUDIT_TABLE:
        tables = data.get(kind, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ValueError(f"[{kind}] must be written [[{kind}]] (an array of tables)")
        for i, table in enumerate(tables, start=1):
            source = _source(kind, table, f"[[{kind}]] #{i}", base)
            folded = source.name.lower()  # case-insensitive file systems would merge the reports
            if folded in seen:
                raise ValueError(f"[[{kind}]] name: {source.name!r} is used twice (also by {seen[folded]})")
            seen[folded] = f"[[{kind}]] #{i}"
            sources.append(source)
    if not sources:
        raise ValueError(f"no sources: add at least one {_tables_in_words()} table")
    return tuple(sources)


def _source(kind: str, table: dict[str, Any], where: str, base: Path) -> AuditSource:
    name = table.get("name")
    if name is None:
        raise ValueError(f"{where}: missing key 'name'")
    if not isinstance(name, str) or not SAFE_NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise ValueError(f"{where} name: {name!r} must be a file-safe name (letters, digits, '.', '_', '-'; "
                         f"not {', '.join(sorted(RESERVED_NAMES))})")
    where = f"[[{kind}]] {name!r}"
    _check_types(table, kind, where)
    source = BY_AUDIT_TABLE[kind]
    settings = {k: v for k, v in table.items() if k != "name"}
    for option in options_of(source):
        value = settings.get(option.name)
        if value is None:
            continue
        _check_value(option, value, where)
        if option.type == "path":
            settings[option.name] = resolve_path(base, value)
        elif option.type == "paths":
            settings[option.name] = tuple(resolve_path(base, p) for p in value)
    try:
        source.check(settings)
    except SourceSettingsError as err:
        raise ValueError(f"{where}: {err}") from None
    _check_history_keys(source, settings, where)
    return AuditSource(kind=kind, name=name, settings=settings, source=source)


def _check_history_keys(source: Source, settings: dict[str, Any], where: str) -> None:
    """``owner_keys`` valid for the source's kind (see ``analyzer.api.history.owners``); both as tuples."""
    from analyzer.api.history.owners import DEFAULT_OWNER_KEYS, check_owner_keys

    kind = "spark" if source.kind == "spark" else source.name
    for key in HISTORY_KEYS:
        if key in settings:
            settings[key] = tuple(settings[key])
    if settings.get("owner_keys") and kind in DEFAULT_OWNER_KEYS:
        try:
            check_owner_keys(kind, settings["owner_keys"])
        except ValueError as err:
            raise ValueError(f"{where} owner_keys: {err}") from None


def _check_value(option: SourceOption, value: Any, where: str) -> None:
    """Ranges and choices the option declares (types are checked before)."""
    if option.type == "workers":
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{where} {option.name}: {value!r} is not a positive whole number or 'auto'")
        return
    if option.choices and value not in option.choices:
        raise ValueError(f"{where} {option.name}: {value!r} is not one of {', '.join(option.choices)}")
    if option.minimum is not None and value < option.minimum:
        raise ValueError(f"{where} {option.name}: must be at least {option.minimum:g}")
    if option.maximum is not None and value > option.maximum:
        raise ValueError(f"{where} {option.name}: must be at most {option.maximum:g}")


def _tables_in_words() -> str:
    tables = [f"[[{t}]]" for t in BY_AUDIT_TABLE]
    return ", ".join(tables[:-1]) + f" or {tables[-1]}"


def _check_types(table: dict[str, Any], kind: str, where: str) -> None:
    allowed = _KEYS[kind]
    for key, value in table.items():
        expected = allowed.get(key)
        if expected is None:
            raise ValueError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
        if not _type_ok(value, expected):
            wanted = {list: "a list of strings", int: "an integer", float: "a number",
                      bool: "true or false", str: "a string"}[expected]
            raise ValueError(f"{where} {key}: {json.dumps(value, default=str)} is not {wanted}")


def _type_ok(value: Any, expected: type) -> bool:
    if expected is object:  # checked by the option itself (e.g. workers: a number or "auto")
        return True
    if isinstance(value, bool):  # TOML true is no number
        return expected is bool
    if expected is float:
        return isinstance(value, int | float)
    if expected is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, expected)


def _catalog(prices: str) -> PriceCatalog:
    from analyzer.core.catalog import CatalogError, load_catalog

    try:
        return load_catalog(prices)
    except CatalogError as err:
        raise ValueError(f"output.prices: {err}") from None


def _rules(path: str | None) -> EngineConfig:
    from rules.config import ConfigError, load_config
    from rules.engine import EngineConfig

    if path is None:  # not ./deanalyze.toml: a scheduled job's working folder is arbitrary
        return EngineConfig()
    try:
        return load_config(path)
    except ConfigError as err:
        raise ValueError(f"output.rules_config: {err}") from None


def _prices(base: Path, value: str) -> str:
    from analyzer.core.catalog import BUILTIN

    return value if value in BUILTIN else resolve_path(base, value)


def resolve_path(base: Path, value: str) -> str:
    """``value`` relative to the config's folder; URLs (``s3://...``) and absolute paths as given."""
    if "://" in value:
        return value
    expanded = Path(os.path.expanduser(value))
    return str(expanded if expanded.is_absolute() else base / expanded)


def parse_week(text: str) -> str:
    """``2026-W48`` validated (week 53 only in years that have one); raises ``AuditConfigError``."""
    match = WEEK.match(text.strip())
    if match:
        try:
            dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return f"{match[1]}-W{match[2]}"
        except ValueError:
            pass
    raise AuditConfigError(f"--week: {text!r} is not an ISO week like 2026-W48")


def current_week(today: dt.date | None = None) -> str:
    """The ISO week of ``today`` (default: today in UTC), e.g. ``2026-W48``."""
    year, week, _ = (today or dt.datetime.now(dt.UTC).date()).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week name."""
    year, number = (int(x) for x in week.split("-W"))
    monday = dt.date.fromisocalendar(year, number, 1)
    return monday, monday + dt.timedelta(days=6)
