"""The library API for Spark: event logs into a ``Report``.

One bad log never stops the others: every unreadable input becomes an ``InputError``
with its path and a one-line reason. Many logs are parsed in parallel processes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from analyzer import __version__
from analyzer.api.errors import rule_error_collector
from analyzer.core.findings import Finding
from analyzer.core.gc_pause import cyclic_gc_paused
from analyzer.core.model import Application, InputError
from analyzer.core.report import Report
from connectors.limits import ReadLimits, use_limits
from connectors.spark_eventlog import split
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.reader import read_application
from connectors.spark_eventlog.source import find_logs

if TYPE_CHECKING:
    from analyzer.core.cost import CostSettings
    from rules.engine import EngineConfig

# What the analysis needs after reading: imported while a split read waits for its worker
# (``split.while_waiting``), so a big log's second core hides their import time.
ANALYSIS_MODULES = ("rules.registry", "analyzer.api.whatif", "analyzer.core.cost", "analyzer.core.catalog",
                    "reports.json_report")

ProgressCallback = Callable[[int, int], None]
#: Reads logs in order, each an Application or an InputError (another strategy than read_logs).
LogReader = Callable[[Sequence[LogSource]], list[Application | InputError]]


class LogCache(Protocol):
    """What ``analyze_spark_logs(history=...)`` asks a run history (``analyzer.api.history``).

    ``lookup`` returns, per source, the stored ``Application`` of a log already read (same
    size and mtime, or same content) by this deanalyze version, so the log is not read again,
    or None; one call for all sources lets the store answer in one query. ``remember`` stores
    a freshly read one. ``findings`` returns the rules' findings stored for an application
    under the same rules config and deanalyze version (rules are pure functions of one
    application and its config), or None to run the rules; ``remember_findings`` stores them.
    Prices always run on the whole set, so a report with cached applications and findings is
    the report a fresh read gives.
    """

    def lookup(self, sources: Sequence[LogSource]) -> list[Application | None]:
        """Per source, its stored application, or None to read it."""

    def remember(self, source: LogSource, app: Application) -> None:
        """Store a freshly read application."""

    def findings(self, app: Application, rules_config: EngineConfig | None) -> list[Finding] | None:
        """The stored rule findings of ``app`` under ``rules_config``, or None to run the rules."""

    def remember_findings(self, app: Application, rules_config: EngineConfig | None,
                          findings: list[Finding]) -> None:
        """Store the rule findings of an application."""


def read_log(source: LogSource, debug: bool = False) -> Application | InputError:
    """Read one log; bad input comes back as an ``InputError`` instead of raising."""
    try:
        return read_application(source)
    except EventLogError as err:
        return InputError(source=err.source or source.display, message=err.message)
    except MemoryError:
        return InputError(source=source.display, message="out of memory while reading this log")
    except Exception as err:  # a reader bug must not lose the other logs
        if debug:
            traceback.print_exc()
        return InputError(
            source=source.display,
            message=f"unexpected {type(err).__name__} while reading: {err} (rerun with --debug)",
        )


def _read_debug(source: LogSource) -> Application | InputError:
    return read_log(source, debug=True)


def resolve_jobs(jobs: int | str, logs: int) -> int:
    """Worker processes for ``logs`` logs: ``"auto"`` is one per usable CPU; never more than logs.

    ``"auto"`` counts the CPUs this process may run on (its affinity, as a container or
    ``taskset`` sets it), not the machine's.
    """
    if jobs == "auto":
        count = _usable_cpus()
    elif isinstance(jobs, int) and not isinstance(jobs, bool):
        count = jobs  # 0 or less: read in this process, as before
    else:
        raise ValueError(f"jobs must be a positive number or 'auto', not {jobs!r}")
    return max(1, min(count, logs))


def read_logs(sources: Sequence[LogSource], *, jobs: int | str = 1, debug: bool = False,
              progress: ProgressCallback | None = None) -> list[Application | InputError]:
    """Read ``sources``, in order, in ``jobs`` processes (``"auto"``: every usable CPU).

    A worker process that dies (killed, out of memory) breaks its pool; only the logs that
    were in flight are suspects. Each is read again alone in a fresh process, so the log
    that kills its reader becomes one ``InputError`` and every other log is still read.
    """
    worker = _read_debug if debug else read_log
    count = resolve_jobs(jobs, len(sources))
    results: list[Application | InputError | None] = [None] * len(sources)
    done = [0]

    def finish(index: int, result: Application | InputError) -> None:
        results[index] = result
        done[0] += 1
        if progress:
            progress(done[0], len(sources))

    if count <= 1:
        for i, source in enumerate(sources):
            finish(i, worker(source))
    else:
        todo = list(range(len(sources)))
        while todo:
            todo, suspects = _pool_pass(worker, sources, todo, count, finish)
            for i in suspects:
                finish(i, _read_alone(worker, sources[i]))
    return [r for r in results if r is not None]


def _pool_pass(worker: Callable[[LogSource], Application | InputError], sources: Sequence[LogSource],
               todo: list[int], count: int, finish: Callable[[int, Application | InputError], None],
               ) -> tuple[list[int], list[int]]:
    """Read ``todo`` with ``count`` workers, at most ``count`` logs in flight.

    Returns the logs not yet read and the suspects: the logs in flight when a worker died.
    """
    waiting = iter(todo)
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=count, initializer=_pool_worker_init) as pool:
        flight = {pool.submit(worker, sources[i]): i for i in itertools.islice(waiting, count)}
        while flight:
            finished, _ = wait(flight, return_when=FIRST_COMPLETED)
            broken = [f for f in finished if isinstance(f.exception(), BrokenProcessPool)]
            if broken:
                suspects = []
                for future, index in flight.items():
                    if future.done() and future.exception() is None:
                        finish(index, future.result())
                    else:
                        suspects.append(index)
                return list(waiting), suspects
            for future in finished:
                finish(flight.pop(future), future.result())
                for i in itertools.islice(waiting, 1):
                    flight[pool.submit(worker, sources[i])] = i
    return [], []


def _read_alone(worker: Callable[[LogSource], Application | InputError],
                source: LogSource) -> Application | InputError:
    """Read one suspect log in a process of its own; its death is that log's error only."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, initializer=_pool_worker_init) as pool:
        try:
            return pool.submit(worker, source).result()
        except BrokenProcessPool:
            return InputError(source=source.display,
                              message="the process reading this log died (killed, or out of memory)")


