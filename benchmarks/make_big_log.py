"""Make a large, uncompressed, real Spark event log for benchmarking ``deanalyze``.

Usage::

    python benchmarks/make_big_log.py                       # ~300 MB -> benchmarks/.data/big-eventlog
    python benchmarks/make_big_log.py --size-mb 1024 --out benchmarks/.data/big-eventlog-1g
    python benchmarks/make_big_log.py --force               # rebuild the output (reuses the seed)
    python benchmarks/make_big_log.py --fresh-seed --force  # also re-run Spark

How it works, in two steps:

1. **Seed** (``benchmarks/.data/seed-eventlog``, cached): a real pyspark job in ``local[2]``
   mode with an uncompressed, non-rolling event log. It runs rounds of SQL queries
   (aggregation, sort-merge join with a skewed key, global sort, a small parquet write)
   with ``spark.sql.shuffle.partitions`` in the thousands (AQE on, partition coalescing
   off, so every shuffle really has that many tasks) until it has run ``--tasks`` tasks or
   used ``--budget-s`` seconds, whichever comes first (checked before each query). With
   2000x2000 shuffles a 2-core machine runs only ~30-70 tasks per second (every reducer
   fetches ~1000 shuffle blocks), so a fully real 40,000-task log takes far more than 5
   minutes; the default budget keeps the seed to ~10,000-18,000 real tasks and step 2 does
   the rest. The seed is cached, so only the first run pays for Spark.

2. **Enlarge** (only when the seed is smaller than ``--size-mb``): the seed's body (every
   event between the application header and ``ApplicationEnd``) is repeated, split into
   self-contained segments (one SQL execution with its jobs, stages and tasks, or one job
   outside SQL), with fresh ids and later times in each copy: ``Job ID``, ``Stage ID``,
   ``Stage IDs``, stage ``Parent IDs``, ``Task ID``, ``RDD ID`` and RDD ``Parent IDs``,
   ``executionId``/``rootExecutionId`` and the ``spark.sql.execution.id`` (and root id)
   job properties are shifted by per-copy offsets, and every event time (submission,
   completion, launch, finish, SQL time) by the copy's time offset. Accumulator ids are
   kept: a copy reports the same metric values as the original, so SQL metrics stay
   consistent. Segments are added until the file reaches the target size; the file keeps
   one header (``LogStart`` ... ``ApplicationStart``) and ends with one ``ApplicationEnd``
   (its timestamp moved past the last copy).

The output is written to ``OUT.tmp`` and renamed, and validated while it is written
(unique task, stage and job ids; header and ``ApplicationEnd`` once each).
Only the standard library, orjson and (for the seed) pyspark are used.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
DEFAULT_OUT = DATA / "big-eventlog"
DEFAULT_SEED = DATA / "seed-eventlog"
MB = 1024 * 1024

SQL = b"org.apache.spark.sql.execution.ui."
EV_JOB_START = b"SparkListenerJobStart"
EV_JOB_END = b"SparkListenerJobEnd"
EV_SQL_START = SQL + b"SparkListenerSQLExecutionStart"
EV_SQL_END = SQL + b"SparkListenerSQLExecutionEnd"
EV_APP_START = b"SparkListenerApplicationStart"
EV_APP_END = b"SparkListenerApplicationEnd"
EV_TASK_START = b"SparkListenerTaskStart"
EV_TASK_END = b"SparkListenerTaskEnd"
EV_STAGE_COMPLETED = b"SparkListenerStageCompleted"
PREFIX = b'{"Event":"'


# --------------------------------------------------------------------------------------
# Step 1: the real Spark job (runs in a child process: its own JVM, cleanly stopped)
# --------------------------------------------------------------------------------------
def spark_child(workdir: Path, tasks_target: int, budget_s: float, partitions: int, rows: int) -> None:
    """Run query rounds until ``tasks_target`` tasks ran or ``budget_s`` seconds passed."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    log_dir = workdir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    conf = {
        "spark.master": "local[2]",
        "spark.app.name": "deanalyze-bench-big-log",
        "spark.driver.memory": "2g",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
        "spark.eventLog.dir": log_dir.resolve().as_uri(),
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.default.parallelism": str(partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "false",  # keep thousands of tasks
        "spark.sql.adaptive.skewJoin.enabled": "false",
        "spark.sql.autoBroadcastJoinThreshold": "-1",  # force sort-merge joins (shuffles)
        "spark.local.dir": str(workdir / "local"),
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
    }
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    tracker = sc.statusTracker()

    def tasks_of_group(group: str) -> int:
        n = 0
        for job_id in tracker.getJobIdsForGroup(group):
            job = tracker.getJobInfo(job_id)
            for stage_id in (job.stageIds if job else ()):
                st = tracker.getStageInfo(stage_id)
                if st is not None:
                    n += st.numCompletedTasks + st.numFailedTasks
        return n

    def queries(rnd: int) -> Iterator[tuple[str, Any]]:
        base = spark.range(0, rows, numPartitions=partitions).select(
            F.col("id"),
            (F.col("id") % 1009).alias("k"),
            # a skewed key: half of the rows share key 0
            F.when(F.col("id") % 2 == 0, F.lit(0)).otherwise(F.col("id") % 4099).alias("sk"),
            (F.rand(rnd) * 1000).alias("v"),
        )
        agg = base.groupBy("k").agg(F.count("*").alias("n"), F.sum("v").alias("s"), F.avg("v").alias("a"))
        noop = lambda df: df.write.format("noop").mode("overwrite").save()  # noqa: E731
        # aggregation: map + reduce stage
        yield "aggregate", lambda: noop(agg)
        # skewed sort-merge join of base with an aggregate on the skewed key
        skew = base.groupBy("sk").agg(F.max("v").alias("mx"))
        yield "skewed join", lambda: noop(base.join(skew, "sk"))
        # global sort: sampling job + range-partitioned shuffle
        yield "sort", lambda: noop(base.orderBy("v"))
        # a small parquet write: output metrics, file commit
        target = str(workdir / "warehouse" / f"agg-{rnd}")
        yield "parquet write", lambda: agg.coalesce(8).write.mode("overwrite").parquet(target)

    t0 = time.monotonic()
    done = 0
    rnd = 0
    while done < tasks_target and time.monotonic() - t0 < budget_s:
        rnd += 1
        for name, run in queries(rnd):
            if done >= tasks_target or time.monotonic() - t0 >= budget_s:
                break
            group = f"round-{rnd}-{name.replace(' ', '-')}"
            sc.setJobGroup(group, f"benchmark round {rnd}: {name}")
            run()
            got = tasks_of_group(group)
            done += got
            print(f"[spark] round {rnd} {name}: {got} tasks, {done} total, "
                  f"{time.monotonic() - t0:.0f}s", flush=True)
    spark.stop()


