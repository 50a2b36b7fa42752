"""snowflake.oversized-warehouse on a history without execution times: no crash, and no claim.

The fuzz suite found it: an export without EXECUTION_TIME made the rule take ``log2(inf)``.
Without execution times there is no evidence that a smaller size would do.
"""

from __future__ import annotations

import dataclasses

import warehouse_history_factory as wf

from analyzer.core.warehouse_model import WarehouseHistory
from rules.warehouse.snowflake_oversized import OversizedWarehouse, _steps_down


def test_steps_down_without_any_execution_time_is_zero() -> None:
    assert _steps_down(60.0, 0.0, timed=False) == 0
    assert _steps_down(60.0, 0.0, timed=True) > 10  # all instantaneous: any size would do
    assert _steps_down(60.0, 15.0, timed=True) == 2  # 60/15 = 4 = 2 doublings
    assert _steps_down(60.0, 16.0, timed=True) == 1
    assert _steps_down(60.0, 61.0, timed=True) == 0


def test_history_without_execution_times_gives_no_finding() -> None:
    queries = [dataclasses.replace(wf.sf_query(f"q{i}", "BIG", "X-Large", wf.T0 + i * wf.MINUTE, 1000),
                                   execution_ms=None) for i in range(50)]
    history = WarehouseHistory(vendor="snowflake", source="t", window_start_ms=wf.T0,
                               window_end_ms=wf.T0 + wf.HOUR, queries=queries,
                               metering=wf.metering(queries, "BIG", "X-Large", 60))
    assert list(OversizedWarehouse().check(history, OversizedWarehouse.Config())) == []
