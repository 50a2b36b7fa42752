"""Snowflake cost by role: ROLE_NAME reaches the model and is an owner key of the fleet history."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import DATA

from analyzer.cli import main

WAREHOUSE = DATA / "warehouse"


def test_role_is_an_owner_key(tmp_path: Path) -> None:
    history = str(tmp_path / "h.duckdb")
    args = ["snowflake", "--query-history-file", str(WAREHOUSE / "snowflake_query_history.csv"),
            "--metering-file", str(WAREHOUSE / "snowflake_warehouse_metering.csv"), "--history", history,
            "--owner-key", "role", "--format", "json"]
    assert CliRunner().invoke(main, args).exit_code == 0
    fleet = json.loads(CliRunner().invoke(main, ["history", "--history", history, "--format", "json"]).stdout)
    owners = {o["owner"] for o in fleet["owners"]}
    assert owners == {"role=TRANSFORMER", "role=REPORTER"}
    assert abs(sum(o["usd"] for o in fleet["owners"]) + fleet["unattributed_usd"] - fleet["total_usd"]) < 1e-6
