"""The findings of the HTML dashboard: the ranked table, its evidence, the early warnings.

Same content as the Markdown report's findings: the saving with the units and price it is
made of, how the ledger counted it, confidence, evidence (lists and mappings as small tables),
the recommendation with backquoted identifiers as code and ``--conf`` lines that never break
mid-token, each paste block with a copy button.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analyzer.core.findings import Finding
from analyzer.core.report import Report
from reports.evidence import (
    claim_note,
    claim_units,
    display_evidence,
    early_warnings,
    evidence_tables,
    main_findings,
    period_label,
)
from reports.fmt import app_key, evidence_label, fmt_evidence, fmt_usd
from reports.html_page import esc
from reports.markdown_report import CONF

_WHERE_KEYS = {"stage_id": "stage", "sql_execution_id": "SQL execution", "table": "table"}
_TICKS = re.compile(r"`([^`]+)`")


def table(
    headers: Sequence[tuple[str, str]], rows: Sequence[str], sortable: bool = False, table_id: str = ""
) -> str:
    """A table in a horizontally scrolling wrapper; headers are (label, "num"|"text")."""

    def th(label: str, kind: str) -> str:
        cls = ' class="num"' if kind == "num" else ""
        sort = f' data-sortable tabindex="0" data-type="{kind}"' if sortable else ""
        return f'<th scope="col"{cls}{sort}>{esc(label)}</th>'

    head = "".join(th(label, kind) for label, kind in headers)
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f'<div class="table-wrap"><table{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def td(text: str, sort: object = None, num: bool = False) -> str:
    """A cell of already-escaped HTML, with an optional sort key."""
    key = "" if sort is None else f' data-sort="{esc(sort)}"'
    return f"<td{' class=num' if num else ''}{key}>{text}</td>"


def prose(text: str) -> str:
    """Escaped text; backquoted names become ``<code>`` (identifiers, not string literals)."""
    parts = esc(text).split("`")
    if len(parts) % 2 == 0:
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def recommendation(text: str) -> str:
    """The recommendation: --conf pairs unbreakable, then a paste-ready block with a copy button."""
    html = prose(text)
    confs = CONF.findall(text)
    for conf in confs:
        html = html.replace(esc(conf), f'<span class="conf">{esc(conf)}</span>', 1)
    if confs:
        lines = "spark-submit \\\n" + "".join(f"  --conf {c} \\\n" for c in confs) + "  ..."
        html += (
            f'<div class="paste"><button type="button" class="copy" data-copy>Copy</button>'
            f"<pre><code>{esc(lines)}</code></pre></div>"
        )
    return html


def findings_table(report: Report) -> str:
    """Every finding above info, ranked by money; click a header to sort, open a title for its evidence."""
    findings = main_findings(report)
    if not findings:
        return '<p class="muted">No rule found anything worth changing.</p>'
    headers = [
        ("#", "num"),
        ("Severity", "num"),
        ("Rule", "text"),
        ("Who pays", "text"),
        ("Finding", "text"),
        ("Saving", "num"),
        ("Confidence", "text"),
        ("Recommendation", "text"),
    ]
    return table(headers, [_finding_row(i, f, report) for i, f in enumerate(findings, 1)], sortable=True)


def _finding_row(rank: int, f: Finding, report: Report) -> str:
    severity = f'<span class="sev sev-{esc(f.severity)}">{esc(f.severity)}</span>'
    note = claim_note(f.claim)
    saving = (
        f"{esc(fmt_usd(f.estimated_savings_usd))} <span class=muted>{esc(period_label(f))}</span>"
        f"<br><span class=muted>{esc(claim_units(f.claim, f))}</span>"
        + (f'<p class="claim-note">{esc(note)}</p>' if note else "")
    )
    return (
        "<tr>"
        + td(str(rank), rank, num=True)
        + td(severity, f.severity_rank)
        + td(f"<code>{esc(f.rule_id)}</code>", f.rule_id)
        + td(_subject(f), f.subject_label().lower())
        + td(_evidence(f, report), f.title.lower())
        + f'<td class="saving" data-sort="{esc(f.estimated_savings_usd)}">{saving}</td>'
        + td(esc(f.confidence))
        + td(recommendation(f.recommendation), f.recommendation.lower())
        + "</tr>"
    )


def _subject(f: Finding) -> str:
    """Who pays (application run, warehouse, reservation or project) and what the finding is about."""
    subject = f.subject
    where = ", ".join(
        f"{label} {subject[key]}" for key, label in _WHERE_KEYS.items() if subject.get(key) is not None
    )
    html = esc(f.subject_label())
    if "app_id" in subject:
        html += f"<br><code>{esc(app_key(subject.get('app_id'), subject.get('attempt_id')))}</code>"
    return html + (f'<br><span class="muted">{esc(where)}</span>' if where else "")


def _evidence(f: Finding, report: Report) -> str:
    rows = "".join(
        f"<li><span class=muted>{esc(evidence_label(k))}:</span> {prose(fmt_evidence(k, v))}</li>"
        for k, v in display_evidence(f, report).items()
    )
    extra = "".join(
        f"<p class=muted>{esc(title)}</p>"
        + table(
            [(h, "text") for h in headers], ["<tr>" + "".join(td(esc(c)) for c in r) + "</tr>" for r in body]
        )
        for title, headers, body in evidence_tables(f)
    )
    trade = f"<p><strong>Trade-offs and risks.</strong> {prose(f.tradeoffs)}</p>" if f.tradeoffs else ""
    body = f"<ul class=evidence>{rows}</ul>{extra}{trade}"
    return f"{prose(f.title)}<details><summary>evidence</summary>{body}</details>"


def early_warnings_table(report: Report) -> str:
    """Info findings: seen in runs too small for them to cost much yet; no saving claimed."""
    warnings = early_warnings(report)
    if not warnings:
        return '<p class="muted">No early warnings.</p>'
    headers = [
        ("Rule", "text"),
        ("Who", "text"),
        ("What", "text"),
        ("Confidence", "text"),
        ("At production scale, or counted after", "text"),
    ]
    rows = [
        "<tr>"
        + td(f"<code>{esc(f.rule_id)}</code>")
        + td(_subject(f))
        + td(prose(f.title))
        + td(esc(f.confidence))
        + td(prose(f.scale_note) or "-")
        + "</tr>"
        for f in warnings
    ]
    return (
        "<p class=muted>Problems a rule saw in runs below its damping threshold, or changes the findings "
        "above leave nothing to save for: no saving is claimed and no gate fails on them.</p>"
        + table(headers, rows, table_id="early-warnings")
    )
