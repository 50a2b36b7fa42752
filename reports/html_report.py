"""A self-contained, offline HTML dashboard of the report (``--format html``).

One file that opens anywhere, without network: plotly.js is inlined by default
(``plotlyjs="cdn"`` writes a small page that loads it from the CDN instead). It shows the
Markdown report's content plus charts: cost per run by waste bucket, the waste ledger,
executor utilisation over time and task-duration distributions. Content lives in
``html_sections``, figures in ``html_charts``, the shell and all escaping in ``html_page``.
plotly is imported only when a page is rendered, so the other formats never load it.
"""

from __future__ import annotations

from analyzer.core.report import Report
from reports import html_sections as sec
from reports.html_charts import Chart, cost_chart, distribution_chart, ledger_chart, timeline_charts
from reports.html_findings import early_warnings_table, findings_table
from reports.html_page import PLOTLYJS_MODES, data_block, esc, page, plotly_tags
from reports.renderer import Renderer

TIMELINE_CAPTION = (
    "Allocated executor cores (from executor add and remove events; local mode: the driver's cores) "
    "against running tasks. Running tasks are approximate: each stage's task time is spread evenly over its "
    "span, capped at min(tasks, cores). The grey area above the green is capacity paid for and left idle."
)


class HtmlRenderer(Renderer):
    """The dashboard page; ``plotlyjs`` is ``inline`` (offline, ~5 MB) or ``cdn`` (small, needs network)."""

    media_type = "text/html"

    def __init__(self, plotlyjs: str = "inline") -> None:
        if plotlyjs not in PLOTLYJS_MODES:
            raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}, not {plotlyjs!r}")
        self.plotlyjs = plotlyjs

    def render(self, report: Report) -> bytes:
        """The page; plotly.js comes from the installed plotly package, so inline pages match its figures.

        A page that draws no chart (a warehouse-only report) carries no plotly.js at all.
        """
        from plotly.offline import get_plotlyjs, get_plotlyjs_version  # lazy: see module docstring

        body, nav, charted = _body(report)
        tag, source = "", ""
        if charted:
            version = get_plotlyjs_version()
            js = get_plotlyjs() if self.plotlyjs == "inline" else ""
            tag, source = plotly_tags(self.plotlyjs, js, f"https://cdn.plot.ly/plotly-{version}.min.js")
        subtitle = f"Generated {report.generated_at} by deanalyze {report.tool_version}".rstrip()
        return page("deanalyze report", subtitle, nav, body, tag, source).encode()


_SPARK_SECTIONS = {"costs", "utilisation", "tasks", "cost-table", "applications"}
_TITLES = {"summary": "Summary", "costs": "Costs", "utilisation": "Utilisation", "tasks": "Task durations",
           "findings": "Findings", "early-warnings": "Early warnings", "cost-table": "Cost table",
           "applications": "Applications", "warehouse-cost": "Warehouse cost",
           "governance": "Data governance", "methodology": "Methodology", "errors": "Unreadable inputs"}


def _body(report: Report) -> tuple[str, list[tuple[str, str]], bool]:
    """(sections in the Markdown report's order, the navigation, whether any chart is drawn).

    A warehouse-only report has no Spark sections (charts, cost table, applications).
    """
    spark = bool(report.applications) or not report.warehouses
    cost_figures = [c for c in (cost_chart(report.costs), ledger_chart(report.costs)) if c is not None]
    task_figure = distribution_chart(report) if spark else None
    timelines = timeline_charts(report) if spark else []
    sections = [
        ("summary", "Executive summary", sec.summary(report)),
        ("costs", "Where the money goes", _charts(cost_figures, "")),
        ("utilisation", "Executor utilisation",
         _charts(timelines, "grid2") + f"<p class='muted'>{esc(TIMELINE_CAPTION)}</p>"),
        ("tasks", "Task-duration distributions", _charts([task_figure] if task_figure else [], "")),
        ("findings", "Findings, ranked by money", findings_table(report)),
        ("early-warnings", "Early warnings", early_warnings_table(report)),
        ("cost-table", "Cost estimate per application run", sec.cost_table(report.costs)),
        ("applications", "Applications", sec.applications(report)),
        ("warehouse-cost", "Warehouse cost", sec.warehouse_tables(report) if report.warehouses else ""),
        ("governance", "Data-governance considerations", sec.governance(report)),
        ("methodology", "Methodology and assumptions", sec.methodology(report)),
        ("errors", "Inputs that could not be read",
         sec.errors(report) if report.errors else "<p class='muted'>Every input was read.</p>"),
    ]
    kept = [(a, t, html) for a, t, html in sections
            if (spark or a not in _SPARK_SECTIONS) and (a != "warehouse-cost" or report.warehouses)]
    charted = spark and bool(cost_figures or timelines or task_figure)
    nav = [(a, _TITLES[a]) for a, _, _ in kept]
    return "".join(sec.section(a, t, html) for a, t, html in kept), nav, charted


def _charts(charts: list[Chart], layout: str) -> str:
    """Figures with titles and captions; each div names the JSON island the boot script plots."""
    if not charts:
        return "<p class='muted'>Nothing to chart for the inputs analysed.</p>"
    figures = "".join(
        f"<figure><h3>{esc(c.title)}</h3><div class='chart' id='{esc(c.chart_id)}' "
        f"data-figure='{esc(c.chart_id)}-data' role='img' aria-label='{esc(c.title)}'></div>"
        f"{data_block(c.chart_id + '-data', c.figure_json)}"
        + (f"<figcaption>{esc(c.caption)}</figcaption>" if c.caption else "") + "</figure>"
        for c in charts)
    return f"<div class='{layout}'>{figures}</div>" if layout else figures
