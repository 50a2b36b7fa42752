"""Real Spark runs that plant (or avoid) the SQL-plan problems the plan rules look for.

Usage: ``python tests/scenarios/sql_jobs.py [OUTDIR] [SCENARIO ...]`` (default OUTDIR
``tests/data/scenarios/sql``; default: every scenario).

Each scenario runs in its own Python process (a fresh SparkContext, so its own app id and
event log) with pyspark in ``local[2]`` mode, an uncompressed single-file event log, and
tables in a throw-away temp directory. It leaves ``OUTDIR/<scenario>/<app id>``.

Scenarios and what the plan rules should say about them:

- ``full-scan``: a table partitioned by ``dt`` (30 days) read with a filter on another
  column only: ``spark.full-scan``.
- ``partition-pruned``: the same table read with ``dt = ...``: no ``spark.full-scan``.
- ``small-files``: a partitioned write that leaves 240 tiny files, then a read of 200 of
  them: ``spark.small-files`` on the write and on the read.
- ``cross-join``: a 2,000 x 2,000 band join without broadcast (``CartesianProduct``) and a
  2,000 x 2,000 cross join with broadcast (``BroadcastNestedLoopJoin``): ``spark.cartesian-join``.
- ``broadcast``: a hash join whose build side is a few hundred MiB, made possible by raising
  ``spark.sql.autoBroadcastJoinThreshold``: ``spark.large-broadcast``.
- ``healthy-sql``: an equi-join with a small dimension and an aggregation over a partitioned
  table, pruned to a week: nothing of medium severity or higher.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spark_conf import base_conf, child_env, start_session

APP_PREFIX = "deanalyze-sql-"
CHILD_TIMEOUT_SECONDS = 600
DEFAULT_OUTDIR = Path(__file__).resolve().parent.parent / "data" / "scenarios" / "sql"


# Settings a scenario needs from launch (so that they are in the log's properties, as --conf would be).
SCENARIO_CONF = {
    "broadcast": {"spark.sql.autoBroadcastJoinThreshold": "1g", "spark.driver.memory": "2g"},
}


def spark_conf(name: str, log_dir: Path, scratch: Path) -> dict[str, str]:
    """Small, quiet local Spark writing one plain event log; tables live in ``scratch``."""
    return base_conf(APP_PREFIX + name, "local[2]", log_dir, scratch) | {
        "spark.driver.memory": "3g",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        **SCENARIO_CONF.get(name, {}),
    }


def day_string(offset: Any) -> Any:
    """``'2024-01-01'`` plus ``offset`` days, as the string a ``dt`` partition column usually is."""
    from pyspark.sql import functions as F

    return F.date_format(F.date_add(F.lit("2024-01-01"), offset.cast("int")), "yyyy-MM-dd")


def write_sales(spark: Any, days: int = 30, rows_per_day: int = 20_000) -> None:
    """The ``sales`` table, partitioned by ``dt`` (one file per day, a few hundred KiB each)."""
    from pyspark.sql import functions as F

    rows = days * rows_per_day
    (spark.range(0, rows, numPartitions=4)
     .select(
         F.col("id"),
         (F.col("id") * 7919 % 5000).alias("customer_id"),
         (F.col("id") * 31 % 100_000 / 100).alias("amount"),
         F.element_at(F.array(*[F.lit(c) for c in ("books", "games", "music", "tools")]),
                      (F.col("id") % 4 + 1).cast("int")).alias("category"),
         day_string(F.col("id") % days).alias("dt"),
     )
     .repartition("dt")
     .write.partitionBy("dt").format("parquet").saveAsTable("sales"))


def full_scan(spark: Any, scratch: Path) -> None:
    """Every day of ``sales`` is read because the only filter is on ``amount``."""
    write_sales(spark)
    spark.sparkContext.setJobDescription("daily totals of big sales (no dt filter)")
    spark.sql("SELECT dt, count(*) AS n, sum(amount) AS total FROM sales "
              "WHERE amount > 990 GROUP BY dt ORDER BY dt").collect()


def partition_pruned(spark: Any, scratch: Path) -> None:
    """One day of ``sales``: ``PartitionFilters`` carries the ``dt`` predicate."""
    write_sales(spark)
    spark.sparkContext.setJobDescription("one day of big sales")
    spark.sql("SELECT category, count(*) AS n, sum(amount) AS total FROM sales "
              "WHERE dt = '2024-01-15' AND amount > 990 GROUP BY category").collect()


def small_files(spark: Any, scratch: Path) -> None:
    """4 tasks x 60 keys = 240 files of a few KiB; then a read of 50 keys = 200 files."""
    from pyspark.sql import functions as F

    path = str(scratch / "events")
    (spark.range(0, 48_000, numPartitions=4)
     .select(F.col("id"), (F.col("id") % 60).alias("k"), (F.col("id") * 17 % 1000).alias("v"))
     .write.partitionBy("k").parquet(path))
    spark.sparkContext.setJobDescription("sum over small files")
    spark.read.parquet(path).where("k < 50").groupBy("k").agg(F.sum("v")).collect()


def cross_join(spark: Any, scratch: Path) -> None:
    """A band join with no equality (CartesianProduct) and a plain cross join (BNLJ)."""
    from pyspark.sql import functions as F

    left = spark.range(0, 2000, numPartitions=2).select(
        F.col("id").alias("a_id"), (F.col("id") * 7 % 1000).alias("a_v"))
    right = spark.range(0, 2000, numPartitions=2).select(
        F.col("id").alias("b_id"), (F.col("id") * 13 % 1000).alias("b_v"))
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    spark.sparkContext.setJobDescription("band join without equality")
    left.join(right, F.abs(F.col("a_v") - F.col("b_v")) <= 2).agg(F.count("*")).collect()
    spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
    spark.sparkContext.setJobDescription("cross join with broadcast")
    left.crossJoin(right).agg(F.sum(F.col("a_v") * F.col("b_v"))).collect()


def broadcast(spark: Any, scratch: Path) -> None:
    """``--conf spark.sql.autoBroadcastJoinThreshold=1g`` lets a 6M-row dimension be broadcast.

    The fact side is estimated larger (more rows, same width), so the dimension is the build side.
    """
    from pyspark.sql import functions as F

    dim = spark.range(0, 6_000_000, numPartitions=2).select(
        F.col("id").alias("key"), (F.col("id") * 3).alias("weight"),
        F.concat(F.lit("name-"), F.col("id")).alias("name"))
    facts = spark.range(0, 8_000_000, numPartitions=2).select(
        (F.col("id") * 13 % 6_000_000).alias("key"), F.col("id").alias("amount"),
        F.concat(F.lit("order-"), F.col("id")).alias("order_ref"))
    spark.sparkContext.setJobDescription("join facts with a huge broadcast dimension")
    facts.join(dim, "key").agg(F.count("*"), F.sum("weight"), F.max("name"), F.max("order_ref")).collect()


def healthy_sql(spark: Any, scratch: Path) -> None:
    """Orders pruned to one week, joined on ``customer_id`` with a small dimension."""
    from pyspark.sql import functions as F

    days, rows = 20, 1_000_000
    (spark.range(0, rows, numPartitions=4)
     .select(
         F.col("id").alias("order_id"),
         (F.col("id") * 7919 % 1000).alias("customer_id"),
         (F.col("id") * 31 % 100_000 / 100).alias("amount"),
         day_string(F.col("id") % days).alias("dt"),
     )
     .repartition("dt").write.partitionBy("dt").format("parquet").saveAsTable("orders"))
    (spark.range(0, 1000, numPartitions=1)
     .select(F.col("id").alias("customer_id"),
             F.element_at(F.array(F.lit("retail"), F.lit("smb"), F.lit("enterprise")),
                          (F.col("id") % 3 + 1).cast("int")).alias("segment"))
     .write.format("parquet").saveAsTable("customers"))
    spark.sparkContext.setJobDescription("revenue by segment for one week")
    spark.sql("SELECT c.segment, count(*) AS n, sum(o.amount) AS revenue "
              "FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
              "WHERE o.dt BETWEEN '2024-01-10' AND '2024-01-16' "
              "GROUP BY c.segment ORDER BY revenue DESC").collect()


SCENARIOS: dict[str, Callable[[Any, Path], None]] = {
    "full-scan": full_scan,
    "partition-pruned": partition_pruned,
    "small-files": small_files,
    "cross-join": cross_join,
    "broadcast": broadcast,
    "healthy-sql": healthy_sql,
}


def child(name: str, log_dir: str) -> None:
    """Runs inside the subprocess: one SparkSession, one event log."""
    with tempfile.TemporaryDirectory(prefix="deanalyze-sql-") as tmp:
        scratch = Path(tmp)
        spark = start_session(spark_conf(name, Path(log_dir), scratch))
        SCENARIOS[name](spark, scratch)
        spark.stop()


def run_scenario(name: str, dest: Path) -> None:
    """Run one scenario in a child process and leave its event log (only) in ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    env = child_env()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, str(dest)]
    result = subprocess.run(cmd, env=env, capture_output=True, timeout=CHILD_TIMEOUT_SECONDS)
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace")[-4000:])
        raise RuntimeError(f"scenario {name} failed (exit {result.returncode})")
    for crc in dest.rglob(".*.crc"):  # Hadoop's local-FS checksum side files: not event logs
        crc.unlink()


