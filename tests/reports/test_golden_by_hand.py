"""The BigQuery golden report's bill, checked line by line against figures computed by hand.

Why: tests/reports/test_golden.py only says the rendered report equals the golden file; nothing
else checked that the golden file's numbers are right. Here the bill is recomputed from
the fixture export (tests/data/warehouse/bigquery_jobs.jsonl) with BigQuery's own billing
rules, written as plain Python in this file: on demand, $6.25 per TiB of
``total_bytes_billed`` with at least 10 MiB per referenced table, cache hits, failed and
unbilled jobs free (a job its user cancelled, error reason ``stopped``, is billed for what
it read); reservation jobs, slot-hours at $0.04 (standard edition); SCRIPT
parents left out because their child jobs carry the bytes. Every figure shown in the
report's bill tables and summary must equal these within the precision it is printed with.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "tests/data/warehouse/bigquery_jobs.jsonl"
GOLDEN = ROOT / "tests/golden/bigquery-report.md"
USD_PER_TIB, USD_PER_SLOT_HOUR = 6.25, 0.04
TIB, MIB = 1024**4, 1024**2


def _bill() -> dict[str, dict[str, float]]:
    """Per pool (reservation, else project) and for the project as a whole: jobs, TiB, slot-hours, $."""
    pools: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    project: dict[str, float] = defaultdict(float)
    for line in JOBS.read_text().splitlines():
        job = json.loads(line)
        if (job["statement_type"] or "").upper() == "SCRIPT":
            continue
        billed = job["total_bytes_billed"] or job["total_bytes_processed"]
        billed = int(billed) if billed is not None else 0
        tables = len(job["referenced_tables"] or [])
        error = job["error_result"]
        failed = error is not None and error.get("reason") != "stopped"
        free = job["cache_hit"] or failed or billed <= 0
        tib = 0.0 if free else max(billed, 10 * MIB * max(1, tables)) / TIB
        slot_hours = int(job["total_slot_ms"] or 0) / 3_600_000
        reservation = job["reservation_id"]
        paid = slot_hours * USD_PER_SLOT_HOUR if reservation else tib * USD_PER_TIB
        pool = pools[reservation or job["project_id"]]
        for key, value in (("jobs", 1), ("tib", tib), ("slot_hours", slot_hours), ("usd", paid)):
            pool[key] += value
            project[key] += value
        project["on_demand"] += tib * USD_PER_TIB
        project["editions"] += slot_hours * USD_PER_SLOT_HOUR
    return {**pools, "total": project}


def _number(cell: str) -> float:
    return float(cell.strip().lstrip("$").replace(",", ""))


def _row(text: str, first_cells: str) -> list[str]:
    line = next((ln for ln in text.splitlines() if ln.startswith(f"| {first_cells} |")), None)
    assert line is not None, f"no table row starting with {first_cells!r}"
    return [c.strip() for c in line.strip("|").split("|")]


def _close(shown: str, value: float) -> None:
    """``shown`` equals ``value`` to the last digit printed."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    assert _number(shown) == pytest.approx(value, abs=0.5 * 10**-decimals + 1e-12), (shown, value)


@pytest.fixture(scope="module")
def golden() -> str:
    return GOLDEN.read_text()


@pytest.fixture(scope="module")
def bill() -> dict[str, dict[str, float]]:
    return _bill()


def test_hand_bill_is_what_the_fixture_says(bill: dict[str, dict[str, float]]) -> None:
    # 34 jobs, 3 SCRIPT parents: 24 on demand, 6 on etl-prod (the scripts' children), 1 on adhoc.
    assert {k: int(v["jobs"]) for k, v in bill.items()} == {
        "acme-analytics": 24, "acme-admin:US.etl-prod": 6, "acme-admin:US.adhoc": 1, "total": 31}


@pytest.mark.parametrize(("pool", "kind"), [("acme-analytics", "project"),
                                            ("acme-admin:US.etl-prod", "reservation"),
                                            ("acme-admin:US.adhoc", "reservation")])
def test_bill_per_pool_line(golden: str, bill: dict[str, dict[str, float]], pool: str, kind: str) -> None:
    name, shown_kind, jobs, usd, billed = _row(golden, f"{pool} | {kind}")
    assert (name, shown_kind, int(jobs)) == (pool, kind, int(bill[pool]["jobs"]))
    _close(usd, bill[pool]["usd"])
    # the billed column shows the unit the pool pays in, at its price: TiB on demand, slot-hours reserved
    units, unit = billed.split(" × ")[0].split(" ", 1)
    assert unit == ("TiB billed" if kind == "project" else "slot-hours")
    _close(units, bill[pool]["tib"] if kind == "project" else bill[pool]["slot_hours"])


def test_pricing_comparison_line(golden: str, bill: dict[str, dict[str, float]]) -> None:
    total = bill["total"]
    name, jobs, on_demand, editions, paid = _row(golden, "acme-analytics | 31")
    assert int(jobs) == total["jobs"]
    _close(on_demand, total["on_demand"])
    _close(editions, total["editions"])
    _close(paid, total["usd"])


def test_summary_lines(golden: str, bill: dict[str, dict[str, float]]) -> None:
    assert "- Read **34 BigQuery queries** from `tests/data/warehouse/bigquery_jobs.jsonl`" in golden
    shown = re.search(r"\*\*Total cost: (\$[\d,.]+)\*\*", golden)
    assert shown is not None
    _close(shown.group(1), bill["total"]["usd"])
    savings = re.search(r"\*\*Potential savings: (\$[\d,.]+)\*\*", golden)
    assert savings is not None and _number(savings.group(1)) <= bill["total"]["usd"]


def test_the_costliest_pattern_is_the_select_star_on_events(golden: str) -> None:
    # Five on-demand runs of `SELECT * FROM web.events WHERE user_id = ...`: 93 TiB in all (each run's
    # bytes billed summed by hand from the fixture: 18 + 19 + 16 + 21 + 19 TiB).
    rows = [ln for ln in golden.splitlines() if ln.startswith("| 1 | 5 |")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    _close(cells[2], 93 * USD_PER_TIB)
    assert "user_id = ?" in cells[5] and "'" not in cells[5]
