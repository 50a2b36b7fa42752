"""The fleet dashboard's figures: cost per day and week, findings opened and resolved, sparklines.

Plotly figures reuse the run dashboard's layout and escaping (``html_charts``): every input
string that becomes a label goes through ``plot_text``. Sparklines are tiny inline SVGs
made here from numbers only, so a hundred of them cost no plotly at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from analyzer.core.fleet import UNATTRIBUTED, FindingTrack, FleetReport
from reports.fmt import vendor_name
from reports.html_charts import Chart, _axis, _layout, _to_json, plot_text

MAX_OWNERS = 8
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#dc2626", "#0891b2", "#db2777", "#65a30d", "#6b7280")


def iso_week(day: str) -> str:
    """``2026-11-30`` -> ``2026-W49``."""
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{year:04d}-W{week:02d}"


def daily_source_chart(fleet: FleetReport) -> Chart | None:
    """Cost per day, stacked by source (Spark sources and warehouses alike)."""
    import plotly.graph_objects as go

    if not fleet.daily_costs:
        return None
    days = sorted({d.day for d in fleet.daily_costs})
    by_source: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d in fleet.daily_costs:
        by_source[f"{vendor_name(d.kind)} {d.source}".strip()][d.day] += d.usd
    fig = go.Figure(layout=_layout(320, barmode="stack", xaxis=_axis("day (UTC)", type="category"),
                                   yaxis=_axis("US dollars", tickprefix="$")))
    for i, (source, values) in enumerate(sorted(by_source.items())):
        fig.add_bar(x=days, y=[values.get(d, 0.0) for d in days], name=plot_text(source, 40),
                    marker_color=PALETTE[i % len(PALETTE)],
                    hovertemplate="%{x}: $%{y:,.2f}<extra>" + plot_text(source, 40) + "</extra>")
    return Chart("chart-daily", "Cost per day by source", "What every recorded run and warehouse day cost.",
                 _to_json(fig))


def weekly_owner_chart(fleet: FleetReport) -> Chart | None:
    """Cost per ISO week, stacked by owner: the costliest owners, the others together, the unattributed."""
    import plotly.graph_objects as go

    if not fleet.daily_costs:
        return None
    ranked = [o for o, _ in fleet.cost_by_owner() if o != UNATTRIBUTED][:MAX_OWNERS]
    weeks = sorted({iso_week(d.day) for d in fleet.daily_costs})
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d in fleet.daily_costs:
        owner = d.owner if d.owner in ranked or d.owner == UNATTRIBUTED else "other owners"
        sums[owner][iso_week(d.day)] += d.usd
    fig = go.Figure(layout=_layout(320, barmode="stack", xaxis=_axis("ISO week", type="category"),
                                   yaxis=_axis("US dollars", tickprefix="$")))
    order = [*ranked, "other owners", UNATTRIBUTED]
    for i, owner in enumerate(o for o in order if o in sums):
        color = "#d1d5db" if owner == UNATTRIBUTED else PALETTE[i % len(PALETTE)]
        fig.add_bar(x=weeks, y=[sums[owner].get(w, 0.0) for w in weeks], name=plot_text(owner, 40),
                    marker_color=color,
                    hovertemplate="%{x}: $%{y:,.2f}<extra>" + plot_text(owner, 40) + "</extra>")
    return Chart("chart-owners", "Cost per week by owner",
                 "Owners from the attribution keys of each source; grey is the unattributed share.",
                 _to_json(fig))


def findings_chart(tracks: Sequence[FindingTrack]) -> Chart | None:
    """Findings opened (first seen) and resolved (last seen before they disappeared) per ISO week."""
    import plotly.graph_objects as go

    opened: dict[str, int] = defaultdict(int)
    resolved: dict[str, int] = defaultdict(int)
    for t in tracks:
        if t.first_seen_ms is not None:
            opened[_week_ms(t.first_seen_ms)] += 1
        if t.status == "resolved" and t.last_seen_ms is not None:
            resolved[_week_ms(t.last_seen_ms)] += 1
    weeks = sorted(set(opened) | set(resolved))
    if not weeks:
        return None
    fig = go.Figure(layout=_layout(300, barmode="group", xaxis=_axis("ISO week", type="category"),
                                   yaxis=_axis("findings", rangemode="tozero")))
    fig.add_bar(x=weeks, y=[opened.get(w, 0) for w in weeks], name="opened", marker_color="#dc2626")
    fig.add_bar(x=weeks, y=[resolved.get(w, 0) for w in weeks], name="resolved", marker_color="#16a34a")
    return Chart("chart-findings", "Findings opened and resolved per week",
                 "A finding opens in the week of the first run that has it and is resolved in the week of "
                 "the last run that had it, when later runs no longer do.", _to_json(fig))


def _week_ms(ms: int) -> str:
    return iso_week(dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date().isoformat())


def sparkline(values: Sequence[float | None], width: int = 110, height: int = 26) -> str:
    """An inline SVG polyline of ``values`` (numbers only: nothing to escape); empty for fewer than 2."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(v for _, v in known), max(v for _, v in known)
    span, last = (high - low) or 1.0, max(1, len(values) - 1)
    points = " ".join(f"{2 + i / last * (width - 4):.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
                      for i, v in known)
    x, y = points.rsplit(" ", 1)[-1].split(",")
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="trend of {len(known)} runs"><polyline points="{points}" fill="none" '
            f'stroke="#1d4ed8" stroke-width="1.5"/><circle cx="{x}" cy="{y}" r="2" fill="#1d4ed8"/></svg>')
