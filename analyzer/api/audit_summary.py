"""The weekly audit's summary: per source cost, savings, findings, and the change since last week.

Why a module of its own: ``analyzer.api.audit`` runs the sources and writes their reports;
this module turns the finished reports into ``summary.json`` / ``summary.md`` and compares
them with the latest earlier week's summary. Findings are compared by rule id and subject;
a Spark subject's run ids (``app_id``, ``attempt_id``) change every week for the same job,
so when the subject names the application they are left out of the key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.api.audit_config import WEEK, AuditConfig, AuditSource, week_bounds
from analyzer.core.findings import GATED_SEVERITIES, Finding
from analyzer.core.report import Report

SUMMARY_VERSION = 1
RUN_IDS = ("app_id", "attempt_id")
Problem = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source produced: its report, the files written and its exit code."""

    source: AuditSource
    report: Report
    files: tuple[str, ...]
    exit_code: int


def finding_key(finding: Finding) -> str:
    """``rule_id`` + canonical subject, without the run ids when the application is named."""
    subject = dict(finding.subject)
    if subject.get("app_name"):
        subject = {k: v for k, v in subject.items() if k not in RUN_IDS}
    return f"{finding.rule_id} {json.dumps(subject, sort_keys=True, default=str)}"


def source_totals(report: Report) -> tuple[float, float]:
    """(cost, estimated savings) in the catalog's currency, from the report's own figures."""
    cost = sum(c.total_usd for c in report.costs) + sum(c.total_usd for c in report.warehouse_costs)
    return cost, sum(f.estimated_savings_usd for f in report.findings)


def _status(report: Report) -> str:
    if not report.errors:
        return "ok"
    return "partial" if report.applications or report.warehouses else "failed"


def previous_summary(base: Path, week: str, say: Problem) -> dict[str, Any] | None:
    """The summary of the latest earlier ``YYYY-Www`` folder in ``base`` that has a readable one."""
    weeks = sorted((p.name for p in base.iterdir() if WEEK.match(p.name) and p.name < week), reverse=True)
    for name in weeks:
        path = base / name / "summary.json"
        if not path.exists():
            continue
        doc = read_summary(path)
        if doc is not None:
            return doc
        say(f"deanalyze: audit: {path}: not a readable audit summary; compared with an earlier week")
    return None


def read_summary(path: Path) -> dict[str, Any] | None:
    """A week's summary.json, or None when it is missing or not a summary."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(doc, dict) and isinstance(doc.get("week"), str) and isinstance(doc.get("sources"), list)
    return doc if ok else None


def summary_document(config: AuditConfig, week: str, results: Sequence[SourceResult],
                     previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The week's summary as JSON-ready data (the next week compares with its ``finding_keys``)."""
    return summary_from_entries(config, week, [source_entry(r) for r in results], previous)


