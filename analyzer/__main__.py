"""The ``deanalyze`` console script and ``python -m analyzer``: ``run``.

Why outside ``analyzer.cli``: importing that package loads click and every command (about 45
ms). ``run`` first looks at the arguments for a plain ``spark-logs FILE`` and, if so, asks the
API to start reading FILE (``analyzer.api.early_read``), so that the read's second core works
while the command's modules load; then it runs the command and exits fast.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn


def run() -> NoReturn:
    """The ``deanalyze`` console script: ``main``, then a fast exit once everything is written.

    Why not a plain return: tearing down the interpreter frees every object of the analysis
    one by one (37 ms of a 0.49 s run on a 280 MB log, measured: benchmarks/README.md), and
    the operating system reclaims that memory anyway. So once ``main`` has decided its exit
    code, the standard streams are flushed, the ``atexit`` handlers run (temporary folders,
    a Spark session's shutdown) and the process ends with ``os._exit``. An exception other
    than ``SystemExit`` (``--debug``) takes the normal path, with its traceback. Tests call
    ``analyzer.cli.main`` in-process and never reach this.
    """
    _read_early(sys.argv[1:])
    from analyzer.cli import main  # the click group, its modules, and the environment they need

    try:
        main()
    except SystemExit as done:
        code = _exit_status(done.code)
    else:
        code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: main already reported what it could
            code = code or 1
    atexit._run_exitfuncs()  # noqa: SLF001  (the handlers a normal exit runs, in the same order)
    os._exit(code)


# Options after which the log may not be read here, or not at all: no early start for them.
# Flags of ``spark-logs`` (no value follows them; tests/e2e/test_console_script.py checks the list).
_FLAGS = frozenset({"--debug", "--spot", "--show-sql-literals", "--progress", "--no-progress"})
_NOT_READ_HERE = ("--history", "--engine", "--help", "-h", "--version")


def _read_early(argv: list[str]) -> None:
    """``deanalyze spark-logs FILE ...``: hint the API to start reading FILE before the options
    are parsed and the command's modules imported. Only the first argument after the command,
    when it is not an option, is certainly a log path; any doubt means no hint."""
    if len(argv) < 2 or argv[0] != "spark-logs" or argv[1].startswith("-"):
        return
    if any(arg.split("=", 1)[0] in _NOT_READ_HERE for arg in argv):
        return
    positional = [a for a in argv[2:] if not a.startswith("-")]
    if positional and not _only_option_values(argv[2:]):
        return  # perhaps several logs: read by a pool, never split
    from analyzer.api.early_read import read_soon

    read_soon(argv[1])


def _only_option_values(rest: list[str]) -> bool:
    """Every non-option word in ``rest`` follows an option (so it is that option's value)."""
    return all(word.startswith("-") or (i > 0 and rest[i - 1].startswith("-") and "=" not in rest[i - 1]
                                        and rest[i - 1] not in _FLAGS)
               for i, word in enumerate(rest))


def _exit_status(code: object) -> int:
    """What ``sys.exit(code)`` would make the process's status: None is 0, a message is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    run()
