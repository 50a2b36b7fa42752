"""The library API: everything the CLI, the weekly audit and a user's script call.

This is the orchestration layer. It wires sources (``connectors``), rules (``rules``),
the cost model (``analyzer.core``) and renderers (``reports``) together; it never
parses command-line options and never prints, so it can be used from a notebook, a
scheduler or the ``deanalyze`` command alike.

The names below load on first use (PEP 562): ``deanalyze spark-logs`` imports only what
reading a log needs before it starts a split-read worker, and the rules, prices and
warehouse code while that worker decodes (``benchmarks/README.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.api.analyze import analyze_source
    from analyzer.api.settings import SettingsError, load_prices, load_rules_config
    from analyzer.api.sources import SOURCES
    from analyzer.api.spark import analyze_found_logs, analyze_spark_logs, find_logs, read_log, read_logs
    from analyzer.api.warehouse import analyze_warehouse, analyze_warehouse_source
    from analyzer.core.errors import SourceSettingsError, UnreadableInput

_WHERE = {
    "analyze_source": "analyzer.api.analyze",
    "SettingsError": "analyzer.api.settings",
    "load_prices": "analyzer.api.settings",
    "load_rules_config": "analyzer.api.settings",
    "SOURCES": "analyzer.api.sources",
    "analyze_found_logs": "analyzer.api.spark",
    "analyze_spark_logs": "analyzer.api.spark",
    "find_logs": "analyzer.api.spark",
    "read_log": "analyzer.api.spark",
    "read_logs": "analyzer.api.spark",
    "analyze_warehouse": "analyzer.api.warehouse",
    "analyze_warehouse_source": "analyzer.api.warehouse",
    "SourceSettingsError": "analyzer.core.errors",
    "UnreadableInput": "analyzer.core.errors",
}

__all__ = [
    "SOURCES",
    "SettingsError",
    "SourceSettingsError",
    "UnreadableInput",
    "analyze_found_logs",
    "analyze_source",
    "load_prices",
    "load_rules_config",
    "analyze_spark_logs",
    "analyze_warehouse",
    "analyze_warehouse_source",
    "find_logs",
    "read_log",
    "read_logs",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