def summary_from_entries(config: AuditConfig, week: str, entries: Sequence[Mapping[str, Any]],
                         previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The summary of per-source entries (``source_entry``), fresh or kept on disk by ``--source`` runs."""
    before = {s.get("name"): s for s in previous["sources"] if isinstance(s, dict)} if previous else {}
    sources = [{**e, "comparison": _compare(e, before.get(e["name"]), previous["week"]) if previous else None}
               for e in entries]
    monday, sunday = week_bounds(week)
    catalog = config.catalog
    return {
        "summary_version": SUMMARY_VERSION,
        "week": week, "week_start": monday.isoformat(), "week_end": sunday.isoformat(),
        "generated_at": now(),
        "tool": {"name": "deanalyze", "version": __version__},
        "pricing": {"catalog": catalog.name, "as_of": catalog.as_of, "currency": catalog.currency},
        "previous_week": previous["week"] if previous else None,
        "exit_code": max(e["exit_code"] for e in entries),
        "totals": _totals(sources),
        "sources": sources,
    }


def source_entry(result: SourceResult) -> dict[str, Any]:
    """What the summary says of one source, short of the comparison with the previous week."""
    report = result.report
    cost, savings = source_totals(report)
    status = _status(report)
    findings: dict[str, dict[str, Any]] = {}
    for f in report.findings:
        findings.setdefault(finding_key(f), {
            "rule_id": f.rule_id, "severity": f.severity, "subject": dict(f.subject), "title": f.title,
            "estimated_savings_usd": round(f.estimated_savings_usd, 6)})
    entry = {
        "name": result.source.name, "kind": result.source.kind, "status": status,
        "exit_code": result.exit_code, "files": list(result.files),
        "total_usd": None if status == "failed" else round(cost, 6),
        "estimated_savings_usd": round(savings, 6),
        "findings_by_severity": _by_severity(f.severity for f in report.findings),
        "errors": [{"source": e.source, "message": e.message} for e in report.errors],
        "finding_keys": sorted(findings),
        "findings": [{"key": k, **findings[k]} for k in sorted(findings)],
    }
    return entry


def _compare(entry: Mapping[str, Any], before: Mapping[str, Any] | None, week: str) -> dict[str, Any]:
    """Cost delta and new/resolved findings against the same source in the previous summary."""
    empty: dict[str, Any] = {"previous_week": week, "previous_total_usd": None, "cost_delta_usd": None,
                             "cost_delta_pct": None, "new_findings": [], "resolved_findings": []}
    if before is None:
        return {**empty, "note": f"no figures for this source in {week}"}
    if entry["status"] == "failed" or before.get("status") == "failed":
        side = "this week" if entry["status"] == "failed" else f"in {week}"
        return {**empty, "previous_total_usd": before.get("total_usd"),
                "note": f"not compared: the read failed {side}"}
    old_total = before.get("total_usd")
    delta = None if not isinstance(old_total, int | float) else entry["total_usd"] - old_total
    old: dict[str, Any] = {f["key"]: f for f in before.get("findings", [])
                           if isinstance(f, dict) and isinstance(f.get("key"), str)}
    old.update({k: old.get(k, {"key": k}) for k in before.get("finding_keys", []) if isinstance(k, str)})
    now = {f["key"]: f for f in entry["findings"]}
    return {
        "previous_week": week, "previous_total_usd": old_total,
        "cost_delta_usd": None if delta is None else round(delta, 6),
        "cost_delta_pct": None if delta is None or not old_total else round(100 * delta / old_total, 2),
        "new_findings": [now[k] for k in sorted(set(now) - set(old))],
        "resolved_findings": [old[k] for k in sorted(set(old) - set(now))],
        "note": "partial read: some findings may be missing" if entry["status"] == "partial" else None,
    }


def _totals(sources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """All sources together; the week-over-week change over the sources compared in both weeks."""
    compared = [c for c in (s["comparison"] for s in sources) if c and c["cost_delta_usd"] is not None]
    old = sum(c["previous_total_usd"] for c in compared)
    delta = sum(c["cost_delta_usd"] for c in compared)
    return {
        "total_usd": round(sum(s["total_usd"] or 0.0 for s in sources), 6),
        "estimated_savings_usd": round(sum(s["estimated_savings_usd"] for s in sources), 6),
        "findings_by_severity": {sev: sum(s["findings_by_severity"][sev] for s in sources)
                                 for sev in reversed(GATED_SEVERITIES)},
        "compared_previous_total_usd": round(old, 6) if compared else None,
        "compared_cost_delta_usd": round(delta, 6) if compared else None,
        "compared_cost_delta_pct": round(100 * delta / old, 2) if compared and old else None,
    }


def summary_markdown(summary: Mapping[str, Any]) -> str:
    """The summary for people: one table of sources, then what changed per source."""
    from reports.fmt import fmt_usd
    from reports.markdown_report import md_text

    prev, prices = summary["previous_week"], summary["pricing"]
    lines = [f"# deanalyze weekly audit {summary['week']}", "",
             f"Generated {summary['generated_at']} by deanalyze {summary['tool']['version']}.", "",
             f"Week {summary['week_start']} to {summary['week_end']}; "
             f"prices: {prices['catalog']} (as of {prices['as_of']}).", "",
             f"Compared with {prev}." if prev else "No previous week: the first audit in this folder.",
             "", "| source | kind | status | cost | change | savings | critical | high | medium | low | new "
             "| resolved |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary["sources"]:
        c = s["comparison"] or {}
        counts = " | ".join(str(s["findings_by_severity"][sev]) for sev in reversed(GATED_SEVERITIES))
        lines.append(f"| {md_text(s['name'])} | {s['kind']} | {s['status']} | {fmt_usd(s['total_usd'])} | "
                     f"{_change(c.get('cost_delta_usd'), c.get('cost_delta_pct'))} | "
                     f"{fmt_usd(s['estimated_savings_usd'])} | {counts} | "
                     f"{len(c.get('new_findings', [])) if c else '-'} | "
                     f"{len(c.get('resolved_findings', [])) if c else '-'} |")
    t = summary["totals"]
    counts = " | ".join(str(t["findings_by_severity"][sev]) for sev in reversed(GATED_SEVERITIES))
    lines += [f"| **total** | | | {fmt_usd(t['total_usd'])} | "
              f"{_change(t['compared_cost_delta_usd'], t['compared_cost_delta_pct'])} | "
              f"{fmt_usd(t['estimated_savings_usd'])} | {counts} | | |", ""]
    for s in summary["sources"]:
        lines += _source_section(s, md_text)
    return "\n".join(lines) + "\n"


def _by_severity(severities: Iterable[str]) -> dict[str, int]:
    """Counts per severity, most severe first, every gated level present (early warnings not counted)."""
    counts = dict.fromkeys(reversed(GATED_SEVERITIES), 0)
    for sev in severities:
        if sev in counts:
            counts[sev] += 1
    return counts


def _change(delta: float | None, pct: float | None) -> str:
    if delta is None:
        return "-"
    from reports.fmt import fmt_usd

    sign = "+" if delta >= 0 else "-"
    return f"{sign}{fmt_usd(abs(delta))}" + ("" if pct is None else f" ({pct:+.1f} %)")


def _source_section(s: Mapping[str, Any], md_text: Callable[[object], str]) -> list[str]:
    links = ", ".join(f"[{f}]({f})" for f in s["files"])
    lines = [f"## {md_text(s['name'])} ({s['kind']})", "", f"Reports: {links}.", ""]
    lines += [f"- problem: {md_text(e['source'])}: {md_text(e['message'])}" for e in s["errors"]]
    c = s["comparison"]
    if c and c.get("note"):
        lines.append(f"- {md_text(c['note'])}")
    for label in ("new", "resolved"):
        items = c[f"{label}_findings"] if c else []
        lines += [f"- {label}: **{md_text(f.get('severity', '?'))}** {md_text(f.get('rule_id', '?'))}: "
                  f"{md_text(f.get('title') or f.get('key'))}{_label(f.get('subject'), md_text)}"
                  for f in items]
    return lines + [""] if len(lines) > 4 else lines  # a blank line after any problem or change


def _label(subject: object, md_text: Callable[[object], str]) -> str:
    """`` (who pays)``: the application, warehouse, reservation, project or table, as ``Finding`` names it."""
    if not isinstance(subject, dict):
        return ""
    who = next((subject[k] for k in ("app_name", "warehouse", "reservation", "project", "table", "app_id")
                if subject.get(k)), None)
    return "" if who is None else f" ({md_text(who)})"


def now() -> str:
    """The time a report or summary is generated (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
