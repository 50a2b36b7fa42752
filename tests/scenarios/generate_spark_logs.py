"""Generate real Spark event logs, in every codec Spark writes, as test fixtures.

Usage: ``python tests/scenarios/generate_spark_logs.py [OUTDIR]`` (default ``tests/data/generated``).

Each variant runs in its own Python process (a fresh SparkContext, so its own event-log
settings and app id) with pyspark in ``local[2]`` mode. The "killed" variants are SIGKILLed
(their whole process group: Python driver, JVM, Python workers) while a long stage runs,
which leaves ``.inprogress`` logs exactly as a crashed or still-running app does.
Writes ``OUTDIR/<variant>/...``, ``OUTDIR/MANIFEST.json`` and ``OUTDIR/README.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from spark_conf import base_conf, child_env, start_session

APP_PREFIX = "deanalyze-gen-"
KILL_AFTER_SECONDS = 4.0  # after the long stage starts: lets its start events reach the disk
CHILD_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Variant:
    """One Spark run: how its event log is written and whether it is killed mid-run."""

    name: str
    codec: str | None  # spark.eventLog.compression.codec, None = uncompressed
    rolling: bool
    killed: bool = False

    @property
    def app_name(self) -> str:
        return APP_PREFIX + self.name


VARIANTS = [
    Variant("plain", None, rolling=False),
    Variant("zstd", "zstd", rolling=False),
    Variant("lz4", "lz4", rolling=False),
    Variant("snappy", "snappy", rolling=False),
    Variant("lzf", "lzf", rolling=False),
    Variant("rolling-zstd", "zstd", rolling=True),
    Variant("rolling-plain", None, rolling=True),
    Variant("killed-plain", None, rolling=False, killed=True),
    Variant("killed-zstd", "zstd", rolling=False, killed=True),
    Variant("killed-lz4", "lz4", rolling=False, killed=True),
    Variant("killed-rolling-zstd", "zstd", rolling=True, killed=True),
]


def spark_conf(variant: Variant, log_dir: Path, scratch: Path) -> dict[str, str]:
    """Small, quiet local Spark whose event log follows the variant."""
    return base_conf(variant.app_name, "local[2]", log_dir, scratch, codec=variant.codec,
                     rolling=variant.rolling) | {
        "spark.driver.memory": "512m",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.autoBroadcastJoinThreshold": "-1",  # force a shuffle (sort-merge) join
        "spark.eventLog.rolling.maxFileSize": "10m",  # Spark's minimum
    }


def run_job(spark, scratch: Path) -> None:
    """A few stages with shuffles (groupBy, sort-merge join) and SQL over partitioned parquet."""
    from pyspark.sql import functions as F

    facts = spark.range(0, 120_000, numPartitions=6).select(
        F.col("id"),
        (F.col("id") % 40).alias("key"),
        (F.col("id") % 3).alias("part"),
        (F.col("id") * 7 % 1000).alias("amount"),
    )
    dims = spark.range(0, 40, numPartitions=2).select(
        F.col("id").alias("key"), F.concat(F.lit("k"), F.col("id")).alias("label")
    )
    totals = facts.groupBy("key").agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
    totals.join(dims, "key").orderBy(F.desc("total")).limit(5).collect()

    table = scratch / "sales"
    facts.write.partitionBy("part").parquet(str(table))
    spark.read.parquet(str(table)).createOrReplaceTempView("sales")
    spark.sql(
        "SELECT part, count(*) AS n, sum(amount) AS total FROM sales"
        " WHERE part >= 1 GROUP BY part ORDER BY part"
    ).collect()


def run_long_stage(spark) -> None:
    """A stage whose tasks sleep far longer than the parent waits before killing us."""
    sc = spark.sparkContext
    sc.setJobDescription("long stage (killed)")
    sc.parallelize(range(4), 4).map(lambda x: time.sleep(600) or x).count()


def child(variant_name: str, log_dir: str) -> None:
    """Runs inside the subprocess: one SparkSession, one event log."""
    variant = next(v for v in VARIANTS if v.name == variant_name)
    with tempfile.TemporaryDirectory(prefix="deanalyze-gen-") as tmp:
        scratch = Path(tmp)
        spark = start_session(spark_conf(variant, Path(log_dir), scratch))
        run_job(spark, scratch)
        if variant.killed:
            print("LONG_STAGE", flush=True)
            run_long_stage(spark)
        spark.stop()


def run_variant(variant: Variant, dest: Path) -> None:
    """Start the child; for killed variants SIGKILL its process group once the long stage runs."""
    dest.mkdir(parents=True)
    env = child_env()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", variant.name, str(dest)]
    with open(dest.parent / f".{variant.name}.stderr", "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True)
        try:
            if variant.killed:
                _kill_during_long_stage(proc)
            elif proc.wait(CHILD_TIMEOUT_SECONDS) != 0:
                raise RuntimeError(f"{variant.name}: child failed, see {err.name}")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    (dest.parent / f".{variant.name}.stderr").unlink()
    for crc in dest.rglob(".*.crc"):  # Hadoop's local-FS checksum side files: not event logs
        crc.unlink()


def _kill_during_long_stage(proc: subprocess.Popen) -> None:
    """Wait for the child's LONG_STAGE line, give events time to flush, then SIGKILL its group."""
    line = proc.stdout.readline()
    if b"LONG_STAGE" not in line:
        raise RuntimeError(f"child exited before the long stage: {line!r}")
    time.sleep(KILL_AFTER_SECONDS)
    os.killpg(proc.pid, signal.SIGKILL)  # the group we created: driver, JVM, python workers
    proc.wait()