README = """# SQL-plan scenarios: real Spark {spark} event logs

Written by Apache Spark {spark} (pyspark {spark}, Java {java}, `local[2]`, uncompressed single-file
logs, `spark.ui.enabled=false`) from synthetic data, by this project's script. Regenerate with:

    python tests/scenarios/sql_jobs.py tests/data/scenarios/sql

Each folder holds the log of one run (`spark.app.name` = `deanalyze-sql-<folder>`); the function of
the same name in `tests/scenarios/sql_jobs.py` is what ran. Tables lived in a temporary directory.

| folder | what ran | what the plan rules say (tests/rules/test_rules_sql.py) |
|---|---|---|
| `full-scan` | `sales` (parquet, partitioned by `dt`, 30 days) written, then read with `WHERE amount > 990` only | `spark.full-scan` (PartitionFilters `[]`, 30 partitions read) |
| `partition-pruned` | the same table read with `WHERE dt = '2024-01-15'` | no `spark.full-scan` (1 partition read) |
| `small-files` | 4 tasks x 60 keys written with `partitionBy("k")` = 240 files of ~2 KiB; 200 of them read back | `spark.small-files` on the write and on the read |
| `cross-join` | 2,000 x 2,000 band join `abs(a_v - b_v) <= 2` without broadcast (`CartesianProduct`); 2,000 x 2,000 `crossJoin` with broadcast (`BroadcastNestedLoopJoin`) | `spark.cartesian-join` on both |
| `broadcast` | `--conf spark.sql.autoBroadcastJoinThreshold=1g`, 2 GiB driver: a 6M-row dimension broadcast (~558 MiB hashed relation) | `spark.large-broadcast` (medium with default thresholds) |
| `healthy-sql` | `orders` (20 days) pruned to a week, equi-joined to a 1,000-row `customers`, aggregated | nothing of medium severity or higher |

The rules' default thresholds are production values; the tests lower them through
`rules.config.parse_config` where these small logs are too small to reach them.
The files contain only synthetic data and are distributed under the project's license.
"""  # noqa: E501  (Markdown table rows)


def write_readme(outdir: Path) -> None:
    """Describe the logs next to them, with the versions that wrote them."""
    import pyspark

    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    java = out.split('"')[1] if '"' in out else "unknown"
    (outdir / "README.md").write_text(README.format(spark=pyspark.__version__, java=java))


def main(argv: list[str]) -> int:
    """Run the named scenarios (default: all) into OUTDIR."""
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    outdir = Path(argv[0]) if argv else DEFAULT_OUTDIR
    names = argv[1:] or list(SCENARIOS)
    for name in names:
        started = time.monotonic()
        run_scenario(name, outdir / name)
        size = sum(p.stat().st_size for p in (outdir / name).iterdir())
        print(f"{name}: {time.monotonic() - started:.1f}s, {size / 1024:,.0f} KiB", flush=True)
    write_readme(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
