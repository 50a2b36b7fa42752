"""The HTML dashboard: escaping, offline/CDN modes, the utilisation series, and a real headless Chromium.

The browser tests load the page from file:// with every non-file request aborted, so they
prove the inline page works offline. They need Debian's chromium at /usr/bin/chromium
(``.ci/run`` installs it) driven by playwright; they skip only when the binary is missing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EVENTS

from analyzer.api import analyze_spark_logs
from analyzer.cli import main
from analyzer.core.catalog import load_catalog
from analyzer.core.cost import CostSettings, price_report
from analyzer.core.findings import Finding
from analyzer.core.model import Application, Executor, Stage, StageMetrics, TaskDistributions
from analyzer.core.report import Report
from reports import RENDERERS
from reports.html_charts import distribution_chart, unique_labels
from reports.html_page import inline_markdown, script_json
from reports.html_report import HtmlRenderer
from reports.html_timeline import stage_concurrency, utilisation

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = EVENTS / "apache-spark/spark-events/local-1430917381534"
FAILING = (EVENTS / "NVIDIA-spark-rapids-tools/core/src/test/resources/spark-events-profiling"
           / "tasks_executors_fail_compressed_eventlog.zstd")
EXAMPLES = ROOT / "examples" / "spark-events"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ALL_PLOTTED = ("document.querySelectorAll('[data-figure]').length > 0 && [...document.querySelectorAll("
               "'[data-figure]')].every(d => d.querySelector('svg.main-svg'))")
HOSTILE = '</script><script>alert(1)</script><img src=x onerror="window.__xss=1">'


def hostile_log(folder: Path) -> Path:
    """The bundled sample log with its application renamed to an XSS payload."""
    log = folder / "local-1430917381534"
    name = json.dumps(HOSTILE)[1:-1]  # JSON-escaped, as Spark would write it
    log.write_text(SAMPLE.read_text().replace('"App Name":"Spark shell"', f'"App Name":"{name}"'))
    return log


def finding(app: Application, rule_id: str, severity: str, stage_id: int, saving: float,
            title: str) -> Finding:
    stage = next(s for s in app.stages if s.stage_id == stage_id)
    return Finding(
        rule_id=rule_id, severity=severity, title=title, estimated_savings_usd=saving,
        avoidable_core_hours=saving * 50,
        subject={"app_id": app.app_id, "attempt_id": app.attempt_id, "app_name": app.name,
                 "stage_id": stage_id, "stage_attempt_id": stage.attempt_id, "stage_name": stage.name},
        evidence={"max_task_ms": 93_000, "shuffle_read_bytes": 3 * 1024**3, "skew_ratio": 7.5},
        recommendation=f"Set --conf spark.sql.adaptive.skewJoin.enabled=true for {HOSTILE}",
        tradeoffs="More tasks <b>and</b> scheduling overhead.",
    )


def hand_report(paths: list[Path]) -> Report:
    """A real report of ``paths`` plus hand-made findings, so the table does not wait for the rules."""
    report = analyze_spark_logs([str(p) for p in paths])
    app = next(a for a in report.applications if a.name == HOSTILE)
    findings = (finding(app, "spark.skew", "high", 0, 0.004, f"Stage 0 of {app.name} is skewed"),
                finding(app, "spark.spill", "medium", 1, 0.0025, "Stage 1 spilled 3.0 GiB to disk"),
                finding(app, "spark.task-failures", "critical", 0, 0.0, "Tasks failed and were retried"))
    costs, _ = price_report(report.applications, [], CostSettings(catalog=load_catalog()))
    return replace(report, findings=findings, costs=tuple(costs))


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("hostile")
    # examples/ holds copies of the sample and of FAILING: leave them out so no app id repeats
    others = [EXAMPLES / "application_1553914137147_0018", *EXAMPLES.glob("eventlog_v2_*")]
    return hand_report([hostile_log(folder), FAILING, *others])


@pytest.fixture(scope="module")
def inline_page(hostile_report: Report) -> str:
    return HtmlRenderer().render(hostile_report).decode()


# --- escaping and modes -------------------------------------------------------------------------------------


def test_hostile_name_never_reaches_the_page_raw(inline_page: str) -> None:
    from plotly.offline import get_plotlyjs

    page = inline_page.replace(get_plotlyjs(), "")  # plotly.js itself holds HTML snippets
    assert "<script>alert(1)</script>" not in page and "<img" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;" in page  # text
    tags = re.findall(r"<script[^>]*>", page)
    assert len(tags) == page.count("</script>")
    assert tags.count("<script>") == 2  # plotly.js and the boot script; the rest are JSON data islands
    island = re.compile(r'<script type="application/json" id="chart-[a-z0-9-]+-data">')
    assert all(t == "<script>" or island.fullmatch(t) for t in tags)


def test_script_json_cannot_end_the_element() -> None:
    raw = json.dumps({"name": "</script><!-- & -->", "n": 1})
    safe = script_json(raw)
    assert not set("<>&") & set(safe)
    assert json.loads(safe) == json.loads(raw)


def test_inline_mode_is_offline(inline_page: str) -> None:
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs() in inline_page
    own = inline_page.replace(get_plotlyjs(), "")  # plotly.js holds link snippets it never fetches
    assert not re.search(r"<script[^>]*\bsrc=", own)
    assert not re.search(r"""\b(?:src|href)=["']?(?:https?:)?//""", own)
    assert "Content-Security-Policy" in inline_page and "unsafe-inline' ; " not in inline_page


