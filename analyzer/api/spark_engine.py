"""The Spark engine: a fleet's event logs read on a Spark cluster's executors.

Why a reader strategy and not a second analysis: reading (decompressing and replaying a
log into an ``Application``) is the part that grows with the fleet and splits per log; the
rest (duplicates, rules, prices, the monthly projection, the report) needs every
application at once and is cheap. So executors run the very ``read_log`` the local engine
runs (errors become the same ``InputError``) and return one compact ``Application`` per
log; the driver hands them to ``analyze_found_logs(reader=...)`` and the report is the
local engine's, byte for byte apart from ``generated_at``.

The session: an active one (``spark-submit``, a notebook, Databricks) is used as it is and
left running; otherwise one is built with ``master`` (default ``local[*]``) and stopped
afterwards. The driver's copy of deanalyze is shipped to the executors as a zip
(``addPyFile``), so they run the same code; they still need its dependencies installed
(see the README, "Scale: many logs, many machines"). pyspark is imported lazily: the base
install has none.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from analyzer.api.spark import LogReader, ProgressCallback, read_log
from analyzer.core.errors import SourceSettingsError
from analyzer.core.model import Application, InputError
from connectors.limits import ReadLimits, current_limits, use_limits
from connectors.spark_eventlog.discovery import LogSource

INSTALL_HINT = "pip install 'deanalyze[spark]'"
PACKAGES = ("analyzer", "connectors", "rules", "reports")  # what executors import
# Spark's own log lines: errors only, and no "Setting default log level" banner (the repl logger's
# level equals the root's), so deanalyze's stderr stays one line per problem.
_QUIET_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = deanalyze: spark: %p %c{1}: %m%n
"""
_shipped: set[tuple[str, str]] = set()  # (application id, zip digest): each zip added once per context

Result = Application | InputError


def require_pyspark() -> None:
    """Raise a one-line ``SourceSettingsError`` naming the extra when pyspark is not installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SourceSettingsError(f"engine spark needs pyspark: {INSTALL_HINT}") from None


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
    """Read ``sources`` on Spark executors, one log per task, results in the order of ``sources``.

    One log per task balances logs of very different sizes and confines a failure to one
    log: should a task fail (its Python worker killed, out of memory), each log of the
    failed job is read again in a job of its own and the one that fails again becomes an
    ``InputError``, as a dead worker does with ``read_logs``.
    """
    if not sources:
        return []
    with spark_context(master) as sc:
        task = partial(_read_partition, current_limits(), debug, os.getcwd())
        rdd = sc.parallelize(list(enumerate(sources)), numSlices=len(sources)).mapPartitions(task)
        try:
            pairs = _collect(sc, rdd, len(sources), progress)
        except Exception as err:  # noqa: BLE001 - py4j/pyspark wrap a failed task in several types
            if debug:
                print(f"deanalyze: spark job failed, reading each log alone: {err}", file=sys.stderr)
            pairs = _collect_one_by_one(sc, rdd, sources, progress)
    results: list[Result | None] = [None] * len(sources)
    for index, result in pairs:
        results[index] = result
    return [r if r is not None else InputError(source=s.display, message="not read by the Spark engine")
            for r, s in zip(results, sources, strict=True)]


def _read_partition(limits: ReadLimits, debug: bool, cwd: str,
                    items: Iterable[tuple[int, LogSource]]) -> Iterator[tuple[int, Result]]:
    """Executor side: the local engine's ``read_log`` under the driver's read limits.

    Relative paths are the driver's: they are resolved from its working folder where the
    executor has it (same machine, shared file system), so errors name files as locally.
    """
    _one_process_per_task()
    with use_limits(limits), _working_folder(cwd):
        pairs = [(index, read_log(source, debug)) for index, source in items]
    yield from pairs


def _one_process_per_task() -> None:
    """Spark already runs a task per core: a big plain log is not split over a second process."""
    try:
        from connectors.spark_eventlog import split
    except ImportError:  # a reader without the two-process split
        return
    split.SPLIT_MIN_BYTES = 1 << 62


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


def _collect(sc: Any, rdd: Any, total: int, progress: ProgressCallback | None) -> list[tuple[int, Result]]:
    """``rdd.collect()``; with ``progress``, completed tasks are reported while the job runs."""
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
        done = _completed_tasks(sc, group)
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


def _collect_one_by_one(sc: Any, rdd: Any, sources: Sequence[LogSource],
                        progress: ProgressCallback | None) -> list[tuple[int, Result]]:
    """After a failed job: each log in a job of its own, so only the log that fails is lost."""
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


@contextlib.contextmanager
def spark_context(master: str | None = None) -> Iterator[Any]:
    """The active SparkContext (left running), else a new one on ``master`` (stopped afterwards).

    ``master`` is ignored when a context is active: a process has one SparkContext.
    """
    require_pyspark()
    from pyspark import SparkContext

    with tempfile.TemporaryDirectory(prefix="deanalyze-spark-") as scratch:
        active = SparkContext._active_spark_context
        if active is not None:
            sc = active
        else:
            with warnings.catch_warnings():  # pyspark's warning about the pandas version: not ours
                warnings.simplefilter("ignore", FutureWarning)
                sc = _new_context(master, Path(scratch))
        try:
            _ship_project(sc)
            yield sc
        finally:
            if active is None:
                sc.stop()


def _new_context(master: str | None, scratch: Path) -> Any:
    """A quiet session: no UI, Spark's own log lines only for errors, results of any size."""
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    log4j = scratch / "log4j2.properties"
    log4j.write_text(_QUIET_LOG4J)
    builder = SparkSession.builder.appName("deanalyze")
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.maxResultSize": "0",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j.as_uri()}",
        "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j.as_uri()}",
    }
    if not (os.environ.get("PYSPARK_PYTHON") or os.environ.get("PYSPARK_DRIVER_PYTHON")):
        settings["spark.pyspark.python"] = sys.executable  # the interpreter that has deanalyze
    for key, value in settings.items():
        builder = builder.config(key, value)
    if master or not SparkConf().contains("spark.master"):  # spark-submit sets spark.master itself
        builder = builder.master(master or "local[*]")
    return builder.getOrCreate().sparkContext


def _ship_project(sc: Any) -> None:
    """Add a zip of the driver's deanalyze packages to ``sc``, once per context and version.

    The zip stays in a per-user temporary folder: Spark serves it from there for as long as
    the context lives, and an unchanged deanalyze reuses it.
    """
    folder = Path(tempfile.gettempdir()) / f"deanalyze-spark-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    archive = project_zip(folder)
    digest = archive.stem.rsplit("-", 1)[-1]
    key = (str(sc.applicationId), digest)
    if key not in _shipped:
        driver_path = list(sys.path)
        sc.addPyFile(str(archive))
        sys.path[:] = driver_path  # the driver keeps its own imports (the copy goes when sc stops)
        _shipped.add(key)


def project_zip(folder: Path) -> Path:
    """``folder/deanalyze-<digest>.zip``: the packages executors import, named by their content."""
    root = Path(__import__(PACKAGES[0]).__file__ or "").resolve().parent.parent
    files = sorted(p for name in PACKAGES for p in (root / name).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    target = folder / f"deanalyze-{digest.hexdigest()[:16]}.zip"
    if not target.exists():
        partial_zip = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        with zipfile.ZipFile(partial_zip, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(root).as_posix())
        os.replace(partial_zip, target)  # concurrent runs: each renames a complete zip
    return target
