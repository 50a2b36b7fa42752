"""The ``deanalyze`` command: options parsed, one call to ``analyzer.api``, one exit code.

Every source in the registry (``analyzer.api.sources``) becomes a command built from its
declared options (``analyzer.cli.source_commands``); the other commands (audit, rules,
explain) live in ``analyzer.cli.main``.
"""

import os

# numpy's OpenBLAS starts one thread per core on import, and each spins for about 60 ms of
# CPU before it sleeps (measured: benchmarks/README.md). deanalyze does no linear algebra,
# and that spinning thread takes the core a split-read worker needs. Set before numpy loads;
# a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from analyzer.cli.main import main  # noqa: E402  (after the environment above)

__all__ = ["main"]
