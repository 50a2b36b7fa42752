"""Speed and memory of reading 1,000,000 warehouse query rows from exported files.

Usage::

    python benchmarks/bench_warehouse.py [--rows 1000000] [--runs 2]

Makes (once, in ``benchmarks/.data/``) a Snowsight-style QUERY_HISTORY CSV and a BigQuery
JOBS newline-delimited JSON export of ``--rows`` rows each, by repeating the test fixtures'
real-shaped rows with fresh ids and times spread over a week, then prints for each:

* best-of-N wall time of a bare ``pandas.read_csv`` / ``pandas.read_json(lines=True)``;
* best-of-N wall time and peak RSS of the whole ``deanalyze snowflake|bigquery ... --format
  json`` process (read, price every query, run every rule, render), and rows/s;
* the ratio deanalyze / pandas (target: at most 3x), and PASS/MISS for < 30 s and < 2 GB.

Exits non-zero only when a command fails, never on a missed target.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
FIXTURES = HERE.parent / "tests" / "data" / "warehouse"
WEEK_S = 7 * 24 * 3600


def make_snowflake(rows: int, path: Path) -> None:
    """Repeat the fixture's QUERY_HISTORY rows with fresh ids and start times over a week."""
    with (FIXTURES / "snowflake_query_history.csv").open(newline="") as src:
        reader = csv.DictReader(src)
        header, seed = reader.fieldnames or [], list(reader)
    start = datetime(2024, 5, 6, tzinfo=UTC)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        for i in range(rows):
            row = dict(seed[i % len(seed)])
            begin = start + timedelta(seconds=i * WEEK_S / rows)
            elapsed = int(row["TOTAL_ELAPSED_TIME"] or 1000)
            row["QUERY_ID"] = f"01b40000-0000-0000-0000-{i:012d}"
            row["START_TIME"] = begin.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000"
            end = begin + timedelta(milliseconds=elapsed)
            row["END_TIME"] = end.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000"
            writer.writerow(row)


def make_bigquery(rows: int, path: Path) -> None:
    """Repeat the fixture's JOBS rows with fresh job ids and creation times over a week."""
    seed = [json.loads(line) for line in (FIXTURES / "bigquery_jobs.jsonl").read_text().splitlines() if line]
    start = datetime(2024, 5, 6, tzinfo=UTC)
    fmt = "%Y-%m-%d %H:%M:%S.%f UTC"
    with path.open("w") as out:
        for i in range(rows):
            job = dict(seed[i % len(seed)])
            begin = start + timedelta(seconds=i * WEEK_S / rows)
            job["job_id"] = f"bquxjob_{i:012d}"
            job["parent_job_id"] = None
            job["creation_time"] = begin.strftime(fmt)
            job["start_time"] = (begin + timedelta(milliseconds=200)).strftime(fmt)
            job["end_time"] = (begin + timedelta(seconds=5)).strftime(fmt)
            out.write(json.dumps(job) + "\n")


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process; its stdout goes to /dev/null."""
    with open(os.devnull, "wb") as sink:
        begin = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - begin
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def best(cmd: list[str], runs: int) -> tuple[float, float]:
    results = [timed(cmd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    deanalyze = shutil.which("deanalyze") or sys.exit("deanalyze is not installed (pip install -e .)")
    cases = [
        ("snowflake", DATA / f"snowflake_qh_{args.rows}.csv", make_snowflake,
         "import pandas, sys; pandas.read_csv(sys.argv[1])", ["snowflake", "--query-history-file"]),
        ("bigquery", DATA / f"bigquery_jobs_{args.rows}.jsonl", make_bigquery,
         "import pandas, sys; pandas.read_json(sys.argv[1], lines=True)", ["bigquery", "--jobs-file"]),
    ]
    print("| vendor | rows | file | pandas | deanalyze | rows/s | ratio (<= 3x) | peak RSS (< 2 GB) "
          "| < 30 s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for vendor, path, make, bare, command in cases:
        if not path.exists():
            make(args.rows, path)
        pandas_s, _ = best([sys.executable, "-c", bare, str(path)], args.runs)
        wall, rss = best([deanalyze, *command, str(path), "--format", "json"], args.runs)
        ratio = wall / pandas_s
        print(f"| {vendor} | {args.rows:,} | {path.stat().st_size / 1e6:,.0f} MB | {pandas_s:.1f} s | "
              f"{wall:.1f} s | {args.rows / wall:,.0f} | {ratio:.2f}x {'PASS' if ratio <= 3 else 'MISS'} | "
              f"{rss:,.0f} MB {'PASS' if rss < 2048 else 'MISS'} | {'PASS' if wall < 30 else 'MISS'} |")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
