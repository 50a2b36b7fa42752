"""Run real pyspark jobs that plant cluster-sizing problems, one event log per scenario.

Usage: ``python tests/scenarios/cluster_jobs.py [OUTDIR [SCENARIO...]]`` (default OUTDIR
``tests/data/scenarios/cluster``, default every scenario).

Each scenario runs in its own Python process (a fresh SparkContext with its own app name) on
``local-cluster[N,1,1024]``: N real executor JVMs of one core each, started by pyspark's own
Spark (``SPARK_HOME`` is a scratch mirror of pyspark's folder). The event log is a single
uncompressed file, written to ``OUTDIR/<scenario>/``:

- ``oversized``: 4 executors; one Python task sleeps ~40 s while the three other executors warm
  up on a short stage and then idle, followed by three short 4-task stages. Most executor time is
  idle while jobs run: ``spark.oversized-cluster`` should recommend fewer than 4 executors.
- ``driver-bound``: 2 executors; a short job, then the driver alone works ~30 s in Python, then
  another short job. The executors are held through the gap: ``spark.driver-bound``.
- ``balanced``: 4 executors; six back-to-back stages of 4 equal tasks (4 s each), no driver gaps:
  neither rule should report anything of medium severity or more.

Executor JVMs run with C1 only and the serial GC so that four of them fit a 2-core machine
without their JIT threads dominating the first tasks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from spark_conf import base_conf, child_env, start_session

APP_PREFIX = "deanalyze-cluster-"
CHILD_TIMEOUT_SECONDS = 600
JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"
LONG_TASK_SECONDS = 40
WARM_UP_DELAY_SECONDS = 12  # the long task's Python worker starts first: less CPU contention
DRIVER_WORK_SECONDS = 30
BALANCED_TASK_SECONDS = 4
BALANCED_STAGES = 6


def spark_conf(name: str, master: str, log_dir: Path, scratch: Path) -> dict[str, str]:
    """A small, quiet cluster whose single uncompressed event log lands in ``log_dir``."""
    return base_conf(APP_PREFIX + name, master, log_dir, scratch) | {
        "spark.driver.memory": "512m",
        "spark.executor.memory": "512m",
        "spark.driver.extraJavaOptions": JAVA_OPTIONS,
        "spark.executor.extraJavaOptions": JAVA_OPTIONS,
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.adaptive.enabled": "false",
    }


def sleep_udf(seconds: float):  # type: ignore[no-untyped-def]
    """A Python UDF that sleeps: a task of a known length that holds its core."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    def body(x: int) -> int:
        time.sleep(seconds)
        return x

    return F.udf(body, LongType())


def short_stage(spark, label: str) -> None:  # type: ignore[no-untyped-def]
    """A JVM-only stage of 4 short tasks (no Python workers needed)."""
    spark.sparkContext.setJobDescription(label)
    spark.range(0, 400_000, numPartitions=4).selectExpr("sum(id % 7)").collect()


def run_oversized(spark) -> None:  # type: ignore[no-untyped-def]
    """One long single-task stage (with a 3-task warm-up beside it), then short 4-task stages."""
    sc = spark.sparkContext
    long_udf = sleep_udf(LONG_TASK_SECONDS)

    def long_job() -> None:
        sc.setJobDescription("long single-task stage")
        spark.range(1, numPartitions=1).select(long_udf("id")).collect()

    thread = threading.Thread(target=long_job)
    thread.start()
    time.sleep(WARM_UP_DELAY_SECONDS)  # the long task takes its executor first
    sc.setJobDescription("warm-up of the other executors")
    spark.range(0, 300_000, numPartitions=3).selectExpr("sum(id % 5)").collect()
    thread.join()
    for i in range(3):
        short_stage(spark, f"short parallel stage {i}")


def run_driver_bound(spark) -> None:  # type: ignore[no-untyped-def]
    """Short job, ~30 s of Python work on the driver alone, short job."""
    rows = spark.range(0, 20_000, numPartitions=2).selectExpr("id", "id % 97 AS k").collect()
    spark.sparkContext.setJobDescription("after the driver-side loop")
    deadline = time.monotonic() + DRIVER_WORK_SECONDS
    total = 0
    while time.monotonic() < deadline:  # driver-side Python loop over collected rows
        total += sum(r.k for r in rows[:2000])
        time.sleep(0.05)
    spark.range(0, 20_000, numPartitions=2).selectExpr(f"sum(id) + {total % 10}").collect()


def run_balanced(spark) -> None:  # type: ignore[no-untyped-def]
    """Back-to-back stages of exactly one 4-s task per core: every core busy, no gaps."""
    udf = sleep_udf(BALANCED_TASK_SECONDS)
    spark.sparkContext.setJobDescription("balanced stages")
    for _ in range(BALANCED_STAGES):
        spark.range(0, 4, numPartitions=4).select(udf("id").alias("x")).selectExpr("sum(x)").collect()


SCENARIOS: dict[str, tuple[str, Callable]] = {
    "oversized": ("local-cluster[4,1,1024]", run_oversized),
    "driver-bound": ("local-cluster[2,1,1024]", run_driver_bound),
    "balanced": ("local-cluster[4,1,1024]", run_balanced),
}


def child(name: str, log_dir: str) -> None:
    """Runs inside the subprocess: one SparkSession, one scenario, one event log."""
    master, body = SCENARIOS[name]
    with tempfile.TemporaryDirectory(prefix="deanalyze-cluster-") as tmp:
        spark = start_session(spark_conf(name, master, Path(log_dir), Path(tmp)))
        body(spark)
        spark.stop()


def scratch_spark_home(scratch: Path) -> Path:
    """pyspark's own Spark (local-cluster launches executors from SPARK_HOME/jars), mirrored by links.

    A local-cluster worker writes executor stdout/stderr to SPARK_HOME/work whatever
    SPARK_WORKER_DIR says; a home made of symlinks keeps that folder in scratch, not in
    site-packages.
    """
    import pyspark

    home = scratch / "spark-home"
    home.mkdir()
    for entry in Path(pyspark.__file__).parent.iterdir():
        if entry.name != "work":
            (home / entry.name).symlink_to(entry)
    return home


def cluster_env(scratch: Path) -> dict[str, str]:
    """The child's environment: scratch SPARK_HOME, this interpreter for driver and workers."""
    return child_env(SPARK_HOME=str(scratch_spark_home(scratch)))


def run_scenario(name: str, dest: Path) -> None:
    """Run one scenario in a child process and leave exactly its event log in ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="deanalyze-worker-") as scratch:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, str(dest)]
        proc = subprocess.run(cmd, env=cluster_env(Path(scratch)), capture_output=True,
                              timeout=CHILD_TIMEOUT_SECONDS)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-4000:])
        raise RuntimeError(f"scenario {name} failed (exit {proc.returncode})")
    for crc in dest.rglob(".*.crc"):  # Hadoop's local-FS checksum side files: not event logs
        crc.unlink()
    for log in dest.iterdir():  # Spark writes logs 0660; fixtures are plain readable files
        log.chmod(0o644)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    outdir = Path(argv[0] if argv else "tests/data/scenarios/cluster")
    names = argv[1:] or list(SCENARIOS)
    for name in names:
        started = time.monotonic()
        run_scenario(name, outdir / name)
        print(f"{name}: {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
