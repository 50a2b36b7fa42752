"""The ``deanalyze`` command as a ``spark-submit`` application.

Usage: ``spark-submit [spark options] deploy/spark/deanalyze_job.py spark-logs URL --engine spark
--format json -o fleet.json`` (any ``deanalyze`` arguments after the file).

Why a file: ``spark-submit`` runs a Python application only from a ``.py`` file. The
session it configures (master, executors, their packed Python environment) is the one
``--engine spark`` reads the logs on; see the README, "Scale: many logs, many machines".
"""

from analyzer.cli import main

if __name__ == "__main__":
    main(prog_name="deanalyze")