def run_spark_seed(seed: Path, tasks_target: int, budget_s: float, partitions: int, rows: int) -> None:
    """Run ``spark_child`` in a fresh interpreter and move its event log to ``seed``."""
    work = DATA / f"spark-work-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_spark-child", str(work),
           "--tasks", str(tasks_target), "--budget-s", str(budget_s),
           "--partitions", str(partitions), "--rows", str(rows)]
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=sys.stdout, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
        raise SystemExit(f"make_big_log: the Spark job failed (exit {proc.returncode})")
    logs = [p for p in (work / "logs").iterdir() if p.is_file() and not p.name.startswith(".")]
    if len(logs) != 1 or logs[0].name.endswith(".inprogress"):
        raise SystemExit(f"make_big_log: expected one finished event log, found {[p.name for p in logs]}")
    seed.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(logs[0]), seed)
    shutil.rmtree(work, ignore_errors=True)
    print(f"[spark] seed log written in {time.perf_counter() - t0:.1f}s: {seed} "
          f"({seed.stat().st_size / MB:.1f} MB)", flush=True)


# --------------------------------------------------------------------------------------
# Step 2: enlarge by repeating self-contained segments with shifted ids and times
# --------------------------------------------------------------------------------------
def event_name(line: bytes) -> bytes:
    if line.startswith(PREFIX):
        return line[len(PREFIX):line.find(b'"', len(PREFIX))]
    try:
        return str(orjson.loads(line).get("Event", "")).encode()
    except (orjson.JSONDecodeError, AttributeError):
        return b""


