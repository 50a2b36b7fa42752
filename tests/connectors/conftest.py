"""Connector test fixtures: a real Spark History Server serving some of the bundled logs.

The top-level conftest's names are re-exported here, and that is deliberate: ``tests/``
has no ``__init__.py``, so pytest imports every ``conftest.py`` as the module ``conftest``,
and once this one is loaded (``connectors/`` sorts before ``test_*.py``) the top-level
test modules' ``from conftest import EVENTS`` would resolve to this file and fail.
"""

from __future__ import annotations

import importlib.util
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from history_server import HistoryServer, java_available, spark_home, start_history_server


def _top_level_names() -> dict[str, Any]:
    """The top-level conftest's paths and helpers (not its fixtures, which pytest already has)."""
    top = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_tests_top_conftest", top)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and isinstance(value, (Path, str, type, types.FunctionType))
            and not hasattr(value, "_pytestfixturefunction")}


globals().update(_top_level_names())

_DATA = Path(__file__).resolve().parents[1] / "data"
_GENERATED = _DATA / "generated"
_KUBEFLOW = _DATA / "spark-events" / "kubeflow-mcp-apache-spark-history-server"
_E2E = _KUBEFLOW / "skills" / "cli" / "e2e" / "spark-events"

# app id -> its logs: a Spark 1.4 plain file, zstd and lz4 files, a rolling zstd folder, and
# a YARN app with two attempts (the first one never finished).
HISTORY_APPS: dict[str, list[Path]] = {
    "local-1430917381534": [_DATA / "spark-events" / "apache-spark" / "spark-events" / "local-1430917381534"],
    "local-1795877657976": [_GENERATED / "zstd" / "local-1795877657976.zstd"],
    "local-1795877684997": [_GENERATED / "lz4" / "local-1795877684997.lz4"],
    "local-1795877831611": [_GENERATED / "rolling-zstd" / "eventlog_v2_local-1795877831611"],
    "application_1713000000000_0001": [_E2E / "application_1713000000000_0001_1.zstd",
                                       _E2E / "application_1713000000000_0001_2.zstd"],
}


@pytest.fixture(scope="session")
def history_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryServer]:
    """Spark's History Server on 127.0.0.1 serving ``HISTORY_APPS``; skipped without pyspark or Java."""
    if spark_home() is None:
        pytest.skip("pyspark with bin/spark-class is not installed")
    if not java_available():
        pytest.skip("Java is not installed")
    server = start_history_server(HISTORY_APPS, tmp_path_factory.mktemp("history-server"))
    try:
        yield server
    finally:
        server.stop()
