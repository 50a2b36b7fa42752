"""Shared paths and helpers for the test suite."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

DATA = TESTS / "data"
EVENTS = DATA / "spark-events"
ANSWERS = DATA / "shs-4.3"
GENERATED = DATA / "generated"
SHARED = TESTS.parent.parent / "shared" / "spark-events"
SCHEMA = TESTS.parent / "reports" / "schema" / "report.schema.json"


@pytest.fixture(scope="session")
def shared_events() -> Path:
    """The full shared corpus; tests using it skip on a clone without ../shared."""
    if not (SHARED / "shs-4.3" / "INDEX.json").exists():
        pytest.skip("../shared/spark-events is not present")
    return SHARED


@pytest.fixture(scope="session")
def report_schema() -> dict:
    return json.loads(SCHEMA.read_text())


def load_report(text: str) -> dict:
    """Parse a JSON report and validate it against the published schema (every JSON the tests make)."""
    import jsonschema

    doc = json.loads(text)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    return doc


from history_server import history_server  # noqa: E402,F401  (fixture: Spark's History Server on 127.0.0.1)
