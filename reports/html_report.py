"""A self-contained HTML page of the report (the full dashboard builds on this).

Every input string is HTML-escaped; the page loads nothing from the network.
"""

from __future__ import annotations

import html

from analyzer.report import Report
from reports.fmt import fmt_bytes, fmt_duration_ms
from reports.renderer import Renderer

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
          "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}"
          "th{background:#f3f3f3;text-align:left}.err{color:#a00}")


class HtmlRenderer(Renderer):
    """One offline HTML file: application table and unreadable inputs."""

    media_type = "text/html"

    def render(self, report: Report) -> bytes:
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(a.name)}</td><td>{e(a.app_id)}</td><td>{e(a.spark_version or '?')}</td>"
            f"<td>{'complete' if a.complete else 'incomplete'}</td><td>{fmt_duration_ms(a.duration_ms)}</td>"
            f"<td>{len(a.stages)}</td><td>{fmt_bytes(sum(s.metrics.input_bytes for s in a.stages))}</td></tr>"
            for a in report.applications)
        errors = "".join(f"<li class='err'><code>{e(x.source)}</code>: {e(x.message)}</li>" for x in report.errors)
        body = (
            f"<h1>deanalyze report</h1><p>Generated {e(report.generated_at)}.</p>"
            "<table><tr><th>application</th><th>id</th><th>Spark</th><th>status</th><th>duration</th>"
            f"<th>stages</th><th>input</th></tr>{rows}</table>"
            + (f"<h2>Inputs that could not be read</h2><ul>{errors}</ul>" if errors else "")
        )
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>deanalyze report</title>"
                f"<style>{_STYLE}</style></head><body>{body}</body></html>\n")
        return page.encode()
