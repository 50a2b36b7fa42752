"""The Spark engine: a fleet's event logs read on a Spark cluster's executors.

Why a reader strategy and not a second analysis: reading (decompressing and replaying a
log into an ``Application``) is the part that grows with the fleet and splits per log; the
rest (duplicates, rules, prices, the monthly projection, the report) needs every
application at once and is cheap. So executors run the very ``read_log`` the local engine
runs (errors become the same ``InputError``) and return one compact ``Application`` per
log; the driver hands them to ``analyze_found_logs(reader=...)`` and the report is the
local engine's, byte for byte apart from ``generated_at``.

The session (the active one, or one built on ``master``) and the shipping of deanalyze's
code to the executors live in ``analyzer.api.spark_session``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from analyzer.api.spark import LogReader, ProgressCallback, read_log
from analyzer.api.spark_session import PACKAGES, require_pyspark, spark_context
from analyzer.core.errors import SourceSettingsError
from analyzer.core.model import Application, InputError
from connectors.limits import ReadLimits, current_limits, use_limits
from connectors.spark_eventlog.discovery import LogSource

Result = Application | InputError


def check_engine(settings: Mapping[str, object]) -> None:
    """``engine``/``master`` settings that go together, with pyspark installed for ``engine = spark``."""
    if settings.get("engine") == "spark":
        require_pyspark()
    elif settings.get("master"):
        raise SourceSettingsError("master: only with engine spark")


def spark_reader(*, master: str | None = None, debug: bool = False,
                 progress: ProgressCallback | None = None) -> LogReader:
    """A ``reader`` for ``analyze_found_logs`` that reads on Spark (see ``read_logs_on_spark``)."""
    return partial(read_logs_on_spark, master=master, debug=debug, progress=progress)


def read_logs_on_spark(sources: Sequence[LogSource], *, master: str | None = None, debug: bool = False,
                       progress: ProgressCallback | None = None) -> list[Result]:
    """Read ``sources`` on Spark executors; results in the order of ``sources``.

    Logs are grouped into tasks by ``plan_tasks``. Should a task fail (its Python worker
    killed, out of memory), every log is read again in a job of its own and the one that
    fails again becomes an ``InputError``, as a dead worker does with ``read_logs``.
    """
    if not sources:
        return []
    with spark_context(master) as sc:
        task = partial(_read_partition, current_limits(), debug, os.getcwd())
        groups = [[(i, sources[i]) for i in group] for group in plan_tasks(sources, sc.defaultParallelism)]
        rdd = sc.parallelize(groups, numSlices=len(groups)).mapPartitions(task)
        try:
            pairs = _collect(sc, rdd, len(sources), len(groups), progress)
        except Exception as err:  # noqa: BLE001 - py4j/pyspark wrap a failed task in several types
            if debug:
                print(f"deanalyze: spark job failed, reading each log alone: {err}", file=sys.stderr)
            pairs = _collect_one_by_one(sc, task, sources, progress)
    results: list[Result | None] = [None] * len(sources)
    for index, result in pairs:
        results[index] = result
    return [r if r is not None else InputError(source=s.display, message="not read by the Spark engine")
            for r, s in zip(results, sources, strict=True)]


def plan_tasks(sources: Sequence[LogSource], slots: int, *, per_task: int = 16) -> list[list[int]]:
    """Logs (indexes into ``sources``) per Spark task: balanced by size, biggest tasks first.

    Why not one log per task: a task costs tens of milliseconds however small its log,
    more than reading a small log. Why not one task per core: sizes vary by orders of
    magnitude. So at least four tasks per task slot and at most ``per_task`` logs per task;
    each log (largest first, local file sizes; URLs count as 1 MiB) goes to the lightest
    task, and the heaviest tasks start first.
    """
    count = min(len(sources), max(4 * max(slots, 1), -(-len(sources) // per_task)))
    sizes = [_size(source) for source in sources]
    tasks: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(range(len(sources)), key=lambda i: -sizes[i]):
        open_tasks = (t for t in range(count) if len(tasks[t]) < per_task)  # count * per_task >= logs
        lightest = min(open_tasks, key=lambda t: (loads[t], len(tasks[t])))
        tasks[lightest].append(index)
        loads[lightest] += sizes[index] + 1
    order = sorted(range(count), key=lambda t: -loads[t])
    return [sorted(tasks[t]) for t in order if tasks[t]]


def _size(source: LogSource) -> int:
    total = 0
    for path in source.files:
        try:
            total += os.path.getsize(path) if "://" not in path else 1 << 20
        except OSError:
            continue  # unreadable: its error comes from the reader
    return total


def _read_partition(limits: ReadLimits, debug: bool, cwd: str,
                    groups: Iterable[list[tuple[int, LogSource]]]) -> Iterator[tuple[int, Result]]:
    """Executor side: the local engine's ``read_log`` under the driver's read limits.

    Relative paths are the driver's: they are resolved from its working folder where the
    executor has it (same machine, shared file system), so errors name files as locally.
    """
    with use_limits(limits), _one_process_per_task(), _working_folder(cwd):
        pairs = [(index, read_log(source, debug)) for group in groups for index, source in group]
    yield from pairs


@contextlib.contextmanager
def _one_process_per_task() -> Iterator[None]:
    """Spark already runs a task per core: a big plain log is not split over a second process."""
    from connectors.spark_eventlog import split

    saved = split.SPLIT_MIN_BYTES, os.environ.get(split.SPLIT_ENV)
    split.SPLIT_MIN_BYTES = 1 << 62
    os.environ[split.SPLIT_ENV] = str(1 << 62)
    try:
        yield
    finally:
        split.SPLIT_MIN_BYTES = saved[0]
        if saved[1] is None:
            os.environ.pop(split.SPLIT_ENV, None)
        else:
            os.environ[split.SPLIT_ENV] = saved[1]


@contextlib.contextmanager
def _working_folder(path: str) -> Iterator[None]:
    """Run in ``path`` when it exists here; the worker's own folder comes back afterwards.

    The worker's relative ``sys.path`` entries (Spark's ``./<py-file>.zip``) are made
    absolute meanwhile, so lazy imports still find the shipped code.
    """
    previous = os.getcwd()
    moved = os.path.isdir(path) and os.path.realpath(path) != os.path.realpath(previous)
    if moved:
        _absolute_imports()
        os.chdir(path)
    try:
        yield
    finally:
        if moved:
            os.chdir(previous)


def _absolute_imports() -> None:
    """Make the worker's relative import paths absolute, so a ``chdir`` cannot break a later import.

    Spark puts the shipped zip on ``sys.path`` as ``./<name>.zip``, and the packages
    imported from it keep that relative path in their ``__path__``.
    """
    sys.path[:] = [os.path.abspath(entry) if entry and not os.path.isabs(entry) else entry
                   for entry in sys.path]
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in PACKAGES and isinstance(getattr(module, "__path__", None), list):
            module.__path__[:] = [os.path.abspath(entry) for entry in module.__path__]


def _collect(sc: Any, rdd: Any, total: int, tasks: int,
             progress: ProgressCallback | None) -> list[tuple[int, Result]]:
    """``rdd.collect()``; with ``progress``, logs of completed tasks (on average) while the job runs."""
    if progress is None:
        return list(rdd.collect())
    group = f"deanalyze-{os.getpid()}-{id(rdd)}"
    outcome: dict[str, Any] = {}

    def run() -> None:
        sc.setJobGroup(group, "deanalyze: read event logs")
        try:
            outcome["pairs"] = rdd.collect()
        except Exception as err:  # noqa: BLE001 - re-raised in the calling thread
            outcome["error"] = err

    worker = threading.Thread(target=run, name="deanalyze-spark-collect", daemon=True)
    worker.start()
    shown = -1
    while worker.is_alive():
        worker.join(0.25)
        done = _completed_tasks(sc, group) * total // tasks
        if done != shown and done < total:
            shown = done
            progress(done, total)
    if "error" in outcome:
        raise outcome["error"]
    progress(total, total)
    return list(outcome["pairs"])


def _completed_tasks(sc: Any, group: str) -> int:
    tracker = sc.statusTracker()
    done = 0
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            stage = tracker.getStageInfo(stage_id)
            done += stage.numCompletedTasks if stage else 0
    return done


def _collect_one_by_one(sc: Any, task: Callable[[Iterable[Any]], Iterator[tuple[int, Any]]],
                        sources: Sequence[LogSource],
                        progress: ProgressCallback | None) -> list[tuple[int, Result]]:
    """After a failed job: each log in a job of its own, so only the log that fails is lost."""
    alone = [[(i, source)] for i, source in enumerate(sources)]
    rdd = sc.parallelize(alone, numSlices=len(alone)).mapPartitions(task)
    pairs: list[tuple[int, Result]] = []
    for index, source in enumerate(sources):
        try:
            pairs += sc.runJob(rdd, lambda part: part, partitions=[index])
        except Exception as err:  # noqa: BLE001
            cause = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
            pairs.append((index, InputError(source=source.display,
                                            message=f"the Spark task reading this log failed: {cause}")))
        if progress:
            progress(index + 1, len(sources))
    return pairs


