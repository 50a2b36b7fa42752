"""One call that analyses any registered source: the CLI and the audit both end here."""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from analyzer.api.spark import LogCache, LogReader, ProgressCallback, analyze_found_logs
from analyzer.core.report import Report
from analyzer.core.sources import Source

if TYPE_CHECKING:
    from analyzer.core.catalog import PriceCatalog
    from rules.engine import EngineConfig


def _reader(settings: Mapping[str, Any], debug: bool, progress: ProgressCallback | None) -> LogReader | None:
    """The engine's reader: None (``read_logs`` with ``jobs``) for local, Spark executors for spark."""
    if settings.get("engine") != "spark":
        return None
    from analyzer.api.spark_engine import spark_reader

    return spark_reader(master=settings.get("master") or None, debug=debug, progress=progress)


def analyze_source(source: Source, settings: Mapping[str, Any], *, catalog: PriceCatalog,
                   rules_config: EngineConfig | None = None, debug: bool = False,
                   progress: ProgressCallback | None = None,
                   on_sources: Callable[[int], None] | None = None,
                   history: LogCache | None = None) -> Report:
    """Read ``source`` with ``settings`` (validated by ``source.check``) and analyse it into a report.

    ``history`` (Spark only): logs a run history already holds are not read again.
    """
    if source.kind == "spark":
        from analyzer.core.cost import CostSettings  # here: a warehouse run needs no Spark cost model

        with tempfile.TemporaryDirectory(prefix="deanalyze-") as scratch:  # downloads live until read
            logs, errors = source.find(settings, scratch)
            cost = CostSettings(catalog=catalog, spot=bool(settings.get("spot")),
                                runs_per_month=settings.get("runs_per_month"))
            if cost.spot_warning:  # the report's cost notes say it too
                print(f"deanalyze: {cost.spot_warning}", file=sys.stderr)
            jobs = settings.get("jobs") or "auto"
            report = analyze_found_logs(logs, errors, jobs=jobs, debug=debug,  # type: ignore[arg-type]
                                        progress=progress, on_sources=on_sources, rules_config=rules_config,
                                        cost_settings=cost, history=history,
                                        reader=_reader(settings, debug, progress))
            # SQL descriptions stay raw in the model (rules read them); renderers mask their literals
            # unless the user opted in, as for warehouse SQL.
            return dataclasses.replace(report, show_sql_literals=bool(settings.get("show_sql_literals")))
    from analyzer.api.warehouse import analyze_warehouse_source

    return analyze_warehouse_source(lambda: source.read(settings), source.label(settings),
                                    rules_config=rules_config, catalog=catalog,
                                    edition=str(settings.get("edition") or "standard"),
                                    show_sql_literals=bool(settings.get("show_sql_literals")))