class Seed:
    """The seed split into header lines, body segments and the ApplicationEnd line."""

    def __init__(self, path: Path) -> None:
        lines = path.read_bytes().splitlines(keepends=True)
        if lines and not lines[-1].endswith(b"\n"):
            lines[-1] += b"\n"
        names = [event_name(line) for line in lines]
        if names.count(EV_APP_START) != 1 or names.count(EV_APP_END) != 1:
            raise SystemExit(
                "make_big_log: the seed needs exactly one ApplicationStart and one ApplicationEnd"
            )
        first_body = next(i for i, n in enumerate(names) if n in (EV_JOB_START, EV_SQL_START))
        app_end = names.index(EV_APP_END)
        if app_end != len(lines) - 1:
            raise SystemExit("make_big_log: ApplicationEnd is not the last event of the seed")
        self.header = lines[:first_body]
        self.app_end = lines[app_end]
        body = lines[first_body:app_end]
        body_names = names[first_body:app_end]
        # Segments end where no job and no SQL execution is open.
        self.segments: list[list[bytes]] = []
        open_jobs = open_sql = 0
        current: list[bytes] = []
        for line, name in zip(body, body_names, strict=True):
            current.append(line)
            if name == EV_JOB_START:
                open_jobs += 1
            elif name == EV_JOB_END:
                open_jobs -= 1
            elif name == EV_SQL_START:
                open_sql += 1
            elif name == EV_SQL_END:
                open_sql -= 1
            if open_jobs <= 0 and open_sql <= 0:
                self.segments.append(current)
                current = []
                open_jobs = open_sql = 0
        if current:
            self.segments.append(current)
        self.header_bytes = sum(map(len, self.header))
        self.body_bytes = sum(len(line) for seg in self.segments for line in seg)
        # Offsets for one copy: one past every id the seed uses, and its time span.
        text = b"".join(body)
        self.job_span = _max_int(rb'"Job ID":(\d+)', text) + 1
        self.stage_span = max(
            _max_int(rb'"Stage ID":(\d+)', text), _max_list(rb'"Stage IDs":\[([\d,]*)\]', text)
        ) + 1
        self.task_span = _max_int(rb'"Task ID":(\d+)', text) + 1
        self.rdd_span = _max_int(rb'"RDD ID":(\d+)', text) + 1
        self.exec_span = _max_int(rb'"executionId":(\d+)', text) + 1
        times = [int(m) for m in re.findall(
            rb'"(?:Submission Time|Completion Time|Launch Time|Finish Time|time)":(\d{12,})', text)]
        self.t_first, self.t_last = (min(times), max(times)) if times else (0, 0)
        self.time_span = (self.t_last - self.t_first) + 1000
        self.app_end_time = orjson.loads(self.app_end).get("Timestamp") or self.t_last


def _max_int(pattern: bytes, text: bytes) -> int:
    return max((int(m) for m in re.findall(pattern, text)), default=-1)


def _max_list(pattern: bytes, text: bytes) -> int:
    best = -1
    for m in re.findall(pattern, text):
        for part in m.split(b","):
            if part:
                best = max(best, int(part))
    return best


_TASK_FIELDS = re.compile(rb'"(Stage ID|Task ID|Launch Time|Finish Time|Getting Result Time)":(\d+)')
_TIME_KEYS = frozenset({"Submission Time", "Completion Time", "Launch Time", "Finish Time",
                        "Getting Result Time", "time", "Timestamp"})
_EXEC_PROPS = ("spark.sql.execution.id", "spark.sql.execution.root.id")


