"""Output problems are not bugs: a report that cannot be written is exit 5 and one line naming the target.

A missing folder is found before the analysis (a usage error, exit 2); a full device, a
closed pipe on stdout, an unwritable audit folder are exit 5; no temporary file is left and
the temporary file's name is never shown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from audit_configs import write_audit_config
from click.testing import CliRunner
from conftest import DATA

from analyzer.api.output import EXIT_OUTPUT, EXIT_USAGE
from analyzer.cli import main

WAREHOUSE = DATA / "warehouse"
SNOWFLAKE = ["snowflake", "--query-history-file", str(WAREHOUSE / "snowflake_query_history.csv"),
             "--metering-file", str(WAREHOUSE / "snowflake_warehouse_metering.csv"), "--format", "json"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*SNOWFLAKE, *args])
    return result.exit_code, result.stderr


def test_a_missing_folder_is_a_usage_error_before_the_analysis(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import analyzer.api.history as history

    def never(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the analysis ran before the output folder was checked")

    monkeypatch.setattr(history, "analyze_source_into_history", never)
    target = tmp_path / "missing" / "r.json"
    code, err = run("-o", str(target))
    assert code == EXIT_USAGE
    assert f"{target}: cannot write the report: folder {target.parent} does not exist" in err
    assert ".deanalyze-" not in err and "Traceback" not in err


def test_a_file_in_place_of_the_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    code, err = run("-o", str(tmp_path / "plain" / "r.json"))
    assert code == EXIT_USAGE and "is not a folder" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_exit_5_naming_it() -> None:
    code, err = run("-o", "/dev/full")
    assert code == EXIT_OUTPUT
    assert err == "deanalyze: /dev/full: cannot write the report: No space left on device\n"


def test_a_full_disk_during_the_atomic_write_names_the_target_and_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "r.json"
    code, err = run("-o", str(target))
    assert code == EXIT_OUTPUT
    assert err == f"deanalyze: {target}: cannot write the report: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


def _cli(args: list[str], stdout: int | None) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", "from analyzer.cli import main; main()", *args]
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, timeout=120, check=False)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_device_is_exit_5_and_one_line() -> None:
    with open("/dev/full", "wb") as full:
        done = _cli(SNOWFLAKE, full.fileno())
    assert done.returncode == EXIT_OUTPUT
    assert done.stderr == b"deanalyze: <stdout>: cannot write the report: No space left on device\n"


def test_stdout_whose_reader_left_is_exit_5_and_one_line() -> None:
    read, write = os.pipe()
    os.close(read)  # the reader (e.g. `| head`) is gone before the report is written
    try:
        done = _cli(SNOWFLAKE, write)
    finally:
        os.close(write)
    assert done.returncode == EXIT_OUTPUT
    assert done.stderr == b"deanalyze: <stdout>: cannot write the report: Broken pipe\n"


def _audit_config(folder: Path, out: str) -> Path:
    return write_audit_config(folder, out=out)


def test_an_audit_folder_that_cannot_be_made_is_one_line_and_exit_5_before_any_source(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import analyzer.api.audit as audit

    monkeypatch.setattr(audit, "analyze_source", lambda *_a, **_k: pytest.fail("a source ran"))
    (tmp_path / "plain").write_text("x")
    config = _audit_config(tmp_path, str(tmp_path / "plain" / "audit"))
    result = CliRunner().invoke(main, ["audit", "--config", str(config), "--week", "2026-W48"])
    assert result.exit_code == EXIT_OUTPUT
    assert result.stderr.count("\n") == 1 and "cannot write the report" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_one_sources_unwritable_report_is_its_error_and_the_others_still_run(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import analyzer.api.audit as audit

    real = audit.write_atomically

    def full_for_prod(path: str, data: bytes) -> None:
        if Path(path).name.startswith("prod."):
            raise audit.OutputError(path, "No space left on device")
        real(path, data)

    monkeypatch.setattr(audit, "write_atomically", full_for_prod)
    config = _audit_config(tmp_path, "audit")
    result = CliRunner().invoke(main, ["audit", "--config", str(config), "--week", "2026-W48"])
    assert result.exit_code == EXIT_OUTPUT
    week = tmp_path / "audit" / "2026-W48"
    assert (week / "analytics.json").is_file() and (week / "analytics.md").is_file()
    assert not (week / "prod.json").exists()
    assert "source 'prod'" in result.stderr and "No space left on device" in result.stderr
    import json

    summary = json.loads((week / "summary.json").read_text())
    prod = next(s for s in summary["sources"] if s["name"] == "prod")
    assert prod["exit_code"] == EXIT_OUTPUT and prod["files"] == []
    assert all((week / f).is_file() for s in summary["sources"] for f in s["files"])