def manifest_entries(variant: Variant, dest: Path, outdir: Path) -> list[dict]:
    """One entry per event-log file the variant left (rolling: the events_N files)."""
    entries = []
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and not p.name.startswith(".")):
        is_status = path.name.startswith("appstatus_")
        entries.append(
            {
                "path": path.relative_to(outdir).as_posix(),
                "variant": variant.name,
                "kind": "appstatus" if is_status else "events",
                "codec": None if is_status else variant.codec,
                "rolling": variant.rolling,
                "complete": not variant.killed,
                "app_name": variant.app_name,
                "size": path.stat().st_size,
            }
        )
    return entries


README = """# Generated Spark event logs

Real event logs written by Apache Spark {spark} (pyspark {spark}, `local[2]`, Java {java}) for the
codec/connector tests. Regenerate with:

    python tests/scenarios/generate_spark_logs.py tests/data/generated

Each folder is one run (`spark.app.name` = `deanalyze-gen-<folder>`) of the same small job
(`run_job` in `tests/scenarios/generate_spark_logs.py`: a groupBy + sort-merge join with shuffles, a
partitioned parquet write and one SQL query over it):

- `plain`, `zstd`, `lz4`, `snappy`, `lzf`: single-file logs (`spark.eventLog.compress` and
  `spark.eventLog.compression.codec`, rolling off), complete.
- `rolling-zstd`, `rolling-plain`: `spark.eventLog.rolling.enabled=true` with the minimum
  `maxFileSize=10m`, so the small job fits in one `events_1_*` file (plus `appstatus_*`).
- `killed-*`: the same job followed by a long stage, during which the driver, JVM and Python
  workers were SIGKILLed: `.inprogress` single files, or a rolling folder whose
  `appstatus_*.inprogress` was never renamed. Spark flushes on every job start and zstd closes
  a frame on every flush, so the plain and zstd ones usually end cleanly after the long job's
  `SparkListenerJobStart`; Spark's lz4 stream does not sync-flush, so `killed-lz4` ends at a
  32 KiB block boundary, mid-line and without lz4-java's end-of-stream block.

`MANIFEST.json` lists every file (`path` relative to this folder, `kind` events/appstatus,
`codec`, `rolling`, `complete`, `app_name`, `size`).

The files contain only synthetic data produced by this project's own script (no third-party
content) and are distributed as project test fixtures under the project's license; they are
compatible with Apache-2.0.
"""


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    outdir = Path(argv[0] if argv else "tests/data/generated")
    outdir.mkdir(parents=True, exist_ok=True)
    entries = []
    for variant in VARIANTS:
        dest = outdir / variant.name
        shutil.rmtree(dest, ignore_errors=True)
        started = time.monotonic()
        run_variant(variant, dest)
        entries += manifest_entries(variant, dest, outdir)
        print(f"{variant.name}: {time.monotonic() - started:.1f}s", flush=True)
    (outdir / "MANIFEST.json").write_text(json.dumps({"logs": entries}, indent=2) + "\n")
    (outdir / "README.md").write_text(README.format(spark=_spark_version(), java=_java_version()))
    return 0


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__


def _java_version() -> str:
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    return out.split('"')[1] if '"' in out else "unknown"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
