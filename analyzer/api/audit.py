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

For schedulers that run each source as a task of its own, ``sources=`` analyses only the
named sources (their reports and a per-source result, no summary) and ``summary_only=``
writes the summary from those results without reading any source (``audit_state``).
"""

from __future__ import annotations

import dataclasses
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
    AuditConfigError,
    AuditSource,
    current_week,
    parse_week,
)
from analyzer.api.audit_lock import week_lock
from analyzer.api.audit_state import entries_on_disk, prior_entry, refresh_states, select_sources, write_state
from analyzer.api.audit_summary import (
    Problem,
    SourceResult,
    now,
    previous_summary,
    read_summary,
    source_entry,
    summary_from_entries,
    summary_markdown,
)
from analyzer.api.output import EXIT_INTERNAL, EXIT_OUTPUT, OutputError, exit_code, render, write_atomically
from analyzer.core.model import InputError
from analyzer.core.report import Report
from analyzer.core.safe_text import printable, quote_name

LIVE_DAYS = 7  # live warehouse sources read the week up to the run


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A finished audit: its folder, per-source results, the summary document and the exit code.

    ``sources`` is empty after ``summary_only`` (no source was read); ``summary`` is None
    after a run of chosen ``sources`` (no summary written).
    """

    week: str
    folder: Path
    sources: tuple[SourceResult, ...]
    summary: dict[str, Any] | None
    exit_code: int


def run_audit(config: AuditConfig, week: str | None = None, *, output_dir: str | Path | None = None,
              fail_on: str = "never", debug: bool = False, on_problem: Problem | None = None,
              sources: Sequence[str] = (), summary_only: bool = False) -> AuditResult:
    """Analyse every source of ``config`` for ``week`` (default: this ISO week, UTC) and write the folder.

    Re-running a week overwrites the same files atomically; files a previous run of that
    week listed in its summary and this run no longer writes are removed. ``sources``
    (names) runs only those sources and writes no summary; ``summary_only`` writes the
    summary from the results earlier runs left on disk. Raises ``AuditConfigError`` (one
    line, before any work) for an unknown source name or both modes at once,
    ``AuditBusyError`` when another audit of the week holds it past ``DEANALYZE_AUDIT_WAIT``,
    and ``OutputError`` for an output folder that cannot be written (before any source runs)
    or a summary that cannot be written. A source whose report cannot be written is that
    source's error (exit 5); the other sources still run.
    """
    if sources and summary_only:
        raise AuditConfigError("--source and --summary-only: give one or the other")
    chosen = select_sources(config, sources) if sources else config.sources
    say = on_problem or (lambda _line: None)
    week = parse_week(week) if week else current_week()
    base = Path(output_dir) if output_dir is not None else config.output_dir
    folder = base / week
    with week_lock(base, folder, [s.name for s in chosen] if sources else ()):
        return _run_locked(config, chosen, week, base, folder, fail_on, debug, say,
                           only_chosen=bool(sources), summary_only=summary_only)


def _run_locked(config: AuditConfig, chosen: Sequence[AuditSource], week: str, base: Path, folder: Path,
                fail_on: str, debug: bool, say: Problem, *, only_chosen: bool,
                summary_only: bool) -> AuditResult:
    """``run_audit`` once the week is held: no other audit reads or writes it meanwhile."""
    earlier = read_summary(folder / "summary.json")
    if only_chosen:
        return _run_chosen(config, chosen, week, folder, earlier, fail_on, debug, say)
    results: list[SourceResult] = []
    if summary_only:
        entries = entries_on_disk(config, folder, week, earlier, fail_on, say)
    else:
        results = [_run_source(config, source, folder, fail_on, debug, say) for source in chosen]
        entries = [source_entry(r) for r in results]
        refresh_states(folder, week, entries)
    summary = summary_from_entries(config, week, entries, previous_summary(base, week, say))
    write_atomically(str(folder / "summary.json"), json.dumps(summary, indent=2).encode() + b"\n")
    write_atomically(str(folder / "summary.md"), summary_markdown(summary).encode())
    _write_fleet_dashboard(config, folder, say)
    _remove_stale(folder, _listed(earlier), {f for e in entries for f in e["files"]})
    return AuditResult(week=week, folder=folder, sources=tuple(results), summary=summary,
                       exit_code=summary["exit_code"])


def _run_chosen(config: AuditConfig, chosen: Sequence[AuditSource], week: str, folder: Path,
                earlier: Mapping[str, Any] | None, fail_on: str, debug: bool, say: Problem) -> AuditResult:
    """Some sources only: their reports and per-source results; the summary is left as it is."""
    results = []
    for source in chosen:
        before = prior_entry(folder, week, source, earlier)
        result = _run_source(config, source, folder, fail_on, debug, say)
        write_state(folder, week, source_entry(result))
        _remove_stale(folder, set(before["files"]) if before else set(), set(result.files))
        results.append(result)
    return AuditResult(week=week, folder=folder, sources=tuple(results), summary=None,
                       exit_code=max(r.exit_code for r in results))


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
        where = f"{source.kind} source {source.name!r}: {quote_name(first.source)}"
        say(f"deanalyze: audit: {where}: {printable(first.message)}{more}")
    files, unwritten = [], []
    for fmt in config.formats:
        try:
            data = render(report, fmt, plotlyjs=config.plotlyjs)
            write_atomically(str(folder / f"{source.name}.{fmt}"), data)
        except OutputError as err:  # a full disk: this source's error; the next sources still try
            say(f"deanalyze: audit: {source.kind} source {source.name!r}: {err}")
            unwritten.append(InputError(source=err.target, message=str(err).removeprefix(f"{err.target}: ")))
            continue
        files.append(f"{source.name}.{fmt}")
    if unwritten:
        report, code = dataclasses.replace(report, errors=(*report.errors, *unwritten)), EXIT_OUTPUT
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


def _listed(summary: Mapping[str, Any] | None) -> set[str]:
    """The report files a week's summary lists."""
    sources = summary["sources"] if summary else []
    return {str(f) for s in sources if isinstance(s, dict) for f in s.get("files", [])}


def _remove_stale(folder: Path, listed: set[str], written: set[str]) -> None:
    """Reports an earlier run of this week wrote and this run did not (a source or format removed)."""
    for name in listed - written:
        stem, _, fmt = name.rpartition(".")
        if SAFE_NAME.match(stem) and fmt in FORMATS and (folder / name).is_file():
            (folder / name).unlink()