def _pool_worker_init() -> None:
    """Pool workers already use every core: no second process per big log in them."""
    split.SPLIT_MIN_BYTES = 1 << 62
    os.environ[split.SPLIT_ENV] = str(1 << 62)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def analyze_spark_logs(paths: Iterable[str], *, jobs: int | str = 1, debug: bool = False,
                       progress: ProgressCallback | None = None,
                       on_sources: Callable[[int], None] | None = None,
                       rules_config: EngineConfig | None = None,
                       cost_settings: CostSettings | None = None,
                       history: LogCache | None = None, limits: ReadLimits | None = None) -> Report:
    """Read every Spark event log under ``paths``, run the Spark rules, price it, return the report.

    With ``history``, logs it already holds are not read again (see ``LogCache``). ``limits``
    (default: ``DEANALYZE_MAX_*`` environment variables, else generous defaults) caps a line
    and a decompressed log; see ``connectors.limits``.
    """
    with use_limits(limits):
        sources, errors = find_logs(tuple(paths))
        return analyze_found_logs(sources, errors, jobs=jobs, debug=debug, progress=progress,
                                  on_sources=on_sources, rules_config=rules_config,
                                  cost_settings=cost_settings, history=history)


def analyze_found_logs(sources: Sequence[LogSource], found_errors: Sequence[InputError] = (), *,
                       jobs: int | str = 1, debug: bool = False, progress: ProgressCallback | None = None,
                       on_sources: Callable[[int], None] | None = None,
                       rules_config: EngineConfig | None = None,
                       cost_settings: CostSettings | None = None,
                       history: LogCache | None = None,
                       reader: LogReader | None = None) -> Report:
    """Analyse logs a source already found (``found_errors``: the inputs it could not list).

    ``reader`` replaces ``read_logs`` (``jobs`` and ``progress`` are then its business), e.g.
    ``analyzer.api.spark_engine`` reads them on Spark executors; the rest is the same.
    """
    errors = list(found_errors)
    if on_sources:
        on_sources(len(sources))
    apps: list[Application] = []
    with split.while_waiting(_import_analysis_modules):
        results = _read_with_cache(sources, history, jobs=jobs, debug=debug, progress=progress, reader=reader)
    from analyzer.api.whatif import with_what_if
    from analyzer.core.catalog import load_catalog
    from analyzer.core.cost import CostSettings, price_report

    for result in results:
        if isinstance(result, InputError):
            errors.append(result)
        else:
            apps.append(result)
    apps = drop_duplicate_apps(apps, errors)
    settings = cost_settings or CostSettings(catalog=load_catalog())
    on_error = rule_error_collector(errors, debug)
    with cyclic_gc_paused():  # rules, prices and what-if: many small acyclic objects
        costs, findings = price_report(apps, _rule_findings(apps, rules_config, on_error, history), settings)
        costs = [with_what_if(app, cost) for app, cost in zip(apps, costs, strict=True)]
    findings.sort(key=lambda f: (-f.estimated_savings_usd, -f.severity_rank, f.rule_id))
    return Report(
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        applications=tuple(apps), findings=tuple(findings), errors=tuple(errors),
        costs=tuple(costs), catalog=settings.catalog, tool_version=__version__,
    )


