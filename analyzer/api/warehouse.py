"""The library API for warehouses: BigQuery and Snowflake query histories into a ``Report``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from analyzer import __version__
from analyzer.api.errors import rule_error_collector
from analyzer.core.catalog import PriceCatalog, load_catalog
from analyzer.core.errors import UnreadableInput
from analyzer.core.model import InputError
from analyzer.core.report import Report
from analyzer.core.warehouse_model import WarehouseHistory
from rules.engine import EngineConfig
from rules.registry import run_warehouse_rules


def analyze_warehouse_source(read: Callable[[], WarehouseHistory], source: str, *,
                             rules_config: EngineConfig | None = None, catalog_name: str | None = None,
                             catalog: PriceCatalog | None = None, edition: str = "standard",
                             show_sql_literals: bool = False) -> Report:
    """Read one warehouse history with ``read`` and analyse it; unreadable input is a report error.

    ``source`` names the input in that error when the connector's error does not.
    """
    histories, errors = [], []
    try:
        histories.append(read())
    except UnreadableInput as err:
        partial = getattr(err, "history", None)  # PartialHistoryError: a side file or rows left out
        if partial is not None:
            histories.append(partial)
        for where, message in getattr(err, "problems", [(err.source or source, err.message)]):
            errors.append(InputError(source=where or source, message=message))
    return analyze_warehouse(histories, errors=errors, rules_config=rules_config, catalog_name=catalog_name,
                             catalog=catalog, edition=edition, show_sql_literals=show_sql_literals)


def analyze_warehouse(histories: Sequence[WarehouseHistory], *, errors: Sequence[InputError] = (),
                      rules_config: EngineConfig | None = None, catalog_name: str | None = None,
                      catalog: PriceCatalog | None = None, edition: str = "standard",
                      show_sql_literals: bool = False) -> Report:
    """Price warehouse query histories, run the warehouse rules, and return the report.

    ``catalog`` (already loaded) wins over ``catalog_name``.
    """
    from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history

    catalog = catalog or load_catalog(catalog_name)
    costs = [price_history(h, catalog, edition=edition) for h in histories]
    findings = []
    all_errors = list(errors)
    on_error = rule_error_collector(all_errors, False)
    for history, cost in zip(histories, costs, strict=True):
        findings += assign_warehouse_savings(run_warehouse_rules([history], rules_config, on_error), cost)
    findings.sort(key=lambda f: (-f.estimated_savings_usd, -f.severity_rank, f.rule_id))
    return Report(
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        applications=(), findings=tuple(findings), errors=tuple(all_errors), catalog=catalog,
        warehouses=tuple(histories), warehouse_costs=tuple(costs), show_sql_literals=show_sql_literals,
        tool_version=__version__,
    )
