"""The run history store: what every analysis recorded, and the fleet view built from it.

Steps, one module each:

- ``store``: the DuckDB file, its versioned schema (migrations) and the one-writer rule;
- ``incremental``: logs already in the store are not read again (``HistoryLogCache``);
- ``record``, ``warehouse_rows``: a finished ``Report`` into rows (runs, stages, findings,
  warehouse hours); ``identity`` gives each run its recurring key, ``owners`` its owner;
- ``recurring``, ``regressions``, ``tracking``: recurring applications, regressions
  against robust baselines, findings followed across runs;
- ``fleet``: the ``FleetReport`` the renderers show; ``export``: the Parquet dataset.

The entry points below are what the CLI and the weekly audit call.
"""

from analyzer.api.history.export import export_history
from analyzer.api.history.fleet import (
    analyze_into_history,
    analyze_source_into_history,
    analyze_spark_with_history,
    analyze_warehouse_with_history,
    fleet_report,
    record_report,
    render_fleet,
)
from analyzer.api.history.store import HistoryBusy, HistoryError, open_store
from analyzer.core.fleet import FleetReport

__all__ = [
    "FleetReport",
    "HistoryBusy",
    "HistoryError",
    "analyze_into_history",
    "analyze_source_into_history",
    "analyze_spark_with_history",
    "analyze_warehouse_with_history",
    "export_history",
    "fleet_report",
    "open_store",
    "record_report",
    "render_fleet",
]
