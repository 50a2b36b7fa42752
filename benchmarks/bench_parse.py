"""Speed and memory benchmark of ``deanalyze spark-logs FILE --format json``.

Usage::

    python benchmarks/bench_parse.py                               # benchmarks/.data/big-eventlog
    python benchmarks/bench_parse.py --log benchmarks/.data/big-eventlog-1g --runs 5
    python benchmarks/bench_parse.py --break-even                  # one vs two processes by log size

Prints one compact table:

* file size, the machine's CPU count (and how many this process may use) and load;
* best-of-N time of a plain ``for line in open(path, 'rb'): orjson.loads(line)`` loop, and of
  a loop that only iterates the lines (the floor of any line-by-line reader);
* best-of-N wall time of the whole ``deanalyze spark-logs FILE --format json`` process
  (interpreter start, imports, reading, rules, rendering) with the default read (a big plain
  log is decoded by two processes, unless the load average says every CPU is busy) and with
  one process (``DEANALYZE_SPLIT_MIN_BYTES`` set huge), each with its ratio to the orjson
  loop (target >= 2.0);
* the peak RSS of the deanalyze process, read exactly per child with ``os.wait4`` (the same
  figure ``/usr/bin/time -v`` prints); with two processes it is the larger of the two, the
  worker being a fork that holds only compact batches;
* where the time goes, measured in a child: interpreter start and imports, and the read alone
  (``read_application``) in one and in two processes; the rest is rules, prices and rendering;
* the tasks, stages and jobs deanalyze reported (from one JSON report), as a sanity check.

Rounds interleave the measurements (orjson, two processes, one process) so that a change of
machine load hits all of them alike; all runs read the file from the page cache. The load
average is printed too: other processes make timings noisy, best-of-N only partly helps.
Exits non-zero only on errors (deanalyze failing, missing file), never on a missed target.
"""

from __future__ import annotations

import argparse
import json
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
ONE_PROCESS = {"DEANALYZE_SPLIT_MIN_BYTES": str(1 << 62)}
BREAK_EVEN_MB = (4, 8, 16, 32, 48, 64, 128)
CPU_SECONDS: list[float] = []  # of every child run, in order

PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import analyzer.cli  # noqa: F401  (what the command imports before it reads)
t1 = time.perf_counter()
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.reader import read_application
try:
    from connectors.spark_eventlog import split
    split._busy = lambda: False  # measure the two-process read even on a loaded machine
except ImportError:  # a deanalyze from before the split read (PYTHONPATH=old tree)
    split = None
path, runs = sys.argv[1], int(sys.argv[2])
source = LogSource(display=path, files=(path,))
best = {}
for name, threshold in (("two", 1), ("one", 1 << 62)):
    if split is not None:
        split.SPLIT_MIN_BYTES = threshold
    times = []
    for _ in range(runs):
        t = time.perf_counter(); read_application(source); times.append(time.perf_counter() - t)
    best[name] = min(times)
