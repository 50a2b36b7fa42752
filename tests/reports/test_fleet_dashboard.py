"""The fleet dashboard in a real headless Chromium, offline: no console errors, every chart rendered,
hostile names shown as text, usable at 420 px. Skips only when Debian's chromium is missing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_history import HOSTILE, build_history

from analyzer.api.history import fleet_report
from reports.fleet_html import FleetHtmlRenderer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALL_PLOTTED = (
    "document.querySelectorAll('[data-figure]').length > 0 && [...document.querySelectorAll("
    "'[data-figure]')].every(d => d.querySelector('svg.main-svg'))"
)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dash")
    path = folder / "fleet.html"
    path.write_bytes(FleetHtmlRenderer().render(fleet_report(build_history(folder))))
    return path


def test_the_page_is_offline_and_escapes_names(page_path: Path) -> None:
    from plotly.offline import get_plotlyjs

    text = page_path.read_text()
    assert get_plotlyjs() in text
    own = text.replace(get_plotlyjs(), "")  # plotly.js itself holds HTML and link snippets
    assert "<script>alert(1)</script>" not in own and "<img" not in own
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in own
    assert not re.search(r"""\b(?:src|href)=["']?(?:https?:)?//""", own)
    tags = re.findall(r"<script[^>]*>", own)
    assert tags.count("<script>") == 2  # plotly.js and the boot script; the rest are JSON data islands
    assert all(t == "<script>" or t.startswith('<script type="application/json"') for t in tags)
    assert FleetHtmlRenderer(plotlyjs="cdn").plotlyjs == "cdn"
    with pytest.raises(ValueError):
        FleetHtmlRenderer(plotlyjs="nope")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """The page from file:// with the network cut off, and everything it complained about."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []
        self.network: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function(ALL_PLOTTED, timeout=30_000)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.network.append(route.request.url)
            route.abort()


def test_browser_renders_every_chart_without_errors(browser: Any, page_path: Path) -> None:
    v = Visit(browser, page_path, 1400)
    charts = v.page.eval_on_selector_all(
        "[data-figure]",
        "ds => ds.map(d => [d.id, d.querySelectorAll('svg.main-svg').length, "
        "d.querySelectorAll('.trace').length])",
    )
    assert {c[0] for c in charts} == {"chart-daily", "chart-owners", "chart-findings"}
    assert all(svgs >= 1 and traces >= 1 for _, svgs, traces in charts), charts
    assert v.page.locator("#applications svg.spark").count() >= 4
    assert v.console == [] and v.errors == [] and v.network == []
    for anchor in (
        "summary",
        "costs",
        "owners",
        "applications",
        "movers",
        "regressions",
        "findings",
        "savings",
    ):
        assert v.page.locator(f"#{anchor}").count() == 1
    assert "local-1900000000006" in v.page.inner_text("#regressions")
    assert "(unattributed)" in v.page.inner_text("#owners")
    assert "spark.skew" in v.page.inner_text("#savings")
    v.page.close()


def test_browser_shows_hostile_names_as_text(browser: Any, page_path: Path) -> None:
    v = Visit(browser, page_path, 1400)
    assert HOSTILE in v.page.inner_text("#applications")
    assert HOSTILE in v.page.inner_text("#owners")
    assert v.page.evaluate("typeof window.__xss") == "undefined"
    assert v.dialogs == [] and v.page.locator("img[src=x]").count() == 0
    v.page.close()


def test_browser_is_usable_at_420_px(browser: Any, page_path: Path) -> None:
    v = Visit(browser, page_path, 420)
    assert v.page.evaluate("document.documentElement.scrollWidth") <= 420
    widths = v.page.eval_on_selector_all(
        "[data-figure]", "ds => ds.map(d => d.getBoundingClientRect().width)"
    )
    assert widths and all(0 < w <= 420 for w in widths)
    assert v.console == [] and v.errors == []
    v.page.close()
