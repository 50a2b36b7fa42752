"""Speed and memory benchmark of ``deanalyze spark-logs FILE --format json``.

Usage::

    python benchmarks/bench_parse.py                               # benchmarks/.data/big-eventlog
    python benchmarks/bench_parse.py --log benchmarks/.data/big-eventlog-1g --runs 3

Prints one compact table:

* file size;
* best-of-N time of a plain ``for line in open(path, 'rb'): orjson.loads(line)`` loop;
* best-of-N wall time of the whole ``deanalyze spark-logs FILE --format json`` process
  (interpreter start, imports, parsing, rules, rendering) and its MB/s;
* the ratio orjson-loop time / deanalyze time (target >= 2.0);
* the peak RSS of the deanalyze process (target < 300 MB for a 1 GB log), read exactly
  per child with ``os.wait4`` (the same figure ``/usr/bin/time -v`` prints);
* the tasks, stages and jobs deanalyze reported (from one JSON report), as a sanity check.

The timed runs write the report to stdout, which is connected to ``/dev/null`` (``-o`` to a
device is written in place too). The report for the sanity check goes to
``benchmarks/.data/bench-report.json``.

All runs read the file from the page cache (one untimed read first). The machine's load
average is printed too: other processes make timings noisy, best-of-N only partly helps.
Exits non-zero only on errors (deanalyze failing, missing file), never on a missed target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
DEFAULT_LOG = HERE / ".data" / "big-eventlog"
REPORT_OUT = HERE / ".data" / "bench-report.json"
MB = 1024 * 1024
RATIO_TARGET = 2.0
RSS_TARGET_MB = 300.0


def orjson_loop(path: Path) -> float:
    """The reference: decode every line with orjson, keep nothing."""
    loads = orjson.loads
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for line in fh:
            loads(line)
    return time.perf_counter() - t0


def run_child(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, int, bytes]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB, exit status, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()  # stderr is small; reading it keeps the child from blocking
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, err  # ru_maxrss is in KiB on Linux


def default_executable() -> str:
    """The console script installed with this interpreter, not a wrapper such as a pyenv shim."""
    beside = Path(sys.executable).parent / "deanalyze"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("deanalyze") or "deanalyze"


def warm_cache(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(8 * MB):
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark `deanalyze spark-logs FILE --format json`.")
    ap.add_argument("--log", type=Path, default=DEFAULT_LOG, help=f"event log file (default {DEFAULT_LOG})")
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the best time is kept (default 3)")
    ap.add_argument("--deanalyze", default=default_executable(),
                    help="the deanalyze executable (default: the console script next to this "
                         "Python, which skips a pyenv shim's ~0.1 s; else the one on PATH)")
    ap.add_argument("--skip-orjson", action="store_true", help="skip the orjson reference loop")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = ap.parse_args(argv)

    path: Path = args.log
    if not path.is_file():
        print(f"bench_parse: {path} does not exist (run benchmarks/make_big_log.py first)", file=sys.stderr)
        return 2
    size_mb = path.stat().st_size / MB
    cmd = [args.deanalyze, "spark-logs", str(path), "--format", "json", "--no-progress"]
    warm_cache(path)

    # Sanity run (untimed): the report goes to a file we read back once.
    REPORT_OUT.parent.mkdir(parents=True, exist_ok=True)
    _, _, rc, err = run_child(cmd + ["-o", str(REPORT_OUT)])
    if rc != 0:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
        print(f"bench_parse: deanalyze exited {rc}", file=sys.stderr)
        return 1
    doc = orjson.loads(REPORT_OUT.read_bytes())
    apps = doc.get("applications", [])
    tasks = sum(a["integrity"]["task_end_events"] for a in apps)
    tasks_expected = sum(a["integrity"]["tasks_expected"] or 0 for a in apps)
    stages = sum(len(a["stages"]) for a in apps)
    stages_done = sum(1 for a in apps for s in a["stages"] if s["status"] == "COMPLETE")
    jobs = sum(len(a["jobs"]) for a in apps)
    events = sum(a["integrity"]["events_read"] for a in apps)
    unparsed = sum(a["integrity"]["unparsed_lines"] for a in apps)

    orjson_times: list[float] = []
    if not args.skip_orjson:
        for _ in range(args.runs):
            orjson_times.append(orjson_loop(path))
    walls: list[float] = []
    rss: list[float] = []
    for _ in range(args.runs):
        wall, peak, rc, err = run_child(cmd)
        if rc != 0:
            sys.stderr.write(err.decode(errors="replace")[-4000:])
            print(f"bench_parse: deanalyze exited {rc}", file=sys.stderr)
            return 1
        walls.append(wall)
        rss.append(peak)

    best_wall = min(walls)
    best_orjson = min(orjson_times) if orjson_times else None
    ratio = best_orjson / best_wall if best_orjson else None
    peak_rss = max(rss)
    load = os.getloadavg()

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    rows = [
        ("log", str(path), args.deanalyze),
        ("size", f"{size_mb:,.1f} MB", ""),
        (f"orjson loop (best of {len(orjson_times)})",
         f"{best_orjson:.2f} s  ({size_mb / best_orjson:,.0f} MB/s)" if best_orjson else "skipped", ""),
        (f"deanalyze wall (best of {len(walls)})", f"{best_wall:.2f} s  ({size_mb / best_wall:,.0f} MB/s)",
         "runs: " + " ".join(f"{w:.2f}" for w in walls)),
        ("ratio orjson/deanalyze", f"{ratio:.2f}" if ratio else "n/a",
         (f"target >= {RATIO_TARGET:.1f}: {mark(ratio >= RATIO_TARGET)}") if ratio else ""),
        ("deanalyze peak RSS (max)", f"{peak_rss:,.0f} MB",
         f"target < {RSS_TARGET_MB:.0f} MB (for a 1 GB log): {mark(peak_rss < RSS_TARGET_MB)}"
         + ("" if size_mb >= 900 else "  [log < 1 GB]")),
        ("reported tasks", f"{tasks:,}",
         f"expected {tasks_expected:,}; events {events:,}; unparsed {unparsed}"),
        ("reported stages", f"{stages:,}", f"{stages_done:,} complete; jobs {jobs:,}"),
        ("load average", " ".join(f"{x:.2f}" for x in load), f"{os.cpu_count()} CPUs"),
    ]
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    print("| " + "metric".ljust(w1) + " | " + "value".ljust(w2) + " | note")
    print("|-" + "-" * w1 + "-|-" + "-" * w2 + "-|-----")
    for name, value, note in rows:
        print("| " + name.ljust(w1) + " | " + value.ljust(w2) + " | " + note)

    if args.json:
        args.json.write_bytes(orjson.dumps({
            "log": str(path), "size_mb": size_mb, "orjson_times_s": orjson_times, "deanalyze_walls_s": walls,
            "deanalyze_peak_rss_mb": rss, "ratio": ratio, "tasks": tasks, "stages": stages, "jobs": jobs,
            "load_average": load,
        }, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