class Shifter:
    """Shifts the ids and times of one copy of the seed body."""

    def __init__(self, seed: Seed, copy: int) -> None:
        self.job = copy * seed.job_span
        self.stage = copy * seed.stage_span
        self.task = copy * seed.task_span
        self.rdd = copy * seed.rdd_span
        self.exec = copy * seed.exec_span
        self.time = copy * seed.time_span
        offsets = {b"Stage ID": self.stage, b"Task ID": self.task, b"Launch Time": self.time,
                   b"Finish Time": self.time, b"Getting Result Time": self.time}

        def task_sub(m: re.Match[bytes]) -> bytes:
            value = int(m.group(2))
            if value == 0 and m.group(1) in (b"Finish Time", b"Getting Result Time", b"Launch Time"):
                return m.group(0)  # 0 means "not yet", keep it
            return b'"%s":%d' % (m.group(1), value + offsets[m.group(1)])

        self._task_sub = task_sub

    def line(self, line: bytes, name: bytes) -> bytes:
        if name in (EV_TASK_START, EV_TASK_END):  # the bulk of the bytes: a fast regex path
            return _TASK_FIELDS.sub(self._task_sub, line)
        obj = orjson.loads(line)
        self._walk(obj, in_rdd=False)
        return orjson.dumps(obj) + b"\n"

    def _walk(self, obj: Any, in_rdd: bool) -> None:
        if isinstance(obj, list):
            for item in obj:
                if isinstance(item, (dict, list)):
                    self._walk(item, in_rdd)
            return
        if not isinstance(obj, dict):
            return
        for key, value in obj.items():
            if isinstance(value, int) and not isinstance(value, bool):
                if key == "Job ID":
                    obj[key] = value + self.job
                elif key == "Stage ID":
                    obj[key] = value + self.stage
                elif key == "Task ID":
                    obj[key] = value + self.task
                elif key == "RDD ID":
                    obj[key] = value + self.rdd
                elif key in ("executionId", "rootExecutionId") and value >= 0:
                    obj[key] = value + self.exec
                elif key in _TIME_KEYS and value > 0:
                    obj[key] = value + self.time
            elif isinstance(value, list):
                if key == "Stage IDs" or (key == "Parent IDs" and not in_rdd):
                    obj[key] = [v + self.stage for v in value]
                elif key == "Parent IDs" and in_rdd:
                    obj[key] = [v + self.rdd for v in value]
                elif key == "RDD Info":
                    self._walk(value, in_rdd=True)
                elif key != "Accumulables":
                    self._walk(value, in_rdd)
            elif isinstance(value, dict):
                if key == "Properties":
                    for prop in _EXEC_PROPS:
                        v = value.get(prop)
                        if isinstance(v, str) and v.isdigit():
                            value[prop] = str(int(v) + self.exec)
                self._walk(value, in_rdd)


class Validator:
    """Checks the written stream: ids unique, one header, ApplicationEnd last."""

    def __init__(self) -> None:
        self.task_ids: set[int] = set()
        self.stage_ids: set[int] = set()
        self.job_ids: set[int] = set()
        self.tasks = self.stages = self.jobs = self.sql = self.events = 0
        self.app_starts = self.app_ends = 0

    def see(self, line: bytes, name: bytes) -> None:
        self.events += 1
        if name == EV_TASK_END:
            self.tasks += 1
            tid = int(re.search(rb'"Task ID":(\d+)', line).group(1))  # type: ignore[union-attr]
            if tid in self.task_ids:
                raise SystemExit(f"make_big_log: duplicate Task ID {tid}")
            self.task_ids.add(tid)
        elif name == EV_STAGE_COMPLETED:
            self.stages += 1
            sid = int(re.search(rb'"Stage ID":(\d+)', line).group(1))  # type: ignore[union-attr]
            if sid in self.stage_ids:
                raise SystemExit(f"make_big_log: duplicate Stage ID {sid}")
            self.stage_ids.add(sid)
        elif name == EV_JOB_START:
            self.jobs += 1
            jid = int(re.search(rb'"Job ID":(\d+)', line).group(1))  # type: ignore[union-attr]
            if jid in self.job_ids:
                raise SystemExit(f"make_big_log: duplicate Job ID {jid}")
            self.job_ids.add(jid)
        elif name == EV_SQL_START:
            self.sql += 1
        elif name == EV_APP_START:
            self.app_starts += 1
        elif name == EV_APP_END:
            self.app_ends += 1


