"""Start Spark's own History Server, from the installed pyspark, on 127.0.0.1 for tests.

pyspark ships a full Spark distribution (``bin/spark-class`` and ``jars/``), so the History
Server the tests talk to is the real one, the same code that serves clusters, not a fake.
It runs in its own process group (``spark-class`` ``exec``s java) so stopping it kills
the JVM, and it binds 127.0.0.1 only (``SPARK_LOCAL_IP``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest


def spark_home() -> Path | None:
    """The pyspark package folder when it holds an executable ``bin/spark-class``, else None.

    Found without importing pyspark (slow, and not needed to run the server).
    """
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.origin:
        return None
    home = Path(spec.origin).parent
    launcher = home / "bin" / "spark-class"
    return home if launcher.is_file() and os.access(launcher, os.X_OK) and (home / "jars").is_dir() else None


def java_available() -> bool:
    """Java on ``JAVA_HOME`` or on the PATH, as ``spark-class`` looks for it."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        return True
    return shutil.which("java") is not None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HistoryServer:
    """A running History Server: its URL, the apps it serves (id -> original logs), its process."""

    url: str
    apps: Mapping[str, Sequence[Path]]
    log_dir: Path
    log_file: Path
    process: subprocess.Popen[bytes]
    startup_s: float

    def app_ids(self) -> list[str]:
        """The application ids ``/api/v1/applications`` lists right now."""
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never a proxy
        with direct.open(f"{self.url}/api/v1/applications", timeout=5) as answer:
            return [a["id"] for a in json.load(answer)]

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's own log, for failure messages."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the whole process group: TERM, then KILL after 10 s."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def start_history_server(apps: Mapping[str, Sequence[Path]], work_dir: Path,
                         timeout_s: float = 120.0) -> HistoryServer:
    """Copy each app's logs (files or rolling folders) into ``work_dir`` and serve them.

    Returns once ``/api/v1/applications`` lists every app id of ``apps``.

    Raises:
        RuntimeError: no Spark/Java, the server exits, or it does not list the apps within
            ``timeout_s``; the message carries the tail of the server's log.
    """
    home = spark_home()
    if home is None or not java_available():
        raise RuntimeError("the History Server needs pyspark (with bin/spark-class) and Java")
    log_dir = work_dir / "spark-events"
    log_dir.mkdir(parents=True)
    for log in (log for logs in apps.values() for log in logs):
        copy = shutil.copytree if log.is_dir() else shutil.copy2
        copy(log, log_dir / log.name)
    port = free_port()
    properties = work_dir / "history-server.conf"
    properties.write_text(
        f"spark.history.fs.logDirectory {log_dir.as_uri()}\n"
        f"spark.history.ui.port {port}\n"
        "spark.history.fs.update.interval 1s\n"
        "spark.history.fs.cleaner.enabled false\n"
        "spark.ui.showConsoleProgress false\n"
    )
    env = {
        **os.environ, "SPARK_HOME": str(home), "SPARK_CONF_DIR": str(work_dir),
        "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_PUBLIC_DNS": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "512m",
    }
    env.pop("PYSPARK_PYTHON", None)
    log_file = work_dir / "history-server.log"
    started = time.monotonic()
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer",
             "--properties-file", str(properties)],
            cwd=work_dir, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = HistoryServer(f"http://127.0.0.1:{port}", apps, log_dir, log_file, process, 0.0)
    try:
        _wait_until_listed(server, set(apps), started + timeout_s)
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - started
    return server


def _wait_until_listed(server: HistoryServer, expected: set[str], deadline: float) -> None:
    listed: set[str] = set()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the History Server exited with code {server.process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            listed = set(server.app_ids())
        except (OSError, ValueError):
            listed = set()
        if expected <= listed:
            return
        time.sleep(0.25)
    raise RuntimeError(f"the History Server did not list {sorted(expected - listed)} in time "
                       f"(it lists {sorted(listed)}):\n{server.log_tail()}")


# --- the pytest fixture (imported by tests/conftest.py) -----------------------------------

_DATA = Path(__file__).resolve().parent / "data"
_GENERATED = _DATA / "generated"
_KUBEFLOW = _DATA / "spark-events" / "kubeflow-mcp-apache-spark-history-server"
_E2E = _KUBEFLOW / "skills" / "cli" / "e2e" / "spark-events"

# app id -> its logs: a Spark 1.4 plain file, zstd and lz4 files, a rolling zstd folder, and
# a YARN app with two attempts (the first one never finished).
HISTORY_APPS: dict[str, list[Path]] = {
    "local-1430917381534": [_DATA / "spark-events" / "apache-spark" / "spark-events" / "local-1430917381534"],
    "local-1795877657976": [_GENERATED / "zstd" / "local-1795877657976.zstd"],
    "local-1795877684997": [_GENERATED / "lz4" / "local-1795877684997.lz4"],
    "local-1795877831611": [_GENERATED / "rolling-zstd" / "eventlog_v2_local-1795877831611"],
    "application_1713000000000_0001": [_E2E / "application_1713000000000_0001_1.zstd",
                                       _E2E / "application_1713000000000_0001_2.zstd"],
}


@pytest.fixture(scope="session")
def history_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryServer]:
    """Spark's History Server on 127.0.0.1 serving ``HISTORY_APPS``; skipped without pyspark or Java."""
    if spark_home() is None:
        pytest.skip("pyspark with bin/spark-class is not installed")
    if not java_available():
        pytest.skip("Java is not installed")
    server = start_history_server(HISTORY_APPS, tmp_path_factory.mktemp("history-server"))
    try:
        yield server
    finally:
        server.stop()
