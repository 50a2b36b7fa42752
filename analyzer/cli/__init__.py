"""The ``deanalyze`` command: options parsed, one call to ``analyzer.api``, one exit code.

Every source in the registry (``analyzer.api.sources``) becomes a command built from its
declared options (``analyzer.cli.source_commands``); the other commands (audit, rules,
explain) live in ``analyzer.cli.main``.
"""

import atexit
import os
import sys
from typing import NoReturn

# numpy's OpenBLAS starts one thread per core on import, and each spins for about 60 ms of
# CPU before it sleeps (measured: benchmarks/README.md). deanalyze does no linear algebra,
# and that spinning thread takes the core a split-read worker needs. Set before numpy loads;
# a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from analyzer.cli.main import main  # noqa: E402  (after the environment above)

__all__ = ["main", "run"]


def run() -> NoReturn:
    """The ``deanalyze`` console script: ``main``, then a fast exit once everything is written.

    Why not a plain return: tearing down the interpreter frees every object of the analysis
    one by one (37 ms of a 0.49 s run on a 280 MB log, measured: benchmarks/README.md), and
    the operating system reclaims that memory anyway. So once ``main`` has decided its exit
    code, the standard streams are flushed, the ``atexit`` handlers run (temporary folders,
    a Spark session's shutdown) and the process ends with ``os._exit``. An exception other
    than ``SystemExit`` (``--debug``) takes the normal path, with its traceback. Tests call
    ``main`` in-process and never reach this.
    """
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


def _exit_status(code: object) -> int:
    """What ``sys.exit(code)`` would make the process's status: None is 0, a message is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