def enlarge(seed_path: Path, out: Path, target_bytes: int) -> Validator:
    """Write ``out``: the seed's header, body segments cycled until ``target_bytes``, ApplicationEnd."""
    seed = Seed(seed_path)
    print(f"[enlarge] seed: {seed.header_bytes + seed.body_bytes + len(seed.app_end):,} bytes, "
          f"{len(seed.segments)} segments; spans per copy: jobs {seed.job_span}, stages {seed.stage_span}, "
          f"tasks {seed.task_span}, sql {seed.exec_span}, {seed.time_span / 1000:.0f}s", flush=True)
    tmp = out.with_name(out.name + ".tmp")
    check = Validator()
    written = 0
    copy = 0
    last_shift = 0
    with open(tmp, "wb", buffering=8 * MB) as fh:
        for line in seed.header:
            check.see(line, event_name(line))
            fh.write(line)
            written += len(line)
        body_target = target_bytes - len(seed.app_end)
        while written < body_target:
            shifter = Shifter(seed, copy)
            last_shift = shifter.time
            for segment in seed.segments:
                for line in segment:
                    name = event_name(line)
                    new = line if copy == 0 else shifter.line(line, name)
                    check.see(new, name)
                    fh.write(new)
                    written += len(new)
                if written >= body_target:
                    break
            copy += 1
            print(f"[enlarge] copy {copy}: {written / MB:.0f} MB, {check.tasks:,} tasks", flush=True)
        end = orjson.loads(seed.app_end)
        end["Timestamp"] = int(seed.app_end_time) + last_shift
        end_line = orjson.dumps(end) + b"\n"
        check.see(end_line, EV_APP_END)
        fh.write(end_line)
    if check.app_starts != 1 or check.app_ends != 1:
        raise SystemExit("make_big_log: the result does not have exactly one ApplicationStart/End")
    os.replace(tmp, out)
    return check


def validate_file(path: Path) -> Validator:
    check = Validator()
    with open(path, "rb") as fh:
        for line in fh:
            check.see(line, event_name(line))
    return check


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output log (default {DEFAULT_OUT})")
    ap.add_argument("--size-mb", type=float, default=300.0,
                    help="target size in MB (1 MB = 2**20 bytes); reached by repetition when the "
                         "real seed is smaller (default 300)")
    ap.add_argument("--force", action="store_true", help="rebuild the output even if it exists")
    ap.add_argument("--seed", type=Path, default=DEFAULT_SEED,
                    help="the real Spark log to start from; made by running Spark if missing "
                         f"(default {DEFAULT_SEED})")
    ap.add_argument("--fresh-seed", action="store_true", help="re-run the Spark job even if the seed exists")
    ap.add_argument("--tasks", type=int, default=40000,
                    help="tasks the real Spark job aims for (default 40000)")
    ap.add_argument("--budget-s", type=float, default=150.0,
                    help="stop starting new query rounds after this many seconds (default 150)")
    ap.add_argument("--partitions", type=int, default=2000,
                    help="spark.sql.shuffle.partitions and input partitions (default 2000)")
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows per round (default 2,000,000)")
    ap.add_argument("--_spark-child", dest="spark_child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.spark_child:
        spark_child(args.spark_child, args.tasks, args.budget_s, args.partitions, args.rows)
        return 0

    out: Path = args.out
    if out.exists() and not args.force:
        print(f"{out} exists ({out.stat().st_size / MB:.1f} MB); use --force to rebuild it")
        return 0
    t0 = time.perf_counter()
    seed: Path = args.seed
    if args.fresh_seed or not seed.exists():
        run_spark_seed(seed, args.tasks, args.budget_s, args.partitions, args.rows)
    target = int(args.size_mb * MB)
    out.parent.mkdir(parents=True, exist_ok=True)
    if seed.stat().st_size >= target:
        print(f"[copy] the real seed is already >= {args.size_mb:g} MB: copying it as is", flush=True)
        shutil.copyfile(seed, out)
        check = validate_file(out)
    else:
        check = enlarge(seed, out, target)
    size = out.stat().st_size
    print(f"wrote {out}: {size / MB:.1f} MB, {check.events:,} events, {check.tasks:,} tasks, "
          f"{check.stages:,} stages, {check.jobs:,} jobs, {check.sql:,} SQL executions "
          f"in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
