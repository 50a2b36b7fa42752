"""Write one real Spark event log per stage-level problem the stage rules look for.

Usage: ``python tests/scenarios/stage_jobs.py [OUTDIR] [--only NAME ...]``
(default OUTDIR ``tests/data/scenarios/stage``).

Each scenario runs in its own Python process (a fresh SparkContext, because the master,
memory and event-log settings are fixed at launch) with pyspark in local mode, and leaves
exactly one uncompressed, single-file event log in ``OUTDIR/<scenario>/``. The data are
small and synthetic; every run takes well under a minute on two cores. The planted
problems, and the rule that must report each, are listed in ``SCENARIOS`` and in the
README written beside the logs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spark_conf import base_conf, child_env, start_session

APP_PREFIX = "deanalyze-stage-"
CHILD_TIMEOUT_SECONDS = 240
DEFAULT_OUTDIR = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "stage"

# Settings every scenario shares: quiet local Spark, one plain event-log file, no broadcast
# joins (so joins shuffle), and task-end events without the redundant accumulator copies.
BASE_CONF = {  # beyond spark_conf.base_conf
    "spark.eventLog.includeTaskMetricsAccumulators": "false",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "8",
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    "spark.sql.adaptive.enabled": "false",
}
AQE_SKEW_CONF = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "256k",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "256k",
    "spark.sql.adaptive.autoBroadcastJoinThreshold": "-1",
    "spark.sql.adaptive.coalescePartitions.enabled": "false",
}


@dataclass(frozen=True)
class Scenario:
    """One Spark application: its master, extra settings, the job, and what it plants."""

    name: str
    job: Callable[..., None]
    plants: str
    master: str = "local[2]"
    conf: dict[str, str] = field(default_factory=dict)

    @property
    def app_name(self) -> str:
        return APP_PREFIX + self.name


# -- jobs (run inside the child process; ``spark`` is a live SparkSession) -----------------

HOT_KEY_ROWS = 1_200_000
COLD_ROWS = 120_000
HOT_KEY_MATCHES = 60


def _skewed_join(spark) -> None:
    """Join a table where one key holds 90 % of the rows with one that repeats that key.

    The task that owns the hot key reads most of the shuffle and produces
    ``HOT_KEY_ROWS x HOT_KEY_MATCHES`` joined rows, each formatted as a string (so the
    work per row is real); the other tasks have little to do.
    """
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("skewed join")
    rows = HOT_KEY_ROWS + COLD_ROWS
    facts = spark.range(0, rows, numPartitions=4).select(
        F.when(F.col("id") < HOT_KEY_ROWS, F.lit(0)).otherwise(F.col("id")).alias("k"),
        (F.col("id") % 97).alias("v"),
    )
    hot = spark.range(0, HOT_KEY_MATCHES, numPartitions=1).select(F.lit(0).cast("long").alias("k"))
    cold = spark.range(HOT_KEY_ROWS, rows, numPartitions=2).select(F.col("id").alias("k"))
    dims = hot.unionByName(cold).withColumn("w", F.col("k") % 13)
    joined = facts.join(dims, "k")
    text = F.concat_ws("-", F.col("v").cast("string"), F.col("w").cast("string"))
    joined.agg(F.sum(F.length(text)), F.count("*")).collect()


def _tiny_tasks(spark) -> None:
    """Aggregate a few thousand rows into thousands of shuffle partitions."""
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("tiny aggregation")
    df = spark.range(0, 20_000, numPartitions=2).select(
        (F.col("id") % 500).alias("k"), F.col("id").alias("v"))
    df.groupBy("k").agg(F.sum("v")).collect()


def _retried_tasks(spark) -> None:
    """A Python UDF whose first two attempts of every task raise, so every task is retried twice."""
    from pyspark import TaskContext
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    def flaky(x: int) -> int:
        ctx = TaskContext.get()
        if ctx is not None and ctx.attemptNumber() < 2:
            time.sleep(0.3)  # some work is lost before the failure
            raise RuntimeError(f"planted failure on attempt {ctx.attemptNumber()}")
        return x * 2

    spark.sparkContext.setJobDescription("flaky udf")
    udf = F.udf(flaky, LongType())
    spark.range(0, 4_000, numPartitions=4).select(udf("id").alias("y")).agg(F.sum("y")).collect()


def _spilling_sort(spark) -> None:
    """Sort wide random rows after a shuffle with a tiny execution-memory share: the sort spills.

    The ``noop`` sink keeps the sort in the plan (an aggregate on top would let the
    optimizer drop it) without writing any files.
    """
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("spilling sort")
    df = spark.range(0, 1_200_000, numPartitions=4).select(
        F.col("id"), F.sha2(F.col("id").cast("string"), 512).alias("s"),
        F.sha2((F.col("id") * 7).cast("string"), 512).alias("t"),
    )
    df.repartition(4, "id").sortWithinPartitions("s").write.format("noop").mode("overwrite").save()


def _gc_heavy(spark) -> None:
    """Collect many small strings per group in a small heap with a tiny young generation."""
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("gc heavy collect_list")
    df = spark.range(0, 3_000_000, numPartitions=4).select(
        (F.col("id") % 4000).alias("k"), F.concat(F.lit("value-"), F.col("id").cast("string")).alias("s")
    )
    df.groupBy("k").agg(F.collect_list("s").alias("l")).select(F.size("l")).agg(F.sum("size(l)")).collect()


def _few_big_partitions(spark) -> None:
    """Shuffle tens of MiB into the single shuffle partition ``spark.sql.shuffle.partitions=1`` allows."""
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("one big partition")
    df = spark.range(0, 400_000, numPartitions=4).select(
        F.col("id"), F.sha2(F.col("id").cast("string"), 256).alias("s")
    )
    df.repartition("id").sortWithinPartitions("s").write.format("noop").mode("overwrite").save()


def _balanced(spark) -> None:
    """An even aggregation and join: every task gets the same amount of work."""
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription("balanced join")
    facts = spark.range(0, 400_000, numPartitions=8).select(
        (F.col("id") % 8000).alias("k"), F.col("id").alias("v"))
    dims = spark.range(0, 8000, numPartitions=2).select(F.col("id").alias("k"), (F.col("id") % 7).alias("w"))
    facts.join(dims, "k").groupBy("w").agg(F.sum("v")).collect()


SCENARIOS = [
    Scenario("skew-aqe-off", _skewed_join, "spark.skew (one join key holds 90 % of the rows, AQE off)"),
    Scenario("skew-aqe-on", _skewed_join, "nothing from spark.skew: AQE's skew join splits the hot partition",
             conf=AQE_SKEW_CONF),
    Scenario("many-tiny-tasks", _tiny_tasks,
             "spark.too-many-partitions with a lowered task threshold (400 shuffle partitions for 20k rows "
             "on 2 cores; the 5000 tasks of the default would make a log of over 10 MB)",
             conf={"spark.sql.shuffle.partitions": "400"}),
    Scenario("task-retries", _retried_tasks, "spark.task-failures (two failed attempts per task)",
             master="local[2,4]", conf={"spark.task.maxFailures": "4"}),
    Scenario("spill", _spilling_sort, "spark.spill (a sort with about 5 MiB of execution memory per task)",
             conf={"spark.driver.memory": "512m", "spark.memory.fraction": "0.05",
                   "spark.sql.shuffle.partitions": "4"}),
    Scenario("gc-heavy", _gc_heavy,
             "spark.gc-pressure with a lowered run-time floor (small heap, serial GC, 2 MiB young "
             "generation: about 11 % of task time in GC)",
             conf={"spark.driver.memory": "512m", "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -Xmn2m",
                   "spark.sql.shuffle.partitions": "4"}),
    Scenario("oversized-partitions", _few_big_partitions,
             "spark.oversized-partitions with lowered thresholds (one shuffle partition for all data)",
             conf={"spark.sql.shuffle.partitions": "1"}),
    Scenario("balanced", _balanced, "nothing of medium severity or above from the stage rules"),
]


def spark_conf(scenario: Scenario, log_dir: Path, scratch: Path) -> dict[str, str]:
    """The scenario's full Spark configuration."""
    return BASE_CONF | scenario.conf | base_conf(scenario.app_name, scenario.master, log_dir, scratch)


