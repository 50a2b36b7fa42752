"""The SparkSession the Spark engine reads on: the active one, or a quiet one it builds and stops.

Why apart from the engine: how a session is found, built and given deanalyze's code is the
part that depends on where deanalyze runs (a laptop, ``spark-submit``, Databricks), while
the engine only maps logs to results. An active session (``spark-submit``, a notebook,
Databricks) is used as it is and left running; otherwise one is built with ``master``
(default ``local[*]``), without UI and with Spark's own log lines limited to errors, and
stopped afterwards. The driver's copy of deanalyze is shipped to the executors as a zip
(``addPyFile``) so they run the same code; they still need its dependencies installed.
pyspark is imported lazily: the base install has none.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analyzer.core.errors import SourceSettingsError

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


class SparkEngineError(RuntimeError):
    """Spark could not start (bad master URL, no Java, cluster unreachable); ``str()`` is one line."""


def require_pyspark() -> None:
    """Raise a one-line ``SourceSettingsError`` naming the extra when pyspark is not installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SourceSettingsError(f"engine spark needs pyspark: {INSTALL_HINT}") from None


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
                try:
                    sc = _new_context(master, Path(scratch))
                except Exception as err:  # noqa: BLE001 - py4j and pyspark raise many types
                    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
                    reason = lines[0][:300] if lines else type(err).__name__
                    raise SparkEngineError(f"could not start Spark on {master or 'local[*]'}: "
                                           f"{reason}") from err
        try:
            _ship_project(sc)
            yield sc
        finally:
            if active is None:
                sc.stop()


def _new_context(master: str | None, scratch: Path) -> Any:
    """A session of our own: the one ``spark-submit`` configured, else a quiet local one.

    Under ``spark-submit`` (it starts Python with its JVM already running) every setting is
    the submitter's; only ``master`` is applied when given. Otherwise: no UI, Spark's own
    log lines only for errors, results of any size, executors on this interpreter.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("deanalyze")
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # spark-submit: its master, conf and environment
        return (builder.master(master) if master else builder).getOrCreate().sparkContext
    log4j = scratch / "log4j2.properties"
    log4j.write_text(_QUIET_LOG4J)
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
    return builder.master(master or "local[*]").getOrCreate().sparkContext


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
