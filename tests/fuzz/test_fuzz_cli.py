"""The CLI in a child process on hostile inputs: documented exit codes, one stderr line per problem.

A few cases only (each is a process start); the in-process fuzz tests cover the variety.
The promise checked is the README's: bad input never produces a traceback, each
unreadable input is one line ``deanalyze: <input>: <problem>``, the others are analysed,
and the exit code is one of 0, 1, 3 (2 for usage, including a bad config or catalog).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from fuzzkit import DOCUMENTED_EXITS, ENCODERS, GOOD_LOG, WAREHOUSE, load_report, run_cli


def _stderr_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith("deanalyze: ") for line in lines), err
    return lines


def test_good_and_hostile_logs_together(tmp_path: Path) -> None:
    shutil.copy(GOOD_LOG, tmp_path / "good")
    shutil.copy(GOOD_LOG, tmp_path / "good-copy")  # the same application: analysed once
    (tmp_path / "cut.zstd").write_bytes(ENCODERS[".zstd"](GOOD_LOG.read_bytes())[:500])
    (tmp_path / "junk.lz4").write_bytes(os.urandom(3000))
    (tmp_path / "deep").write_bytes(b"[" * 100_000)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "empty").mkdir()
    code, out, err, _ = run_cli(["spark-logs", str(tmp_path), str(tmp_path), "--format", "json"], timeout=60)
    assert code == 3
    doc = load_report(out)
    assert [a["app_id"] for a in doc["applications"]] == ["local-1430917381534"]
    lines = _stderr_lines(err)
    assert len(lines) == len(doc["errors"]), err
    named = {e["source"].rsplit("/", 1)[-1] for e in doc["errors"]}
    assert named == {"good-copy", "cut.zstd", "junk.lz4", "deep", "fifo"}  # an empty subfolder is silent


def test_empty_folder_is_exit_3_with_one_line(tmp_path: Path) -> None:
    code, _, err, _ = run_cli(["spark-logs", str(tmp_path), "--format", "json", "--fail-on", "low"])
    assert code == 3
    assert _stderr_lines(err) == [f"deanalyze: {tmp_path}: no Spark event log found here"]


def test_unreachable_url_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ftp://user:pw@127.0.0.1:{port}/logs"
    code, _, err, _ = run_cli(["spark-logs", url, str(GOOD_LOG)], timeout=60)
    assert code == 3
    (line,) = _stderr_lines(err)
    assert "pw@" not in line and "ConnectionRefusedError" in line


@pytest.mark.parametrize("side", ["garbage", "fifo"])
def test_bad_metering_file_keeps_the_history(tmp_path: Path, side: str) -> None:
    metering = tmp_path / "metering.csv"
    if side == "fifo":
        os.mkfifo(metering)
    else:
        metering.write_bytes(b"\x00\xff" * 100)
    history = WAREHOUSE / "snowflake_query_history.csv"
    code, out, err, _ = run_cli(["snowflake", "--query-history-file", str(history), "--metering-file",
                                 str(metering), "--format", "json"], timeout=60)
    assert code == 3
    doc = load_report(out)
    assert len(doc["warehouses"]) == 1 and doc["findings"]
    assert len(_stderr_lines(err)) == 1


def test_bad_price_catalog_is_a_usage_error(tmp_path: Path) -> None:
    catalog = tmp_path / "prices.toml"
    catalog.write_text('name = "x"\nas_of = "2026-12-01"\nsource = "me"\nvcpu_hour = nan\ngib_hour = 0.1\n')
    code, _, err, _ = run_cli(["spark-logs", str(GOOD_LOG), "--prices", str(catalog)])
    assert code == 2 and "Traceback" not in err
    assert f"{catalog}: vcpu_hour: nan is not a finite, non-negative number" in err


def test_every_exit_code_is_documented(tmp_path: Path) -> None:
    for args in (["spark-logs", str(GOOD_LOG)], ["spark-logs", str(GOOD_LOG), "--fail-on", "low"],
                 ["spark-logs", str(tmp_path / "missing")]):
        code, out, err, _ = run_cli([*args, "--format", "json"])
        assert code in DOCUMENTED_EXITS and "Traceback" not in err
        json.loads(out)
