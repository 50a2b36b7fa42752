"""The one object every report format renders: what was read, found and skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.core.catalog import PriceCatalog
from analyzer.core.cost import AppCost
from analyzer.core.findings import Finding
from analyzer.core.model import Application, InputError
from analyzer.core.warehouse_model import WarehouseHistory

if TYPE_CHECKING:  # pandas-backed; the Spark path never imports it
    from analyzer.core.warehouse_cost import WarehouseCost


SCHEMA_VERSION = "1.3"  # 1.1: top_query_patterns; 1.2: info severity, confidence; 1.3: claim, what_if


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run of deanalyze produced, ready for any renderer."""

    generated_at: str
    applications: tuple[Application, ...]
    findings: tuple[Finding, ...] = ()
    errors: tuple[InputError, ...] = ()
    costs: tuple[AppCost, ...] = ()
    catalog: PriceCatalog | None = None
    warehouses: tuple[WarehouseHistory, ...] = ()
    warehouse_costs: tuple[WarehouseCost, ...] = ()
    show_sql_literals: bool = False
    schema_version: str = SCHEMA_VERSION
    tool_version: str = field(default="")
