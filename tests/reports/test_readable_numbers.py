"""Numbers a reader can take in: no scientific notation, units in the values not the labels, code spans."""

from __future__ import annotations

import pytest

from analyzer.api.settings import option_number
from reports.fmt import evidence_label, fmt_evidence, fmt_number, fmt_usd_column
from reports.html_findings import prose, recommendation
from reports.markdown_text import md_prose


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3.11e-05, "0.0000311"),
        (0.601, "0.601"),
        (93.0935, "93.1"),
        (12_345.6, "12,346"),
        (0.0, "0"),
        (7.0, "7"),
    ],
)
def test_numbers_never_use_scientific_notation(value: float, shown: str) -> None:
    assert fmt_number(value) == shown


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("bytes_read", 1024**3, "1 GiB"),
        ("avg_file_bytes", 3 * 1024**2, "3 MiB"),
        ("data_size", 256 * 1024**2, "256 MiB"),
        ("pairs", 1e9, "1,000,000,000"),
        ("ratio", 0.25, "0.25"),
        ("target_file_bytes", 134217728, "128 MiB"),
    ],
)
def test_rule_options_are_shown_in_their_units(name: str, value: float, shown: str) -> None:
    assert option_number(name, value) == shown


def test_labels_drop_the_unit_their_value_shows() -> None:
    assert (
        evidence_label("app_duration_ms") == "app duration"
        and fmt_evidence("app_duration_ms", 97_000) == "1 min 37 s"
    )
    assert evidence_label("paid_tib_billed") == "paid TiB billed" and evidence_label("paid_usd") == "paid"
    assert (
        evidence_label("table_bytes") == "table size" and evidence_label("auto_suspend_s") == "auto suspend"
    )
    assert fmt_evidence("auto_suspend_s", 600) == "10 min 0 s" and fmt_evidence("known", False) == "no"


def test_one_money_format_per_column() -> None:
    assert fmt_usd_column([0.0407, 0.5, None]) == ["$0.0407", "$0.5000", "-"]
    assert fmt_usd_column([1234.5, 0.39, 0.0]) == ["$1,234.50", "$0.39", "$0.00"]


def test_backquoted_identifiers_stay_identifiers() -> None:
    text = "ALTER TABLE `acme.web.events` SET OPTIONS (x = TRUE); <b>|x"
    assert md_prose(text) == "ALTER TABLE `acme.web.events` SET OPTIONS (x = TRUE); &lt;b&gt;\\|x"
    assert md_prose("an ` odd quote") == "an ' odd quote"
    assert prose("FROM `a.b<c>` x") == "FROM <code>a.b&lt;c&gt;</code> x"


def test_conf_pairs_are_unbreakable_and_copyable() -> None:
    html = recommendation("Set --conf spark.sql.shuffle.partitions=480 (now 200).")
    assert '<span class="conf">spark.sql.shuffle.partitions=480</span>' in html
    assert '<button type="button" class="copy" data-copy>Copy</button>' in html
    assert "  --conf spark.sql.shuffle.partitions=480 \\" in html
