"""Every number in a report can be defended: each finding of each fixture report, walked.

For the bundled examples, the warehouse export fixtures and the hand-built warehouse weeks,
every finding's printed saving is re-derived from the units and the price printed beside
it (``saves $X (N unit × $P/unit − $C the change costs)``), every claim's arithmetic is
checked, totals stay within the bill less what the changes cost, every unit counted below
what a rule asked is explained, and no table holds a Python dict, ``None`` or a number in
scientific notation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import warehouse_history_factory as wf

from analyzer.api import analyze_spark_logs, analyze_warehouse
from analyzer.core.report import Report
from connectors.bigquery import read_bigquery_export
from connectors.snowflake import read_snowflake_export
from reports import RENDERERS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "warehouse"
HEADLINE = re.compile(
    r"saves \*\*\$([\d,.]+)\*\* [^(]*\(([\d,.]+) (core-hours|credits|TiB billed|slot-hours) "
    r"× \$([\d,.]+)/[\w-]+(?: − \$([\d,.]+) the change costs)?\)"
)
SCIENTIFIC = re.compile(r"\d\.?\d*e[+-]\d\d")


def _reports() -> dict[str, Report]:
    weeks = (
        "snowflake_full_scan_week",
        "bigquery_full_scan_week",
        "select_star_week",
        "dashboard_week",
        "oversized_week",
        "undersized_week",
        "idle_week",
        "on_demand_heavy_week",
    )
    return {
        "examples": analyze_spark_logs([str(ROOT / "examples" / "spark-events")]),
        "bigquery-export": analyze_warehouse(
            [
                read_bigquery_export(
                    str(DATA / "bigquery_jobs.jsonl"), str(DATA / "bigquery_table_storage.csv")
                )
            ]
        ),
        "snowflake-export": analyze_warehouse(
            [
                read_snowflake_export(
                    str(DATA / "snowflake_query_history.csv"), str(DATA / "snowflake_warehouse_metering.csv")
                )
            ]
        ),
        **{week: analyze_warehouse([getattr(wf, week)()]) for week in weeks},
    }


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return _reports()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_printed_saving_is_its_units_times_the_stated_price(reports: dict[str, Report]) -> None:
    checked = 0
    for name, report in reports.items():
        text = RENDERERS["md"]().render(report).decode()
        for saving, units, _, price, change in HEADLINE.findall(text):
            expected = max(0.0, _number(units) * _number(price) - (_number(change) if change else 0.0))
            # units are printed with 3 significant digits, prices and savings to the cent or 1/100 cent
            tolerance = 0.006 * _number(units) * _number(price) + 0.011
            assert _number(saving) == pytest.approx(expected, abs=tolerance), (name, saving, units, price)
            checked += 1
        headlines = text.count("· saves **$")
        assert checked and headlines == len(HEADLINE.findall(text)), name  # every headline states its units
    assert checked >= 20


def test_claims_add_up_and_stay_within_the_bill(reports: dict[str, Report]) -> None:
    for name, report in reports.items():
        bill = sum(c.total_usd for c in report.costs) + sum(c.total_usd for c in report.warehouse_costs)
        change = 0.0
        for f in report.findings:
            c = f.claim
            assert c is not None, (name, f.rule_id)
            exact = max(0.0, c.counted * c.usd_per_unit - c.change_cost_usd)
            assert 0 <= f.estimated_savings_usd <= exact + 1e-9 and exact - f.estimated_savings_usd < 0.01
            assert 0 <= c.counted <= c.asked + 1e-9
            if c.counted < c.asked - 1e-6:
                assert c.note, (name, f.rule_id, c)  # a unit not counted is explained: overlap or cap
            if f.estimated_savings_usd > 0:
                change += c.change_cost_usd
            if f.severity == "info":
                assert f.estimated_savings_usd == 0, (name, f.rule_id)
            elif f.estimated_savings_usd == 0:  # ranked without a saving: it must claim none (other impact)
                assert c.asked * c.usd_per_unit <= c.change_cost_usd + 0.01, (name, f.rule_id, c)
        total = sum(f.estimated_savings_usd for f in report.findings)
        assert total <= bill - change + 1e-6, name


def test_no_dicts_none_or_scientific_notation_in_reports(reports: dict[str, Report]) -> None:
    for name, report in reports.items():
        for fmt in ("md", "html"):
            text = RENDERERS[fmt]().render(report).decode()
            if fmt == "html":  # the text a reader sees, not plotly's figure data or scripts
                text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", text, flags=re.S))
            assert "{'" not in text and "[{" not in text, (name, fmt)
            assert not re.search(r"\|\s*None\s*\||>None<", text), (name, fmt)
            assert not SCIENTIFIC.search(text), (name, fmt, SCIENTIFIC.search(text))


def test_warehouse_findings_speak_warehouse_units(reports: dict[str, Report]) -> None:
    for name, report in reports.items():
        if report.applications:
            continue
        text = RENDERERS["md"]().render(report).decode()
        assert "core-hour" not in text, name
        assert all(f.claim and f.claim.unit != "core_hours" for f in report.findings), name


def test_bigquery_example_counts_the_scanned_tib_once() -> None:
    report = analyze_warehouse(
        [read_bigquery_export(str(DATA / "bigquery_jobs.jsonl"), str(DATA / "bigquery_table_storage.csv"))]
    )
    text = RENDERERS["md"]().render(report).decode()
    by_rule = {f.rule_id: f for f in report.findings if f.estimated_savings_usd > 0}
    scan, pricing = by_rule["warehouse.full-scan"], by_rule["bigquery.pricing-model"]
    assert pricing.claim is not None and pricing.claim.overlaps_with  # priced after the scan fix
    # bill $582.23 on demand; the reservation costs 900 slot-hours x $0.04 = $36
    assert pricing.claim.change_cost_usd == pytest.approx(36.0)
    total = scan.estimated_savings_usd + pricing.estimated_savings_usd
    assert total <= 582.23 - 36.0 + 0.01
    assert "net of $36.00 that the recommended changes cost" in text
    assert "(100% of the bill)" not in text
    assert "`acme-analytics.web.events`" in text  # an identifier, not a quoted string


BILLED = re.compile(r"\| \$([\d,.]+) \| ([\d,.]+) (credits|TiB billed|slot-hours) × \$([\d,.]+)/[\w-]+ \|")
PRICES = {"credits": "usd_per_credit", "tib_billed": "usd_per_tib", "slot_hours": "slot_hour_usd"}


def test_every_bill_and_paid_amount_converts_with_its_price(reports: dict[str, Report]) -> None:
    rows = 0
    for name, report in reports.items():
        text = RENDERERS["md"]().render(report).decode()
        for usd, units, _, price in BILLED.findall(text):  # the bill tables: cost | N unit × $P/unit
            expected = _number(units) * _number(price)
            assert _number(usd) == pytest.approx(expected, abs=0.0005 * expected + 0.011), (name, usd, units)
            rows += 1
        for cost in report.warehouse_costs:  # paid_<unit> evidence beside paid_usd
            for f in report.findings:
                paid = {
                    k[5:]: v
                    for k, v in f.evidence.items()
                    if k.startswith("paid_")
                    and k != "paid_usd"
                    and k[5:] in PRICES
                    and isinstance(v, int | float)
                }
                if paid:
                    expected = sum(v * getattr(cost, PRICES[u]) for u, v in paid.items())
                    assert f.evidence["paid_usd"] == pytest.approx(expected, abs=0.006), (name, f.rule_id)
    assert rows >= 10