def test_cdn_mode_is_small_and_loads_plotly_from_the_cdn(hostile_report: Report) -> None:
    page = HtmlRenderer(plotlyjs="cdn").render(hostile_report).decode()
    assert len(page) < 400_000
    assert re.search(r'<script src="https://cdn\.plot\.ly/plotly-[0-9.]+(?:-rc\.\d+)?\.min\.js"', page)
    assert "https://cdn.plot.ly" in page.split("Content-Security-Policy", 1)[1].split(">", 1)[0]


def test_renderer_options() -> None:
    assert isinstance(RENDERERS["html"](), HtmlRenderer)
    with pytest.raises(ValueError, match="plotlyjs"):
        HtmlRenderer(plotlyjs="local")


def test_cli_plotlyjs_option(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["spark-logs", str(SAMPLE), "--format", "html", "--plotlyjs", "cdn",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size < 200_000 and 'src="https://cdn.plot.ly/' in out.read_text()
    assert CliRunner().invoke(main, ["spark-logs", str(SAMPLE), "--plotlyjs", "web"]).exit_code == 2


def test_json_and_markdown_never_import_plotly() -> None:
    code = "\n".join([
        "import sys", "from analyzer.api import analyze_spark_logs", "from reports import RENDERERS",
        f"r = analyze_spark_logs([{str(SAMPLE)!r}])",
        "RENDERERS['json']().render(r)", "RENDERERS['md']().render(r)",
        "bad = [m for m in sys.modules if m.split('.')[0] in ('plotly', 'pandas')]", "assert not bad, bad"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


# --- content ------------------------------------------------------------------------------------------------


def test_page_has_every_section(inline_page: str) -> None:
    for anchor in ("summary", "costs", "utilisation", "tasks", "findings", "cost-table", "applications",
                   "governance", "methodology", "errors"):
        assert f'<section id="{anchor}">' in inline_page
    assert "Potential savings" in inline_page and "$0.0065" in inline_page  # 0.004 + 0.0025 + 0
    assert "<code>*********(redacted)</code>" in inline_page


def test_findings_table_rows_carry_numeric_sort_keys(inline_page: str) -> None:
    table = inline_page.split('<section id="findings">', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>.*?</tr>", table.split("<tbody>", 1)[1], re.S)  # paste blocks hold newlines
    assert len(rows) == 3
    assert 'data-sort="3"' in rows[2] and "sev-critical" in rows[2]  # critical rank, in report order
    assert 'data-sort="0.0025"' in rows[1] and "$0.0025" in rows[1]
    assert "1 min 33 s" in table and "3.0 GiB" in table  # evidence through reports.fmt
    assert "More tasks &lt;b&gt;and&lt;/b&gt;" in table


def test_skew_findings_choose_the_boxes(hostile_report: Report) -> None:
    chart = distribution_chart(hostile_report)
    assert chart is not None and chart.title == "Stages behind spark.skew findings"
    data = json.loads(chart.figure_json)["data"]
    assert len(data) == 1 and data[0]["y"][0].endswith("stage 0.0")
    assert "&lt;/script&gt;" in data[0]["y"][0]  # plotly shows entities as text
    plain = distribution_chart(replace(hostile_report, findings=()))
    assert plain is not None and plain.title.startswith("Longest-running stages")


def test_unique_labels_keep_runs_apart() -> None:
    assert unique_labels(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]


def test_inline_markdown_escapes_and_keeps_code_stars() -> None:
    assert inline_markdown("- **x** `*****` <b>") == "<strong>x</strong> <code>*****</code> &lt;b&gt;"


# --- utilisation series -------------------------------------------------------------------------------------


def stage(stage_id: int, start: int, end: int, tasks: int, durations: tuple[int, ...]) -> Stage:
    dist = TaskDistributions(len(durations), None, None, None, None, None, None, None, None)
    return Stage(stage_id=stage_id, attempt_id=0, name=f"s{stage_id}", status="COMPLETE", num_tasks=tasks,
                 num_complete_tasks=tasks, num_failed_tasks=0, num_killed_tasks=0, num_speculative_tasks=0,
                 submission_time_ms=start, first_task_launched_time_ms=start, completion_time_ms=end,
                 failure_reason=None, parent_stage_ids=(), job_ids=(0,), metrics=StageMetrics(), tasks=dist,
                 task_durations_ms=durations)


def test_utilisation_steps_match_executors_and_task_time() -> None:
    app = Application(
        app_id="app-1", attempt_id=None, name="t", user=None, spark_version="3.5", master="yarn",
        start_time_ms=0, end_time_ms=10_000, complete=True, source="mem",
        executors=(Executor("1", "h", 4, 1_000, 9_000), Executor("2", "h", 4, 2_000, None),
                   Executor("driver", "h", 0, 0)),
        stages=(stage(0, 2_000, 6_000, 100, (4_000,) * 6), stage(1, 4_000, 8_000, 2, (4_000, 4_000))),
    )
    series = utilisation(app)
    assert series is not None
    assert series.offsets_ms == (0, 1_000, 2_000, 4_000, 6_000, 8_000, 9_000, 10_000)
    assert series.allocated_cores == (0, 4, 8, 8, 8, 8, 4, 0)
    assert series.running_tasks == (0, 0, 6.0, 8.0, 2.0, 0, 0, 0)  # 6 + 2 capped at 8 allocated cores
    assert stage_concurrency(app.stages[0], cores=3) == 3.0
    assert stage_concurrency(replace(app.stages[1], task_durations_ms=()), cores=8) == 2.0


# --- a real browser -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_cli_writes_one_offline_page_for_the_examples(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["spark-logs", str(EXAMPLES), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"] and out.stat().st_size > 3_000_000


class Visit:
    """A page opened from file:// with the network cut off, and everything it complained about."""

    def __init__(self, browser, path: Path, width: int = 1400) -> None:  # type: ignore[no-untyped-def]
        self.console: list[str] = []
        self.errors: list[str] = []
        self.network: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.network.append(route.request.url)
            route.abort()

    def column(self, index: int) -> list[str]:
        return self.page.eval_on_selector_all(
            "#findings tbody tr", f"rows => rows.map(r => r.cells[{index}].getAttribute('data-sort'))")


@pytest.fixture(scope="module")
def visit(browser, inline_page: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_text(inline_page)
    v = Visit(browser, path)
    v.page.wait_for_function(ALL_PLOTTED, timeout=30_000)
    yield v
    v.page.close()


def test_browser_renders_every_chart_offline_without_errors(visit: Visit) -> None:
    charts = visit.page.eval_on_selector_all(
        "[data-figure]", "ds => ds.map(d => [d.id, d.classList.contains('js-plotly-plot'), "
                         "d.querySelectorAll('svg.main-svg').length, d.querySelectorAll('.trace').length])")
    ids = [c[0] for c in charts]
    assert {"chart-cost", "chart-ledger", "chart-tasks", "chart-timeline-0"} <= set(ids)
    assert all(plotted and svgs >= 1 and traces >= 1 for _, plotted, svgs, traces in charts), charts
    assert visit.console == [] and visit.errors == [] and visit.network == []


def test_browser_sorts_the_findings_table(visit: Visit) -> None:
    header = visit.page.locator("#findings thead th", has_text="Saving")
    header.click()
    assert [float(x) for x in visit.column(5)] == [0.0, 0.0025, 0.004]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [float(x) for x in visit.column(5)] == [0.004, 0.0025, 0.0]
    visit.page.locator("#findings thead th", has_text="Severity").click()
    assert visit.column(1) == ["1", "2", "3"]
    visit.page.locator("#findings thead th", has_text="Rule").press("Enter")
    assert visit.column(2) == ["spark.skew", "spark.spill", "spark.task-failures"]


def test_browser_shows_the_hostile_name_as_text(visit: Visit) -> None:
    assert HOSTILE in visit.page.inner_text("#cost-table")
    assert HOSTILE in visit.page.inner_text("#findings")
    assert visit.page.evaluate("typeof window.__xss") == "undefined"
    assert visit.dialogs == []
    assert visit.page.locator("img[src=x]").count() == 0


def test_browser_renders_the_cli_page_of_the_examples(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["spark-logs", str(EXAMPLES), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    v = Visit(browser, out)
    v.page.wait_for_function(ALL_PLOTTED, timeout=30_000)
    assert v.page.locator("[data-figure]").count() >= 4
    assert v.console == [] and v.errors == [] and v.network == []
    v.page.close()


@pytest.fixture(scope="module")
def examples_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples' report through the CLI: real findings, early warnings and what-if tables."""
    out = tmp_path_factory.mktemp("examples") / "report.html"
    result = CliRunner().invoke(main, ["spark-logs", str(EXAMPLES), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


OVERFLOW = ("[...document.querySelectorAll('main *')]"
            ".filter(e => !e.closest('.table-wrap, pre, .js-plotly-plot')"
            " && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
            ".map(e => e.tagName)")


def test_browser_page_is_usable_420_px_wide(browser, examples_page: Path) -> None:  # type: ignore[no-untyped-def]
    v = Visit(browser, examples_page, width=420)
    v.page.wait_for_function(ALL_PLOTTED, timeout=30_000)
    v.page.eval_on_selector_all("details", "ds => ds.forEach(d => d.open = true)")  # evidence and stages too
    page_width = v.page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert page_width[0] <= page_width[1], page_width  # no horizontal scroll of the page
    assert v.page.evaluate(OVERFLOW) == []  # nothing sticks out of its card
    findings = v.page.locator("#findings .table-wrap").first
    scroll = findings.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scroll[0] > scroll[1]  # the wide findings table scrolls inside its card
    findings.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    assert findings.evaluate("w => w.scrollLeft") > 0
    assert v.page.locator("nav").evaluate("n => n.getBoundingClientRect().right") <= 420
    assert v.console == [] and v.errors == [] and v.network == []
    v.page.close()


def test_browser_shows_early_warnings_confidence_and_what_if(  # type: ignore[no-untyped-def]
        browser, examples_page: Path) -> None:
    v = Visit(browser, examples_page)
    v.page.wait_for_function(ALL_PLOTTED, timeout=30_000)
    rows = v.page.locator("#early-warnings tbody tr")
    assert rows.count() >= 3
    first = rows.first.inner_text()
    assert "spark." in first and "Small in this run" in v.page.inner_text("#early-warnings")
    headers = v.page.eval_on_selector_all("#early-warnings thead th", "hs => hs.map(h => h.innerText.trim())")
    assert headers[:4] == ["Rule", "Who", "What", "Confidence"]
    ranked = v.page.eval_on_selector_all("#findings tbody tr", "rs => rs.map(r => r.cells[1].innerText)")
    assert ranked and not any("info" in s.lower() for s in ranked)  # early warnings stay out of the ranking
    assert v.page.locator("#findings td.saving").first.inner_text().count("×") == 1  # units × price
    v.page.eval_on_selector_all("#applications details", "ds => ds.forEach(d => d.open = true)")
    assert v.page.locator("#applications h4", has_text="What-if").count() >= 5
    assert "critical path" in v.page.inner_text("#applications")
    v.page.close()


def test_browser_conf_lines_stay_whole_and_can_be_copied(  # type: ignore[no-untyped-def]
        browser, examples_page: Path) -> None:
    v = Visit(browser, examples_page, width=700)
    confs = v.page.locator("#findings .conf")
    assert confs.count() >= 3
    lines = confs.evaluate_all("cs => cs.map(c => c.getClientRects().length)")
    assert set(lines) == {1}  # never broken mid-token
    button = v.page.locator("#findings .paste button.copy").first
    block = v.page.locator("#findings .paste pre").first.inner_text()
    assert block.startswith("spark-submit \\") and "--conf spark." in block
    button.click()
    assert button.inner_text() in ("Copying", "Copied", "Select it")  # the handler ran
    assert v.errors == []
    v.page.close()


def test_browser_toolbar_never_covers_a_legend(browser, examples_page: Path) -> None:  # type: ignore[no-untyped-def]
    v = Visit(browser, examples_page)
    v.page.wait_for_function(ALL_PLOTTED, timeout=30_000)
    for chart in v.page.eval_on_selector_all(".chart", "cs => cs.filter(c => c.querySelector('.legend'))"
                                                       ".map(c => c.id)"):
        v.page.hover(f"#{chart}")
        boxes = v.page.evaluate(f"""['.modebar', '.legend'].map(s => {{
            const e = document.querySelector('#{chart} ' + s); if (!e) return null;
            const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; }})""")
        bar, legend = boxes
        if bar is None:
            continue
        apart = bar[2] <= legend[0] or legend[2] <= bar[0] or bar[3] <= legend[1] or legend[3] <= bar[1]
        assert apart, (chart, bar, legend)
    v.page.close()


def test_browser_cdn_page_offline_says_why_charts_are_missing(browser, hostile_report: Report,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    path = tmp_path / "cdn.html"
    path.write_bytes(HtmlRenderer(plotlyjs="cdn").render(hostile_report))
    v = Visit(browser, path)
    assert v.network and v.network[0].startswith("https://cdn.plot.ly/")
    assert "plotly.js could not be loaded" in v.page.inner_text("#chart-cost")
    assert v.errors == []
    v.page.close()


# --- a warehouse dashboard ----------------------------------------------------------------------------------


def test_browser_renders_a_warehouse_dashboard(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Snowflake export fixtures end to end: bills, findings with dollars and the costliest patterns."""
    data = Path(__file__).resolve().parents[1] / "data" / "warehouse"
    out = tmp_path / "warehouse.html"
    result = CliRunner().invoke(main, [
        "snowflake", "--query-history-file", str(data / "snowflake_query_history.csv"),
        "--metering-file", str(data / "snowflake_warehouse_metering.csv"),
        "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    v = Visit(browser, out)
    v.page.wait_for_load_state("load")
    rules = v.page.eval_on_selector_all("#findings tbody tr", "rows => rows.map(r => r.cells[2].innerText)")
    assert "snowflake.idle-warehouse" in rules and "warehouse.full-scan" in rules
    assert "$" in v.page.inner_text("#findings")
    assert "Costliest query patterns" in v.page.inner_text("body")
    patterns = v.page.locator("h4:has-text('Costliest query patterns') + .table-wrap tbody tr")
    assert patterns.count() >= 3 and "$" in patterns.first.inner_text()
    # warehouse-only: no Spark sections, no plotly.js for charts it does not draw
    assert v.page.evaluate("typeof Plotly") == "undefined" and out.stat().st_size < 200_000
    nav = v.page.inner_text("nav")
    assert "Utilisation" not in nav and "Applications" not in nav and "Warehouse cost" in nav
    assert "Two kinds of idle" in v.page.inner_text("#warehouse-cost")
    assert v.console == [] and v.errors == [] and v.network == []
    v.page.close()


def test_browser_shows_hostile_sql_as_text_even_with_literals(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path) -> None:
    from warehouse_history_factory import SECOND, T0, sf_query

    from analyzer.api import analyze_warehouse
    from analyzer.core.warehouse_model import WarehouseHistory

    text = f"select '{HOSTILE}' from orders"
    history = WarehouseHistory("snowflake", "t.csv", T0, T0 + 3_600_000, queries=tuple(
        sf_query(f"q{i}", "BI_WH", "Small", T0 + i * 60 * SECOND, 30 * SECOND, text=text) for i in range(5)))
    report = replace(analyze_warehouse([history]), show_sql_literals=True)
    path = tmp_path / "hostile-sql.html"
    path.write_bytes(HtmlRenderer().render(report))
    v = Visit(browser, path)
    assert HOSTILE in v.page.inner_text("body")  # shown as text, literals included
    assert v.page.evaluate("typeof window.__xss") == "undefined" and v.dialogs == []
    assert v.page.locator("img[src=x]").count() == 0
    v.page.close()