def child(name: str, log_dir: str) -> None:
    """Runs inside the subprocess: one SparkSession, one job, one event log."""
    scenario = next(s for s in SCENARIOS if s.name == name)
    with tempfile.TemporaryDirectory(prefix="deanalyze-stage-") as tmp:
        spark = start_session(spark_conf(scenario, Path(log_dir), Path(tmp)))
        scenario.job(spark)
        spark.stop()


def run_scenario(scenario: Scenario, outdir: Path) -> Path:
    """Run one scenario in a fresh process; return the event log it left in ``outdir/<name>``."""
    dest = outdir / scenario.name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    env = child_env()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", scenario.name, str(dest)]
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=CHILD_TIMEOUT_SECONDS)
    if done.returncode != 0:
        sys.stderr.buffer.write(done.stderr[-4000:])
        raise RuntimeError(f"{scenario.name}: Spark job failed (exit {done.returncode})")
    for crc in dest.glob(".*.crc"):  # Hadoop's local-FS checksum side files: not event logs
        crc.unlink()
    logs = [p for p in dest.iterdir() if p.is_file()]
    if len(logs) != 1:
        raise RuntimeError(f"{scenario.name}: expected one event log, found {logs}")
    print(f"{scenario.name}: {logs[0].name} {logs[0].stat().st_size / 1024:,.0f} KiB "
          f"in {time.monotonic() - started:.0f} s", flush=True)
    return logs[0]


README = """# Stage-rule scenarios: real Spark event logs

Written by Apache Spark {spark} (pyspark {spark}, Java {java}, local mode) for
`tests/rules/test_rules_stage.py`. Regenerate all of them (a few minutes on two cores) with:

    python tests/scenarios/stage_jobs.py tests/data/scenarios/stage

or a few with `--only NAME ...`. Each folder holds one uncompressed single-file log of one
application named `{prefix}<folder>` (`spark.eventLog.compress=false`,
`spark.eventLog.rolling.enabled=false`, `spark.eventLog.includeTaskMetricsAccumulators=false`
to keep the files small). The jobs are in `tests/scenarios/stage_jobs.py`; what each plants:

{table}

The files contain only synthetic data produced by this project's own script and are
distributed as project test fixtures under the project's license.
"""


def write_readme(outdir: Path) -> None:
    """Say how the logs were made, next to them."""
    import pyspark

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.split('"')[1]
    rows = ["| folder | master | settings beyond the shared ones | planted problem |", "|---|---|---|---|"]
    for s in SCENARIOS:
        settings = ", ".join(f"`{k}={v}`" for k, v in s.conf.items()) or "—"
        rows.append(f"| `{s.name}` | `{s.master}` | {settings} | {s.plants} |")
    table = "\n".join(rows)
    (outdir / "README.md").write_text(README.format(
        spark=pyspark.__version__, java=java, prefix=APP_PREFIX, table=table,
    ))


def main(argv: list[str]) -> int:
    """Run the chosen scenarios (all by default) and rewrite the README."""
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SCENARIOS])
    args = parser.parse_args(argv)
    for scenario in SCENARIOS:
        if not args.only or scenario.name in args.only:
            run_scenario(scenario, args.outdir)
    write_readme(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
