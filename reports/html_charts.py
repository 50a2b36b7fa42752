"""The dashboard's plotly figures, each returned as JSON for the page to hand to ``Plotly.newPlot``.

plotly is imported inside the builders only: the JSON and Markdown formats must not pay
its import time. Plotly renders a subset of HTML in labels, so every input string that
becomes a label goes through ``plot_text`` and shows literally. Money labels use
``reports.fmt``, like every other format.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.core.cost import BUCKETS, AppCost
from analyzer.core.model import Application, Stage
from analyzer.core.report import Report
from reports.fmt import fmt_usd
from reports.html_timeline import time_unit, utilisation

BUCKET_LABELS = {"useful": "Useful task time", "failed_work": "Failed work", "driver_only": "Driver only",
                 "skew_tail": "Skew tail", "idle_cores": "Idle cores", "driver": "Driver"}
BUCKET_COLORS = {"useful": "#16a34a", "failed_work": "#dc2626", "driver_only": "#f59e0b",
                 "skew_tail": "#9333ea", "idle_cores": "#9ca3af", "driver": "#2563eb"}
MAX_COST_BARS = 25
MAX_TIMELINES = 6
MAX_BOXES = 12
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12,
         "color": "#1f2937"}


@dataclass(frozen=True, slots=True)
class Chart:
    """One figure of the page: where it goes, what it says, and its plotly JSON."""

    chart_id: str
    title: str
    caption: str
    figure_json: str


def plot_text(value: object, limit: int = 60) -> str:
    """Input text for a plotly label: shortened, and ``&<>`` as entities so plotly shows them literally."""
    text = " ".join(str(value or "").split())
    text = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def app_label(name: str | None, app_id: str, attempt_id: str | None) -> str:
    """Name and id of a run: names repeat across runs, ids do not."""
    key = f"{app_id}/{attempt_id}" if attempt_id else app_id
    return f"{plot_text(name, 40)} \u00b7 {plot_text(key)}"


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Labels made distinct (`` (2)``, `` (3)``): plotly merges equal category labels into one bar or box."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    base = {"template": "none", "height": height + 40, "font": _FONT,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 90}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff", "hoverlabel": {"font": _FONT},
            # below the plot: plotly's toolbar sits at the top right and would cover a legend there
            "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yref": "container",
                       "yanchor": "bottom"}}
    return {**base, **extra}


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "automargin": True,
            **extra}


def _to_json(fig: Any) -> str:
    import plotly.io as pio  # lazy: see module docstring

    return str(pio.to_json(fig, validate=True, pretty=False))


def cost_chart(costs: Sequence[AppCost]) -> Chart | None:
    """Cost per application run, stacked by waste-ledger bucket, most expensive on top."""
    import plotly.graph_objects as go

    ranked = sorted(costs, key=lambda c: -c.total_usd)[:MAX_COST_BARS]
    if not ranked:
        return None
    labels = unique_labels([app_label(c.app_name, c.app_id, c.attempt_id) for c in ranked])
    fig = go.Figure(layout=_layout(150 + 32 * len(ranked), barmode="stack", legend_traceorder="normal",
                                   xaxis=_axis("US dollars per run", tickprefix="$"),
                                   yaxis=_axis("", autorange="reversed")))
    for bucket in BUCKETS:
        fig.add_bar(y=labels, x=[c.ledger_usd.get(bucket, 0.0) for c in ranked], orientation="h",
                    name=BUCKET_LABELS[bucket], marker_color=BUCKET_COLORS[bucket],
                    hovertemplate="%{y}<br>" + BUCKET_LABELS[bucket] + ": $%{x:,.4f}<extra></extra>")
    more = len(costs) > len(ranked)
    shown = f"the {len(ranked)} most expensive of {len(costs)} runs" if more else "every run"
    return Chart("chart-cost", "Cost per application run",
                 f"Bill of {shown}, split into the waste ledger's non-overlapping buckets.", _to_json(fig))


def ledger_chart(costs: Sequence[AppCost]) -> Chart | None:
    """The waste ledger summed over every run: where the whole bill went."""
    import plotly.graph_objects as go

    totals = {b: sum(c.ledger_usd.get(b, 0.0) for c in costs) for b in BUCKETS}
    bill = sum(totals.values())
    if not costs or bill <= 0:
        return None
    text = [f"{fmt_usd(totals[b])} ({totals[b] / bill:.0%})" for b in BUCKETS]
    bar = go.Bar(y=[BUCKET_LABELS[b] for b in BUCKETS], x=[totals[b] for b in BUCKETS], orientation="h",
                 marker_color=[BUCKET_COLORS[b] for b in BUCKETS], text=text, textposition="outside",
                 cliponaxis=False, hovertemplate="%{y}: $%{x:,.4f}<extra></extra>")
    layout = _layout(300, xaxis=_axis("US dollars", tickprefix="$"), yaxis=_axis("", autorange="reversed"),
                     margin={"l": 130, "r": 110, "t": 10, "b": 40})
    return Chart("chart-ledger", "Waste ledger, all runs",
                 f"Where the {fmt_usd(bill)} bill went. Buckets never overlap; each finding's saving comes "
                 "from one.", _to_json(go.Figure(bar, layout=layout)))


def timeline_charts(report: Report) -> list[Chart]:
    """Allocated cores against approximate running tasks, for the most expensive runs."""
    cost = {(c.app_id, c.attempt_id): c.total_usd for c in report.costs}
    apps = sorted(report.applications, key=lambda a: -cost.get((a.app_id, a.attempt_id), 0.0))
    return [c for c in (_timeline(i, a) for i, a in enumerate(apps[:MAX_TIMELINES])) if c is not None]


def _timeline(index: int, app: Application) -> Chart | None:
    import plotly.graph_objects as go

    series = utilisation(app)
    if series is None or len(series.offsets_ms) < 2:
        return None
    unit, per = time_unit(series.span_ms)
    x = [round(t / per, 4) for t in series.offsets_ms]
    fig = go.Figure(layout=_layout(280, xaxis=_axis(f"{unit} since the application started"),
                                   yaxis=_axis("cores / tasks", rangemode="tozero"), hovermode="x unified"))
    fig.add_scatter(x=x, y=list(series.allocated_cores), name="Allocated executor cores", line_shape="hv",
                    mode="lines", line={"color": "#6b7280", "width": 2}, fill="tozeroy",
                    fillcolor="rgba(156,163,175,.18)")
    fig.add_scatter(x=x, y=list(series.running_tasks), name="Running tasks (approximate)", line_shape="hv",
                    mode="lines", line={"color": "#16a34a", "width": 1.5}, fill="tozeroy",
                    fillcolor="rgba(22,163,74,.35)")
    key = f"{app.app_id}/{app.attempt_id}" if app.attempt_id else app.app_id
    return Chart(f"chart-timeline-{index}", f"{app.name} \u00b7 {key}", "", _to_json(fig))


def distribution_chart(report: Report) -> Chart | None:
    """Task-duration box plots for the skewed stages, or the longest-running stages when none is skewed."""
    import plotly.graph_objects as go

    skewed = list(_skewed_stages(report))
    picked = skewed or _top_stages(report)
    picked = [(app, s) for app, s in picked if s.tasks.duration_ms is not None][:MAX_BOXES]
    if not picked:
        return None
    labels = unique_labels([f"{plot_text(a.name, 40)} \u00b7 stage {s.stage_id}.{s.attempt_id}"
                            for a, s in picked])
    quantiles = [s.tasks.duration_ms for _, s in picked]
    scale = _duration_scale(quantiles)
    fig = go.Figure(layout=_layout(110 + 42 * len(picked), xaxis=_axis("task duration, seconds", **scale),
                                   yaxis=_axis("", autorange="reversed"), showlegend=False, boxgap=0.45))
    for label, q in zip(labels, quantiles, strict=True):
        assert q is not None
        fig.add_box(y=[label], q1=[_s(q.p25)], median=[_s(q.p50)], q3=[_s(q.p75)], lowerfence=[_s(q.min)],
                    upperfence=[_s(q.max)], name=label, orientation="h", boxpoints=False,
                    marker_color="#9333ea" if skewed else "#2563eb", line_width=1.5,
                    fillcolor="rgba(147,51,234,.25)" if skewed else "rgba(37,99,235,.25)")
    title = "Stages behind spark.skew findings" if skewed else "Longest-running stages (no skew finding)"
    return Chart("chart-tasks", title,
                 "Minimum, quartiles and maximum of each stage's successful task durations "
                 "(stages ranked by total task time when no stage is skewed). A whisker far above its box "
                 "means a few stragglers hold the stage open while the other cores wait.", _to_json(fig))


def _s(ms: float) -> float:
    """Milliseconds as seconds, floored at 1 ms so a logarithmic axis can show zero-length tasks."""
    return max(ms, 1.0) / 1000


def _duration_scale(quantiles: Sequence[Any]) -> dict[str, Any]:
    """A log axis when stages differ by more than 20x, else linear from zero: both keep every box visible."""
    maxima = [q.max for q in quantiles if q is not None]
    if maxima and max(maxima) > 20 * max(min(maxima), 1.0):
        low = math.log10(min(_s(q.min) for q in quantiles if q is not None))
        return {"type": "log", "dtick": 1, "range": [low - 0.15, math.log10(_s(max(maxima))) + 0.15]}
    return {"rangemode": "tozero"}


def _skewed_stages(report: Report) -> Iterator[tuple[Application, Stage]]:
    apps = {(a.app_id, a.attempt_id): a for a in report.applications}
    for f in report.findings:
        app = apps.get((str(f.subject.get("app_id")), f.subject.get("attempt_id")))  # type: ignore[arg-type]
        if f.rule_id != "spark.skew" or app is None:
            continue
        attempt = f.subject.get("stage_attempt_id")
        for stage in app.stages:
            if stage.stage_id == f.subject.get("stage_id") and attempt in (None, stage.attempt_id):
                yield app, stage
                break


def _top_stages(report: Report) -> list[tuple[Application, Stage]]:
    pairs = [(a, s) for a in report.applications for s in a.stages]
    return sorted(pairs, key=lambda p: -p[1].metrics.executor_run_time_ms)[:MAX_BOXES]
