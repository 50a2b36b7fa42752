"""A hint that a Spark log will be read by this process soon: start its second core now.

Why in the API: the CLI knows before it has even parsed its options which file a plain
``deanalyze spark-logs FILE`` will read; the connector knows how to read it on two cores.
Starting the split-read worker at that moment gives it the time the command spends on its
imports and options (about 35 ms on a 280 MB log: benchmarks/README.md). Only a big plain
local file qualifies; anything else is left to the normal read, and a worker whose file is
then not read is stopped at exit.
"""

from __future__ import annotations


def read_soon(path: str) -> None:
    """Start reading ``path`` early if it is a big plain local Spark log (never raises)."""
    try:
        from connectors.spark_eventlog.split import start_early

        start_early(path)
    except Exception:  # noqa: BLE001  (a hint: the normal read reports every problem of the file)
        return
