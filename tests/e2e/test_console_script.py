"""The ``deanalyze`` console script (``analyzer.__main__:run``) ends with ``os._exit`` after ``main``.

Why these tests: skipping the interpreter's teardown saves tens of milliseconds on a big log,
but a fast exit must not lose a byte of the report, change an exit code or skip an ``atexit``
handler (temporary folders, a Spark session's shutdown). Each is checked here on a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.api.output import EXIT_FINDINGS, EXIT_OK, EXIT_OUTPUT, EXIT_UNREADABLE, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "spark-events"
RUN = "from analyzer.__main__ import run; run()"


def _run(*args: str, stdout: int | None = subprocess.PIPE,
         prelude: str = "") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", prelude + RUN, *args], stdout=stdout,
                          stderr=subprocess.PIPE, timeout=180, check=False)


def test_a_report_larger_than_a_pipe_buffer_arrives_whole() -> None:
    done = _run("spark-logs", str(EXAMPLES), "--format", "html")
    assert done.returncode == EXIT_OK, done.stderr
    assert len(done.stdout) > 1 << 20 and done.stdout.rstrip().endswith(b"</html>")
    report = json.loads(_run("spark-logs", str(EXAMPLES), "--format", "json").stdout)
    assert len(report["applications"]) >= 3


@pytest.mark.parametrize(("args", "code"), [
    (("--version",), EXIT_OK),
    (("spark-logs", str(EXAMPLES), "--fail-on", "high"), EXIT_FINDINGS),
    (("no-such-command",), EXIT_USAGE),
    (("spark-logs", "/no/such/folder"), EXIT_UNREADABLE),
])
def test_exit_codes_survive_the_fast_exit(args: tuple[str, ...], code: int) -> None:
    assert _run(*args, stdout=subprocess.DEVNULL).returncode == code


def test_a_reader_that_left_is_still_exit_5_and_one_line() -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = _run("spark-logs", str(EXAMPLES), "--format", "json", stdout=write)
    finally:
        os.close(write)
    assert done.returncode == EXIT_OUTPUT
    assert done.stderr == b"deanalyze: <stdout>: cannot write the report: Broken pipe\n"


def test_atexit_handlers_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    prelude = f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).touch); "
    assert _run("--version", prelude=prelude).returncode == EXIT_OK
    assert marker.exists()


def test_sys_exit_with_a_message_is_status_1_and_the_message() -> None:
    prelude = "import analyzer.cli as c; c.main = lambda: (_ for _ in ()).throw(SystemExit('bad thing')); "
    done = _run(prelude=prelude)
    assert done.returncode == 1 and done.stderr == b"bad thing\n"


@pytest.mark.parametrize(("argv", "hinted"), [
    (["spark-logs", "big.log"], "big.log"),
    (["spark-logs", "big.log", "--format", "json", "-o", "r.json", "--fail-on", "high"], "big.log"),
    (["spark-logs", "big.log", "--jobs=2", "--debug"], "big.log"),
    (["spark-logs", "big.log", "--debug", "other.log"], None),  # two logs: a flag takes no value
    (["spark-logs", "big.log", "other.log"], None),
    (["spark-logs", "--format", "json", "big.log"], None),  # the path is not certainly first
    (["spark-logs", "big.log", "--history", "h.duckdb"], None),  # perhaps not read at all
    (["spark-logs", "big.log", "--engine=spark"], None),
    (["spark-logs", "big.log", "--help"], None),
    (["snowflake", "big.log"], None),
    (["spark-logs"], None),
])
def test_only_a_certain_single_log_is_read_early(argv: list[str], hinted: str | None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzer.api.early_read as early
    from analyzer.__main__ import _read_early

    seen: list[str] = []
    monkeypatch.setattr(early, "read_soon", seen.append)
    _read_early(argv)
    assert seen == ([hinted] if hinted else [])


def test_the_flag_list_matches_the_spark_logs_command() -> None:
    from analyzer.__main__ import _FLAGS
    from analyzer.cli import main

    command = main.commands["spark-logs"]
    flags = {name for p in command.params if getattr(p, "is_flag", False)
             for name in (*p.opts, *p.secondary_opts) if name.startswith("--") and name != "--help"}
    assert flags == set(_FLAGS)