def _rule_findings(apps: Sequence[Application], rules_config: EngineConfig | None,
                   on_error: Callable[[str, Any, Exception], None],
                   history: LogCache | None) -> list[Finding]:
    """``run_rules`` over ``apps``, reusing the findings ``history`` holds for an application."""
    from rules.registry import run_rules

    if history is None:
        return run_rules(apps, rules_config, on_error)
    findings: list[Finding] = []
    for app in apps:
        own = history.findings(app, rules_config)
        if own is None:
            own, failed = _run_rules_on(app, rules_config, on_error)
            if not failed:  # a rule that failed on this app must fail (and be reported) again next time
                history.remember_findings(app, rules_config, own)
        findings += own
    findings.sort(key=lambda f: (-f.severity_rank, -f.avoidable_core_hours, f.rule_id))  # as run_rules
    return findings


def _run_rules_on(app: Application, rules_config: EngineConfig | None,
                  on_error: Callable[[str, Any, Exception], None]) -> tuple[list[Finding], bool]:
    """One application's findings, and whether a rule failed on it."""
    from rules.registry import run_rules

    failed: list[str] = []

    def note(rule_id: str, subject: Any, err: Exception) -> None:
        failed.append(rule_id)
        on_error(rule_id, subject, err)

    return run_rules([app], rules_config, note), bool(failed)


def _import_analysis_modules() -> None:
    """Import what the analysis needs after reading (``ANALYSIS_MODULES``); cheap once done."""
    for name in ANALYSIS_MODULES:
        importlib.import_module(name)


def _read_with_cache(sources: Sequence[LogSource], history: LogCache | None, *, jobs: int | str, debug: bool,
                     progress: ProgressCallback | None, reader: LogReader | None = None,
                     ) -> list[Application | InputError]:
    """``read_logs`` for the logs ``history`` does not hold, in the order of ``sources``."""
    def read(todo: Sequence[LogSource]) -> list[Application | InputError]:
        if reader is not None:
            return reader(todo)
        return read_logs(todo, jobs=jobs, debug=debug, progress=progress)

    if history is None:
        return read(sources)
    cached = history.lookup(sources)
    fresh = iter(read([s for s, c in zip(sources, cached, strict=True) if c is None]))
    results: list[Application | InputError] = []
    for source, app in zip(sources, cached, strict=True):
        result = app if app is not None else next(fresh)
        if app is None and isinstance(result, Application):
            history.remember(source, result)
        results.append(result)
    return results


def drop_duplicate_apps(apps: list[Application], errors: list[InputError]) -> list[Application]:
    """One analysis per run: the same run read from several files (copies, a folder given under
    two names, an unfinished copy beside the finished log) would count its cost and findings twice.

    Two logs are the same run when they have the same application id, attempt and start time
    and one's stages (id, attempt, task count) are all in the other's: an unfinished copy is a
    prefix of the finished one. Logs that share an id but not their content (a test fixture
    edited per platform, a reused id) are different runs and both analysed. Of one run, the
    complete copy with the most stages wins, else the first found; every other copy becomes an
    ``errors[]`` note naming the copy that was analysed.
    """
    groups: dict[tuple[str, str | None, int | None], list[Application]] = {}
    for app in apps:
        groups.setdefault((app.app_id, app.attempt_id, app.start_time_ms), []).append(app)
    dropped: dict[int, Application] = {}
    for copies in groups.values():
        # sorted() is stable: among equals the first found wins
        ranked = sorted(copies, key=lambda a: (not a.complete, -len(a.stages)))
        for app in copies:
            keeper = next(k for k in ranked if k is app or _contains(k, app))
            if keeper is not app:
                dropped[id(app)] = keeper
    for app in apps:
        if id(app) in dropped:
            message = (f"duplicate of {dropped[id(app)].source}: same application id and attempt, "
                       "analysed once")
            errors.append(InputError(source=app.source, message=message))
    return [app for app in apps if id(app) not in dropped]


def _contains(whole: Application, part: Application) -> bool:
    """Every stage attempt of ``part`` is in ``whole`` with the same task count."""
    stages = {(s.stage_id, s.attempt_id, s.num_tasks) for s in whole.stages}
    return all((s.stage_id, s.attempt_id, s.num_tasks) in stages for s in part.stages)
