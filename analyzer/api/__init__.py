"""The library API: everything the CLI, the weekly audit and a user's script call.

This is the orchestration layer. It wires sources (``connectors``), rules (``rules``),
the cost model (``analyzer.core``) and renderers (``reports``) together; it never
parses command-line options and never prints, so it can be used from a notebook, a
scheduler or the ``deanalyze`` command alike.
"""

from analyzer.api.spark import analyze_spark_logs, find_logs, read_log, read_logs
from analyzer.api.warehouse import analyze_warehouse, analyze_warehouse_source

__all__ = [
    "analyze_spark_logs",
    "analyze_warehouse",
    "analyze_warehouse_source",
    "find_logs",
    "read_log",
    "read_logs",
]
