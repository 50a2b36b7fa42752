"""The library API: everything the CLI, the weekly audit and a user's script call.

This is the orchestration layer. It wires sources (``connectors``), rules (``rules``),
the cost model (``analyzer.core``) and renderers (``reports``) together; it never
parses command-line options and never prints, so it can be used from a notebook, a
scheduler or the ``deanalyze`` command alike.
"""

from analyzer.api.analyze import analyze_source
from analyzer.api.settings import SettingsError, load_prices, load_rules_config
from analyzer.api.sources import SOURCES
from analyzer.api.spark import analyze_found_logs, analyze_spark_logs, find_logs, read_log, read_logs
from analyzer.api.warehouse import analyze_warehouse, analyze_warehouse_source
from analyzer.core.errors import SourceSettingsError, UnreadableInput

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
