"""Per-source audit results kept on disk, so that the sources of a week can run as separate jobs.

Why: a scheduler (Airflow, one task per source) runs ``deanalyze audit --source NAME`` for
each source, retries each on its own, then ``deanalyze audit --summary-only``. The summary
job reads no source again, so each source run leaves its summary entry (cost, savings,
findings, errors, files, exit code: all that ``summary.json`` says of it) in
``<week>/.sources/<name>.json``. The summary built from these entries is the one a plain
``deanalyze audit`` writes.

A source with no such file falls back on its entry in the week's existing ``summary.json``
(the week was audited whole before), else it is summarised as a failed source. A plain
``deanalyze audit`` leaves the week folder as it always did: it rewrites state files only
where per-source runs made them, so that a later ``--summary-only`` never reads a stale one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from analyzer.api.audit_config import AuditConfig, AuditConfigError, AuditSource
from analyzer.api.output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, write_atomically
from analyzer.core.findings import GATED_SEVERITIES

STATE_DIR = ".sources"
STATE_VERSION = 1
Problem = Callable[[str], None]


def select_sources(config: AuditConfig, names: Sequence[str]) -> tuple[AuditSource, ...]:
    """The named sources in config order; an unknown name is one ``AuditConfigError`` line."""
    known = {s.name: s for s in config.sources}
    for name in names:
        if name not in known:
            raise AuditConfigError(f"--source: {name!r} is not a source of {config.path} "
                                   f"(its sources: {', '.join(known)})")
    return tuple(s for s in config.sources if s.name in set(names))


def state_path(folder: Path, name: str) -> Path:
    """Where the result of source ``name`` lives in a week folder."""
    return folder / STATE_DIR / f"{name}.json"


def write_state(folder: Path, week: str, entry: Mapping[str, Any]) -> None:
    """Keep one source's summary entry, written atomically like the reports."""
    path = state_path(folder, entry["name"])
    path.parent.mkdir(exist_ok=True)
    doc = {"state_version": STATE_VERSION, "week": week, "entry": entry}
    write_atomically(str(path), json.dumps(doc, indent=2).encode() + b"\n")


def refresh_states(folder: Path, week: str, entries: Sequence[Mapping[str, Any]]) -> None:
    """After a whole-week run: rewrite the state files, but only where per-source runs made them."""
    if (folder / STATE_DIR).is_dir():
        for entry in entries:
            write_state(folder, week, entry)


def prior_entry(folder: Path, week: str, source: AuditSource,
                earlier: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The latest result of ``source`` for this week: its state file, else the week's summary."""
    try:
        doc = json.loads(state_path(folder, source.name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("week") == week and _is_entry_of(doc.get("entry"), source):
        return dict(doc["entry"])
    for entry in earlier["sources"] if earlier else []:
        if _is_entry_of(entry, source):
            return {k: v for k, v in entry.items() if k != "comparison"}
    return None


def _is_entry_of(entry: object, source: AuditSource) -> bool:
    return (isinstance(entry, dict) and entry.get("name") == source.name and entry.get("kind") == source.kind
            and isinstance(entry.get("files"), list) and isinstance(entry.get("exit_code"), int))


def entries_on_disk(config: AuditConfig, folder: Path, week: str, earlier: Mapping[str, Any] | None,
                    fail_on: str, say: Problem) -> list[dict[str, Any]]:
    """Every configured source's latest entry, in config order; one without any is a failed source."""
    entries = []
    for source in config.sources:
        entry = prior_entry(folder, week, source, earlier)
        if entry is None:
            entry = missing_entry(source, state_path(folder, source.name))
            say(f"deanalyze: audit: {source.kind} source {source.name!r}: {entry['errors'][0]['message']}")
        entries.append(rescore(entry, fail_on))
    return entries


def missing_entry(source: AuditSource, path: Path) -> dict[str, Any]:
    """The entry of a source that left no result this week (never run, or killed before the end)."""
    message = f"no result for this week in {path} (run deanalyze audit --source {source.name} first)"
    return {
        "name": source.name, "kind": source.kind, "status": "failed", "exit_code": EXIT_UNREADABLE,
        "files": [], "total_usd": None, "estimated_savings_usd": 0.0,
        "findings_by_severity": dict.fromkeys(reversed(GATED_SEVERITIES), 0),
        "errors": [{"source": source.name, "message": message}], "finding_keys": [], "findings": [],
    }


def rescore(entry: dict[str, Any], fail_on: str) -> dict[str, Any]:
    """The entry's exit code under this run's ``--fail-on``; unreadable (3) and internal (4) stay."""
    if entry["exit_code"] not in (EXIT_OK, EXIT_FINDINGS):
        return entry
    counts = entry.get("findings_by_severity", {})
    gated = GATED_SEVERITIES[GATED_SEVERITIES.index(fail_on):] if fail_on != "never" else ()
    severe = any(counts.get(s, 0) for s in gated)
    return {**entry, "exit_code": EXIT_FINDINGS if severe else EXIT_OK}
