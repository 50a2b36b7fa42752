"""The one Spark configuration every log-writing script under ``tests/scenarios`` starts from.

Why shared: the scenario scripts (stage, SQL, cluster) and the codec generator all want the
same thing from Spark — a quiet local session (no UI, no progress bar) whose scratch space
and warehouse live in a temporary folder and whose event log lands, uncompressed and not
rolling unless asked, in one folder — and differ only in a few settings of their own. Each
script runs as ``python <script> --child NAME DEST`` in a fresh process (the master and the
launch settings must be fixed before the JVM starts), so this module is imported from the
script's own folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def base_conf(app_name: str, master: str, log_dir: Path, scratch: Path, *, codec: str | None = None,
              rolling: bool = False) -> dict[str, str]:
    """The shared settings: name, master, quiet UI, scratch folders, and where the event log goes."""
    conf = {
        "spark.app.name": app_name,
        "spark.master": master,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(scratch / "local"),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": log_dir.resolve().as_uri(),
        "spark.eventLog.compress": "true" if codec else "false",
        "spark.eventLog.rolling.enabled": "true" if rolling else "false",
    }
    if codec:
        conf["spark.eventLog.compression.codec"] = codec
    return conf


def start_session(conf: Mapping[str, str]) -> Any:
    """A SparkSession with exactly ``conf``, logging only errors."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child script: Spark's Python workers use this interpreter."""
    return dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable, **extra)