print(json.dumps({"imports_s": t1 - t0, "read_two_s": best["two"], "read_one_s": best["one"]}))
"""


def orjson_loop(path: Path) -> float:
    """The reference: decode every line with orjson, keep nothing."""
    loads = orjson.loads
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for line in fh:
            loads(line)
    return time.perf_counter() - t0


def lines_loop(path: Path) -> float:
    """Only iterate the lines: what any line-by-line reader pays before decoding anything."""
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for _ in fh:
            pass
    return time.perf_counter() - t0


def run_child(cmd: list[str], stdout: int | None = subprocess.DEVNULL,
              env: dict[str, str] | None = None) -> tuple[float, float, int, bytes]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB, exit status, stderr).

    The CPU seconds (user + system, the split worker included) go to ``CPU_SECONDS``.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE,
                            env={**os.environ, **env} if env else None)
    assert proc.stderr is not None
    err = proc.stderr.read()  # stderr is small; reading it keeps the child from blocking
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, err  # ru_maxrss is in KiB on Linux


def default_executable() -> str:
    """The console script installed with this interpreter, not a wrapper such as a pyenv shim."""
    beside = Path(sys.executable).parent / "deanalyze"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("deanalyze") or "deanalyze"


def compile_package() -> None:
    """Byte-compile deanalyze's modules, as ``pip install`` does for a wheel.

    Why: an editable install, or a shell with ``PYTHONDONTWRITEBYTECODE`` set (this machine's),
    never writes ``__pycache__``, so every run would compile ~150 modules from source (about
    70 ms) that no installed copy compiles. Stale or missing byte-code only; sources untouched.
    """
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("analyzer", "connectors", "rules", "reports"):
        compileall.compile_dir(str(root / package), quiet=2)


def warm_cache(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(8 * MB):
            pass


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def phases(path: Path, runs: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PHASES, str(path), str(runs)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def break_even(path: Path, runs: int) -> int:
    """Read time in one and in two processes for prefixes of ``path`` (whole lines)."""
    cut_dir = HERE / ".data" / "cuts"
    cut_dir.mkdir(parents=True, exist_ok=True)
    print("| size | one process (best) | two processes (best) | two / one |")
    print("|---|---|---|---|")
    with open(path, "rb") as fh:
        for mb in BREAK_EVEN_MB:
            data = fh.read(mb * MB) if fh.seek(0) == 0 else b""
            cut = cut_dir / f"cut-{mb}"
            cut.write_bytes(data[: data.rfind(b"\n") + 1])
            got = phases(cut, runs)
            print(f"| {mb} MB | {got['read_one_s'] * 1000:.0f} ms | {got['read_two_s'] * 1000:.0f} ms "
                  f"| {got['read_two_s'] / got['read_one_s']:.2f} |")
    return 0


def check_report(cmd: list[str]) -> dict | None:
    """Sanity run (untimed): the report goes to a file we read back once."""
    REPORT_OUT.parent.mkdir(parents=True, exist_ok=True)
    _, _, rc, err = run_child(cmd + ["-o", str(REPORT_OUT)])
    if rc != 0:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
        print(f"bench_parse: deanalyze exited {rc}", file=sys.stderr)
        return None
    doc: dict = orjson.loads(REPORT_OUT.read_bytes())
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark `deanalyze spark-logs FILE --format json`.")
    ap.add_argument("--log", type=Path, default=DEFAULT_LOG, help=f"event log file (default {DEFAULT_LOG})")
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the best time is kept (default 3)")
    ap.add_argument("--deanalyze", default=default_executable(),
                    help="the deanalyze executable (default: the console script next to this "
                         "Python, which skips a pyenv shim's ~0.1 s; else the one on PATH)")
    ap.add_argument("--skip-orjson", action="store_true", help="skip the orjson reference loop")
    ap.add_argument("--break-even", action="store_true",
                    help="only time the read of prefixes of the log in one and two processes")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = ap.parse_args(argv)

    path: Path = args.log
    if not path.is_file():
        print(f"bench_parse: {path} does not exist (run benchmarks/make_big_log.py first)", file=sys.stderr)
        return 2
    warm_cache(path)
    compile_package()
    if args.break_even:
        return break_even(path, args.runs)
    size_mb = path.stat().st_size / MB
    cmd = [args.deanalyze, "spark-logs", str(path), "--format", "json", "--no-progress"]
    doc = check_report(cmd)
    if doc is None:
        return 1

    times: dict[str, list[float]] = {"orjson": [], "lines": [], "two": [], "one": []}
    rss: dict[str, list[float]] = {"two": [], "one": []}
    cpu: dict[str, list[float]] = {"two": [], "one": []}
    for _ in range(args.runs):
        if not args.skip_orjson:
            times["orjson"].append(orjson_loop(path))
            times["lines"].append(lines_loop(path))
        for name, env in (("two", None), ("one", ONE_PROCESS)):
            wall, peak, rc, err = run_child(cmd, env=env)
            if rc != 0:
                sys.stderr.write(err.decode(errors="replace")[-4000:])
                print(f"bench_parse: deanalyze exited {rc}", file=sys.stderr)
                return 1
            times[name].append(wall)
            rss[name].append(peak)
            cpu[name].append(CPU_SECONDS[-1])
    split = phases(path, args.runs)
    rows = table(args, path, size_mb, doc, times, rss, split, cpu)
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    print("| " + "metric".ljust(w1) + " | " + "value".ljust(w2) + " | note")
    print("|-" + "-" * w1 + "-|-" + "-" * w2 + "-|-----")
    for name, value, note in rows:
        print("| " + name.ljust(w1) + " | " + value.ljust(w2) + " | " + note)
    if args.json:
        args.json.write_bytes(orjson.dumps({
            "log": str(path), "size_mb": size_mb, "times_s": times, "peak_rss_mb": rss, "phases_s": split,
            "cpu_s": cpu,
            "cpus": os.cpu_count(), "usable_cpus": usable_cpus(), "load_average": os.getloadavg(),
        }, option=orjson.OPT_INDENT_2))
    return 0


def table(args: argparse.Namespace, path: Path, size_mb: float, doc: dict, times: dict[str, list[float]],
          rss: dict[str, list[float]], split: dict[str, float],
          cpu: dict[str, list[float]]) -> list[tuple[str, str, str]]:
    apps = doc.get("applications", [])
    tasks = sum(a["integrity"]["task_end_events"] for a in apps)
    expected = sum(a["integrity"]["tasks_expected"] or 0 for a in apps)
    events = sum(a["integrity"]["events_read"] for a in apps)
    unparsed = sum(a["integrity"]["unparsed_lines"] for a in apps)
    stages = sum(len(a["stages"]) for a in apps)
    best = {k: min(v) for k, v in times.items() if v}
    orjson_s = best.get("orjson")

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    def run(name: str, label: str) -> list[tuple[str, str, str]]:
        wall = best[name]
        ratio = orjson_s / wall if orjson_s else None
        return [
            (f"deanalyze wall, {label}", f"{wall:.2f} s  ({size_mb / wall:,.0f} MB/s)",
             "runs: " + " ".join(f"{w:.2f}" for w in times[name])),
            (f"  ratio orjson/deanalyze, {label}", f"{ratio:.2f}" if ratio else "n/a",
             f"target >= {RATIO_TARGET:.1f}: {mark(ratio >= RATIO_TARGET)}" if ratio else ""),
            (f"  CPU (user+sys), {label}", f"{min(cpu[name]):.2f} s", "all processes; steadier under load"),
            (f"  peak RSS, {label}", f"{max(rss[name]):,.0f} MB",
             f"target < {RSS_TARGET_MB:.0f} MB (for a 1 GB log): {mark(max(rss[name]) < RSS_TARGET_MB)}"),
        ]

    rest = best["two"] - split["read_two_s"]
    return [
        ("log", str(path), args.deanalyze),
        ("size", f"{size_mb:,.1f} MB", ""),
        ("CPUs", f"{os.cpu_count()} ({usable_cpus()} usable)",
         "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())),
        (f"orjson loop (best of {len(times['orjson'])})",
         f"{orjson_s:.2f} s  ({size_mb / orjson_s:,.0f} MB/s)" if orjson_s else "skipped", ""),
        ("line iteration only", f"{best['lines']:.2f} s" if "lines" in best else "skipped", ""),
        *run("two", "2 processes"),
        *run("one", "1 process"),
        ("where the time goes (2 processes)",
         f"read {split['read_two_s']:.2f} s, rest {rest:.2f} s (CLI imports {split['imports_s']:.2f} s)",
         f"read in 1 process: {split['read_one_s']:.2f} s; rest = start, rules, prices, output"),
        ("reported tasks", f"{tasks:,}", f"expected {expected:,}; events {events:,}; unparsed {unparsed}"),
        ("reported stages", f"{stages:,}", f"jobs {sum(len(a['jobs']) for a in apps):,}"),
    ]


if __name__ == "__main__":
    sys.exit(main())
