"""Incremental reads with a run history: the first run over a folder of logs, then the unchanged rerun.

Usage::

    python benchmarks/bench_history.py [--logs 1000] [--jobs 1] [--runs 2]

Makes (once, in ``benchmarks/.data/history-logs-N/``) ``--logs`` small event logs by copying
real ones from ``examples/spark-events`` and ``tests/data/spark-events`` (plain JSON and
compressed) with fresh application ids, then times whole processes, each in a fresh
interpreter:

* ``plain``: ``analyze_spark_logs(DIR)`` without a history (every log read);
* ``first``: ``analyze_spark_with_history(H, DIR)`` into an empty history (every log read,
  normalised applications and run rows stored);
* ``rerun``: the same call again over the unchanged folder (no log read: stamps match; rules
  and prices run again over the stored applications);

and prints the rerun as a fraction of the first run. Best of ``--runs`` for plain and rerun;
the first run is measured once per run on a fresh history.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
# Real small logs: (file, application id written inside it)
SEEDS = (
    (ROOT / "examples/spark-events/local-1430917381534", "local-1430917381534"),
    (ROOT / "examples/spark-events/local-1795878785108", "local-1795878785108"),
    (ROOT / "examples/spark-events/application_1553914137147_0018", "application_1553914137147_0018"),
    (ROOT / "tests/data/spark-events/apache-spark/spark-events/local-1422981759269", "local-1422981759269"),
    (ROOT / "tests/data/spark-events/apache-spark/spark-events/app-20161116163331-0000",
     "app-20161116163331-0000"),
)


def make_logs(count: int) -> Path:
    """``count`` logs, copies of the seeds with their application id replaced by a fresh one."""
    folder = DATA / f"history-logs-{count}"
    if folder.is_dir() and len(list(folder.iterdir())) == count:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts = [(path.read_text(), app_id) for path, app_id in SEEDS]
    for i in range(count):
        text, app_id = texts[i % len(texts)]
        fresh = f"local-{1_700_000_000_000 + i}"
        (folder / fresh).write_text(text.replace(app_id, fresh))
    return folder


def timed(code: str) -> float:
    """Wall time of a fresh interpreter running ``code`` (imports included, as a CLI call would)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    folder = make_logs(args.logs)
    history = DATA / f"history-{args.logs}.duckdb"
    plain = ("from analyzer.api import analyze_spark_logs\n"
             f"r = analyze_spark_logs([{str(folder)!r}], jobs={args.jobs})\n"
             f"assert len(r.applications) == {args.logs}, (len(r.applications), r.errors[:3])\n")
    with_history = ("from analyzer.api.history import analyze_spark_with_history\n"
                    f"r = analyze_spark_with_history({str(history)!r}, [{str(folder)!r}], jobs={args.jobs})\n"
                    f"assert len(r.applications) == {args.logs}, (len(r.applications), r.errors[:3])\n")
    plain_s, first_s, rerun_s = [], [], []
    for _ in range(args.runs):
        history.unlink(missing_ok=True)
        plain_s.append(timed(plain))
        first_s.append(timed(with_history))
        rerun_s.append(min(timed(with_history) for _ in range(2)))
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"{args.logs} logs ({size / 1e6:.1f} MB) in {folder}, --jobs {args.jobs}, best of {args.runs}:")
    print(f"  without history:          {min(plain_s):7.2f} s")
    print(f"  first run, empty history: {min(first_s):7.2f} s")
    share = min(rerun_s) / min(first_s)
    print(f"  unchanged rerun:          {min(rerun_s):7.2f} s  ({share:.0%} of the first run)")
    print(f"  history file: {history.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
