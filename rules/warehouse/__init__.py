"""Warehouse rules (BigQuery, Snowflake), one per module, listed here explicitly.

Adding a rule: write ``rules/warehouse/<name>.py`` with a ``WarehouseRule`` subclass, then
add it to ``WAREHOUSE_RULES``.
"""

from rules.engine import WarehouseRule
from rules.warehouse.bigquery_pricing_model import PricingModel
from rules.warehouse.full_scan import FullScan
from rules.warehouse.repeated_query import RepeatedQuery
from rules.warehouse.select_star import SelectStar
from rules.warehouse.snowflake_idle import IdleWarehouse
from rules.warehouse.snowflake_oversized import OversizedWarehouse
from rules.warehouse.snowflake_undersized import UndersizedWarehouse

WAREHOUSE_RULES: tuple[type[WarehouseRule], ...] = (  # type: ignore[type-arg]
    PricingModel,
    FullScan,
    RepeatedQuery,
    SelectStar,
    IdleWarehouse,
    OversizedWarehouse,
    UndersizedWarehouse,
)

__all__ = ["WAREHOUSE_RULES"]
