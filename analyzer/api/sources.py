"""The source registry: every input deanalyze reads, looked up by the CLI, the API and the audit.

Adding a source is one module in ``connectors/`` that declares ``SOURCE = SparkSource(...)``
or ``WarehouseSource(...)`` plus one line in ``SOURCES`` below: the CLI then has a command
with its options, the audit a ``[[table]]`` with its keys, and ``analyze_source`` reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from analyzer.core.sources import Settings, Source, SourceOption
from connectors.bigquery.source import SOURCE as BIGQUERY
from connectors.snowflake.source import SOURCE as SNOWFLAKE
from connectors.spark_eventlog.source import SOURCE as SPARK_LOGS
from connectors.spark_history.source import SOURCE as SPARK_HISTORY


def _checking_engine(source: Source) -> Source:
    """A Spark source whose ``check`` also checks the engine settings (the CLI and the audit call it)."""
    if source.kind != "spark":
        return source
    own = source.check

    def check(settings: Settings) -> None:
        own(settings)
        if settings.get("engine") == "spark" or settings.get("master"):
            from analyzer.api.spark_engine import check_engine  # pyspark's checks: only when asked for

            check_engine(settings)

    return dataclasses.replace(source, check=check)


_REGISTERED: tuple[Source, ...] = (
    SPARK_LOGS,
    SPARK_HISTORY,
    SNOWFLAKE,
    BIGQUERY,
)
SOURCES: tuple[Source, ...] = tuple(_checking_engine(source) for source in _REGISTERED)

__all__ = ["BY_AUDIT_TABLE", "BY_NAME", "SOURCES", "SPARK_ANALYSIS_OPTIONS", "Source", "SourceOption",
           "options_of"]

BY_NAME: Mapping[str, Source] = {s.name: s for s in SOURCES}
BY_AUDIT_TABLE: Mapping[str, Source] = {s.audit_table: s for s in SOURCES}

#: Options of every Spark source: how to read the logs and how to price the runs.
SPARK_ANALYSIS_OPTIONS: tuple[SourceOption, ...] = (
    SourceOption("jobs", "Parse this many logs in parallel processes; auto: one per usable CPU.",
                 type="workers", default="auto", minimum=1,
                 short="-j", show_default=True),
    SourceOption("engine", "Where logs are read: local (this machine, --jobs processes) or spark "
                 "(a Spark cluster's executors; needs pip install 'deanalyze[spark]').", type="choice",
                 choices=("local", "spark"), default="local", show_default=True),
    SourceOption("master", "Spark master URL for --engine spark (default: the active session under "
                 "spark-submit, else local[*]).", type="str"),
    SourceOption("spot", "Executors run on spot/preemptible capacity (catalog's discount).", type="bool"),
    SourceOption("show_sql_literals", "Keep literals in Spark SQL descriptions shown in reports "
                 "(masked by default).", type="bool"),
    SourceOption("runs_per_month", "Runs a month, for the monthly projection "
                 "(default: inferred from several runs).", type="float", minimum=0),
)


def options_of(source: Source) -> tuple[SourceOption, ...]:
    """Every option a source takes: its own, then those of its kind."""
    return source.options + (SPARK_ANALYSIS_OPTIONS if source.kind == "spark" else ())
