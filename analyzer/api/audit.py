"""The scheduled weekly audit: every configured source analysed into ``DIR/<ISO week>/``.

Each source goes through the same library API and renderers as its own command
(``analyze_spark_logs``, ``analyze_warehouse``), so an audit report is exactly the report
``deanalyze spark-logs`` / ``snowflake`` / ``bigquery`` would print. One source that cannot
be read never stops the others: it is one line on stderr and a report whose ``errors[]``
say why. ``summary.json`` and ``summary.md`` then give per source the cost, the savings,
the findings by severity and the change since the latest earlier week in the same folder.

Findings are compared week to week by rule id and subject. A Spark subject names the run
(``app_id``, ``attempt_id``), which changes every week for the same job; when it also
names the application, the run ids are left out of the key so a recurring job's finding
stays the same finding.

Live warehouse reads cover the 7 days up to the run, whatever ``--week`` says; exports
are read as given.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.api.audit_config import (
    FORMATS,
    HISTORY_KEYS,
    SAFE_NAME,
    AuditConfig,
    AuditSource,
    current_week,
    parse_week,
)
from analyzer.api.audit_summary import (
    Problem,
    SourceResult,
    now,
    previous_summary,
    read_summary,
    summary_document,
    summary_markdown,
)
from analyzer.api.output import EXIT_INTERNAL, exit_code, render, write_atomically
from analyzer.core.model import InputError
from analyzer.core.report import Report

LIVE_DAYS = 7  # live warehouse sources read the week up to the run


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A finished audit: its folder, per-source results, the summary document and the exit code."""

    week: str
    folder: Path
    sources: tuple[SourceResult, ...]
    summary: dict[str, Any]
    exit_code: int


def run_audit(config: AuditConfig, week: str | None = None, *, output_dir: str | Path | None = None,
              fail_on: str = "never", debug: bool = False, on_problem: Problem | None = None) -> AuditResult:
    """Analyse every source of ``config`` for ``week`` (default: this ISO week, UTC) and write the folder.

    Re-running a week overwrites the same files atomically; files a previous run of that
    week listed in its summary and this run no longer writes are removed.
    """
    say = on_problem or (lambda _line: None)
    week = parse_week(week) if week else current_week()
    base = Path(output_dir) if output_dir is not None else config.output_dir
    folder = base / week
    folder.mkdir(parents=True, exist_ok=True)
    earlier = read_summary(folder / "summary.json")
    results = [_run_source(config, source, folder, fail_on, debug, say) for source in config.sources]
    previous = previous_summary(base, week, say)
    summary = summary_document(config, week, results, previous)
    write_atomically(str(folder / "summary.json"), json.dumps(summary, indent=2).encode() + b"\n")
    write_atomically(str(folder / "summary.md"), summary_markdown(summary).encode())
    _write_fleet_dashboard(config, folder, say)
    _remove_stale(folder, earlier, results)
    return AuditResult(week=week, folder=folder, sources=tuple(results), summary=summary,
                       exit_code=summary["exit_code"])


def _run_source(config: AuditConfig, source: AuditSource, folder: Path, fail_on: str, debug: bool,
                say: Problem) -> SourceResult:
    """Analyse one source and write its reports; a bug in one source is that source's error only."""
    try:
        report = analyze_source(config, source, debug=debug)
        code = exit_code(report, fail_on)
    except Exception as err:
        if debug:
            traceback.print_exc()
        message = f"internal error: {type(err).__name__}: {err} (rerun with --debug)"
        report = Report(generated_at=now(), applications=(), catalog=config.catalog,
                        errors=(InputError(source=source.name, message=message),), tool_version=__version__)
        code = EXIT_INTERNAL
    if report.errors:
        first, extra = report.errors[0], len(report.errors) - 1
        more = f" (and {extra} more problem(s), see the report)" if extra else ""
        say(f"deanalyze: audit: {source.kind} source {source.name!r}: {first.source}: {first.message}{more}")
    files = []
    for fmt in config.formats:
        write_atomically(str(folder / f"{source.name}.{fmt}"), render(report, fmt, plotlyjs=config.plotlyjs))
        files.append(f"{source.name}.{fmt}")
    return SourceResult(source=source, report=report, files=tuple(files), exit_code=code)


def analyze_source(config: AuditConfig, source: AuditSource, *, debug: bool = False) -> Report:
    """One source's report, through the same API call as its own CLI command.

    Live warehouse reads cover the last ``LIVE_DAYS`` days whatever the week. With
    ``[output] history`` the run is recorded there, as ``--history`` records it; a history
    that cannot be used is this source's error.
    """
    from analyzer.api.history import HistoryError, analyze_source_into_history

    settings = {"days": LIVE_DAYS} | {k: v for k, v in source.settings.items() if k not in HISTORY_KEYS}
    try:
        return analyze_source_into_history(
            config.history, source.source, settings, source_name=source.name,
            owner_keys=source.get("owner_keys", ()), app_keys=source.get("app_keys", ()),
            catalog=config.catalog, rules_config=config.rules, debug=debug)
    except HistoryError as err:
        return Report(generated_at=now(), applications=(), catalog=config.catalog, tool_version=__version__,
                      errors=(InputError(source=str(config.history), message=str(err)),))


def _write_fleet_dashboard(config: AuditConfig, folder: Path, say: Problem) -> None:
    """``fleet.html`` beside the summary: the fleet dashboard over ``[output] history``, when set."""
    if config.history is None:
        return
    from analyzer.api.history import HistoryError, fleet_report, render_fleet

    try:
        page = render_fleet(fleet_report(config.history), "html", plotlyjs=config.plotlyjs)
    except HistoryError as err:
        say(f"deanalyze: audit: {err}")
        return
    write_atomically(str(folder / "fleet.html"), page)


def _remove_stale(folder: Path, earlier: Mapping[str, Any] | None, results: Sequence[SourceResult]) -> None:
    """Reports an earlier run of this week wrote and this run did not (a source or format removed)."""
    if not earlier:
        return
    written = {f for r in results for f in r.files}
    listed = {str(f) for s in earlier["sources"] if isinstance(s, dict) for f in s.get("files", [])}
    for name in listed - written:
        stem, _, fmt = name.rpartition(".")
        if SAFE_NAME.match(stem) and fmt in FORMATS and (folder / name).is_file():
            (folder / name).unlink()
