"""A fleet of ~1,000 event logs: apps/s and MB/s of the local engine and of ``--engine spark``.

Usage::

    python benchmarks/bench_fleet.py [--logs 1000] [--big 12] [--runs 1] [--keep DIR]

1. **Fleet.** Every readable log of ``tests/data/spark-events``, ``tests/data/generated`` and
   ``examples/spark-events`` is a seed (all layouts flattened to their event lines); ``--big``
   larger logs (8, 16, 32 MB) are grown from the generated plain log with ``make_big_log``'s
   ``enlarge``. Copies get fresh application ids (the old id replaced everywhere in the
   text, file and folder names) and cycle through the codecs Spark writes (plain, zstd,
   lz4, snappy, gz); every seventh is a rolling folder (``eventlog_v2_<id>/events_N_<id>``,
   zstd or plain).
2. **Runs.** ``deanalyze spark-logs DIR --format json -o /dev/null`` in a fresh process with
   ``--jobs 1``, ``--jobs auto`` (``--jobs <cpus>`` when the CLI has no ``auto``),
   ``--engine spark --master local[1]`` and ``local[2]``. Each run goes through a small
   wrapper process so that ``getrusage(RUSAGE_CHILDREN)`` is that run's alone: its peak is
   the largest single process (the driver JVM for Spark); the process tree's summed RSS is
   sampled from ``/proc`` as well. CPU seconds are the waited processes' (all of a local run;
   for Spark the Python driver and the JVM, not the executors' Python workers).
3. **Scaling model.** Spark wall time = session start + tasks spread over W task slots
   (measured per-log read times plus a measured per-task overhead, longest first in
   input order as Spark's scheduler takes them) + the driver's part (rules, prices,
   report, measured); printed for W = 1..64 next to the measured local[1]/local[2].
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED_DIRS = ("tests/data/spark-events", "tests/data/generated", "examples/spark-events")
BIG_SEED = ROOT / "tests/data/generated/plain"
CODECS = ("", ".zstd", ".lz4", ".snappy", ".gz")
MB = 1024 * 1024
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "fuzz")]


def seeds(big: int, scratch: Path) -> list[tuple[str, bytes]]:
    """(application id, event lines) of every readable bundled log, plus ``big`` enlarged ones."""
    from analyzer.api import find_logs, read_logs
    from connectors.spark_eventlog.codecs import codec_from_filename, open_decompressed

    sources, _ = find_logs([str(ROOT / d) for d in SEED_DIRS])
    found: dict[str, bytes] = {}
    for source, app in zip(sources, read_logs(sources), strict=True):
        if not hasattr(app, "app_id") or app.app_id in found or any("!/" in f for f in source.files):
            continue
        parts = []
        for path in source.files:
            with open_decompressed(open(path, "rb"), source.legacy_codec or codec_from_filename(path),
                                   path) as stream:
                parts.append(stream.read())
        found[app.app_id] = b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)
    result = sorted(found.items())
    if big:
        from make_big_log import enlarge

        plain = next(p for p in BIG_SEED.iterdir() if p.is_file())
        for i in range(big):
            out = scratch / f"big-{i}"
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                enlarge(plain, out, (8 << (i % 3)) * MB)
            result.append((plain.name, out.read_bytes()))
            out.unlink()
    return result


def make_fleet(folder: Path, logs: int, big: int) -> tuple[int, int]:
    """Write ``logs`` logs into ``folder``; returns (bytes on disk, decompressed bytes)."""
    from fuzzkit import ENCODERS

    pool = seeds(big, folder)
    bigs, small = pool[len(pool) - big:] if big else [], pool[: len(pool) - big]
    order = list(bigs) + list(itertools.islice(itertools.cycle(small), logs - len(bigs)))
    disk = plain = 0
    for n, (old_id, text) in enumerate(order):
        new_id = f"{old_id}-fleet{n:04d}"
        body = text.replace(old_id.encode(), new_id.encode())
        plain += len(body)
        if n % 7 == 3:
            codec = ".zstd" if n % 2 else ""
            target = folder / f"eventlog_v2_{new_id}"
            target.mkdir()
            for i, chunk in enumerate(_split_lines(body, 3), start=1):
                data = ENCODERS[codec](chunk)
                (target / f"events_{i}_{new_id}{codec}").write_bytes(data)
                disk += len(data)
            (target / f"appstatus_{new_id}").write_bytes(b"")
        else:
            data = ENCODERS[CODECS[n % len(CODECS)]](body)
            (folder / f"{new_id}{CODECS[n % len(CODECS)]}").write_bytes(data)
            disk += len(data)
    return disk, plain


def _split_lines(body: bytes, parts: int) -> list[bytes]:
    """``body`` in ``parts`` pieces cut at line ends (Spark rolls a log between events)."""
    cuts, start = [], 0
    for i in range(1, parts):
        end = body.find(b"\n", len(body) * i // parts)
        if end < 0 or end + 1 <= start:
            continue
        cuts.append(body[start:end + 1])
        start = end + 1
    return [*cuts, body[start:]]


def measure(command: list[str]) -> dict:
    """Run ``command`` through the wrapper (``--child``); wall time, peak RSS, exit code, apps."""
    out = subprocess.run([sys.executable, __file__, "--child", "--", *command], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(command: list[str]) -> None:
    """Wrapper side: run ``command``, sample its tree's RSS, report this run's own rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree_peak = 0
    while proc.poll() is None:
        tree_peak = max(tree_peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
    errors = sum(1 for line in stderr.splitlines() if line.startswith("deanalyze: "))
    print(json.dumps({"wall": wall, "cpu": cpu, "peak": peak, "tree_peak": tree_peak, "rc": proc.returncode,
                      "error_lines": errors, "stderr_tail": stderr[-300:]}))


def _tree_rss(pid: int) -> int:
    """Summed RSS of ``pid`` and its descendants (Linux /proc), 0 where it cannot be read."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def jobs_auto_flag() -> list[str]:
    """``--jobs auto`` if this CLI takes it, else ``--jobs <usable CPUs>``."""
    probe = subprocess.run(["deanalyze", "spark-logs", "--jobs", "auto", "/nonexistent/deanalyze-probe"],
                           capture_output=True)
    return ["--jobs", "auto"] if probe.returncode != 2 else ["--jobs", str(len(os.sched_getaffinity(0)))]


def scaling_model(folder: Path, workers: list[int], larger: float) -> list[tuple[int, float, float]]:
    """Predicted apps/s on W task slots, from measured read, overhead, driver and start-up times.

    Also for logs ``larger`` times bigger (read times scaled, fixed costs kept): real
    production logs are far bigger than the bundled ones, and that is where Spark pays.
    """
    from analyzer.api import analyze_found_logs, find_logs, read_log
    from analyzer.api.output import render
    from analyzer.api.spark_engine import plan_tasks, read_logs_on_spark
    from analyzer.api.spark_session import spark_context

    start = time.perf_counter()
    sources, errors = find_logs([str(folder)])
    find_s = time.perf_counter() - start
    reads, results = [], []
    for source in sources:
        start = time.perf_counter()
        results.append(read_log(source))
        reads.append(time.perf_counter() - start)
    start = time.perf_counter()
    render(analyze_found_logs(sources, errors, reader=lambda _s: results), "json")
    driver_s = time.perf_counter() - start
    start = time.perf_counter()
    with spark_context("local[1]"):  # one slot, one core: comparable with the one-process reads
        session_s = time.perf_counter() - start
        jobs = []
        for _ in range(2):  # cold (Python workers start, imports) then warm
            start = time.perf_counter()
            read_logs_on_spark(sources)
            jobs.append(time.perf_counter() - start)
    overhead = max(0.0, (jobs[1] - sum(reads)) / len(plan_tasks(sources, 1)))
    warmup = max(0.0, jobs[0] - jobs[1])
    print(f"model inputs: {len(sources)} logs read in {sum(reads):.1f} s by one process; per task "
          f"{overhead * 1000:.0f} ms; session start {session_s:.1f} s + workers' warm-up {warmup:.1f} s; "
          f"driver (rules, prices, JSON) {driver_s:.1f} s; listing {find_s:.1f} s")
    fixed = session_s + warmup + find_s + driver_s
    curve = []
    for w in workers:
        rates = []
        for scale in (1.0, larger):
            slots = [0.0] * w
            for task in plan_tasks(sources, w):  # Spark hands tasks to free slots in partition order
                i = min(range(w), key=slots.__getitem__)
                slots[i] += sum(reads[j] for j in task) * scale + overhead
            rates.append(len(sources) / (fixed + max(slots)))
        curve.append((w, rates[0], rates[1]))
    local = [len(sources) / (find_s + sum(reads) * scale + driver_s) for scale in (1.0, larger)]
    print(f"model: one local process (no Spark)  {local[0]:6.1f} apps/s   {local[1]:6.1f} apps/s")
    return curve


def main(argv: list[str]) -> int:
    if argv[:2] == ["--child", "--"]:
        child(argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--big", type=int, default=12, help="enlarged logs among them (8/16/32 MB)")
    parser.add_argument("--runs", type=int, default=1, help="best of N per configuration")
    parser.add_argument("--keep", type=Path, help="make (or reuse) the fleet in DIR instead of a temp folder")
    parser.add_argument("--no-model", action="store_true", help="skip the scaling model")
    parser.add_argument("--model-only", action="store_true", help="only the scaling model")
    parser.add_argument("--larger", type=float, default=20, help="model also logs this many times bigger")
    args = parser.parse_args(argv)
    scratch = None if args.keep else tempfile.mkdtemp(prefix="deanalyze-fleet-")
    folder = args.keep or Path(scratch or "")
    try:
        return _bench(folder, args)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _bench(folder: Path, args: argparse.Namespace) -> int:
    meta = folder / ".fleet.json"
    if not meta.exists():
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        disk, plain = make_fleet(folder, args.logs, args.big)
        meta.write_text(json.dumps({"logs": args.logs, "disk": disk, "plain": plain}))
        print(f"fleet: {args.logs} logs in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    fleet = json.loads(meta.read_text())
    print(f"fleet: {fleet['logs']} logs, {fleet['disk'] / MB:.0f} MB on disk, {fleet['plain'] / MB:.0f} MB "
          f"of event lines; {len(os.sched_getaffinity(0))} CPUs, load average {os.getloadavg()[0]:.1f}")
    base = ["deanalyze", "spark-logs", str(folder), "--format", "json", "-o", os.devnull, "--no-progress"]
    auto = jobs_auto_flag()
    configs = {
        "--jobs 1": ["--jobs", "1"],
        " ".join(auto): auto,
        "--engine spark --master local[1]": ["--engine", "spark", "--master", "local[1]"],
        "--engine spark --master local[2]": ["--engine", "spark", "--master", "local[2]"],
    }
    print(f"{'run':<34} {'wall s':>7} {'apps/s':>7} {'MB/s':>6} {'CPU s':>6} {'peak RSS':>9} "
          f"{'tree RSS':>9}  exit")
    for name, flags in configs.items() if not args.model_only else ():
        best = min((measure(base + flags) for _ in range(args.runs)), key=lambda r: r["wall"])
        print(f"{name:<34} {best['wall']:>7.1f} {fleet['logs'] / best['wall']:>7.1f} "
              f"{fleet['plain'] / MB / best['wall']:>6.1f} {best['cpu']:>6.1f} {best['peak'] / MB:>7.0f}MB "
              f"{best['tree_peak'] / MB:>7.0f}MB  {best['rc']}", flush=True)
        if best["rc"] not in (0, 1) or best["error_lines"]:
            print(f"  stderr: {best['stderr_tail']}", file=sys.stderr)
    if not args.no_model:
        print(f"model: Spark, task slots       this fleet   logs x{args.larger:g}")
        for workers, rate, rate_large in scaling_model(folder, [1, 2, 4, 8, 16, 32, 64, 128], args.larger):
            print(f"model: {workers:>3}                      {rate:6.1f} apps/s   {rate_large:6.1f} apps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
