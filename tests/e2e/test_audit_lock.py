"""Concurrent audits of one week cannot interleave; a killed run's temporary files are removed.

Two audits of a week at once used to corrupt its folder (one's clean-up deleted the other's
report; the summary listed a file that was gone). The week is now held with ``flock`` on
``<week>/.lock`` (``analyzer/api/audit_lock.py``).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from audit_configs import write_audit_config
from click.testing import CliRunner
from conftest import DATA

from analyzer.api.audit_lock import LOCK_NAME, WAIT_ENV
from analyzer.api.output import EXIT_USAGE
from analyzer.cli import main

WAREHOUSE = DATA / "warehouse"
WEEK = "2026-W48"


def write_config(folder: Path, formats: str = '["md", "json"]') -> Path:
    return write_audit_config(folder, formats=formats)


def audit(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "--config", str(config), "--week", WEEK, *args])
    return result.exit_code, result.stderr


def assert_consistent(week: Path) -> None:
    """Every file the summary lists exists; no temporary file is left."""
    summary = json.loads((week / "summary.json").read_text())
    listed = [f for s in summary["sources"] for f in s["files"]]
    assert listed and all((week / f).is_file() for f in listed)
    assert not [p for p in week.rglob(".deanalyze-*")]


def test_two_audits_of_one_week_at_once_leave_a_consistent_folder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a md+json week, md-only and json-only audits at once: unlocked, each removed the other's."""
    import threading

    import analyzer.api.audit as audit_module
    from analyzer.api.audit import run_audit
    from analyzer.api.audit_config import load_audit_config

    out = tmp_path / "out"
    configs = []
    for formats in ('["md", "json"]', '["md"]', '["json"]'):
        folder = tmp_path / f"cfg{len(configs)}"
        folder.mkdir()
        config = write_config(folder, formats)
        config.write_text(config.read_text().replace('dir = "audit"', f'dir = "{out}"'))
        configs.append(load_audit_config(str(config)))
    run_audit(configs[0], WEEK)
    slow = audit_module.analyze_source

    def slowly(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # both runs are inside the week at once
        return slow(*args, **kwargs)

    monkeypatch.setattr(audit_module, "analyze_source", slowly)
    codes: list[int] = []
    runs = [threading.Thread(target=lambda c=c: codes.append(run_audit(c, WEEK).exit_code))
            for c in configs[1:]]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    assert codes == [0, 0]
    assert_consistent(out / WEEK)


def _hold(path: Path, mode: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, mode | fcntl.LOCK_NB)
    return fd


def test_a_busy_week_fails_after_the_wait_with_one_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path)
    week = tmp_path / "audit" / WEEK
    fd = _hold(week / LOCK_NAME, fcntl.LOCK_EX)
    monkeypatch.setenv(WAIT_ENV, "0.3")
    try:
        started = time.monotonic()
        code, err = audit(config)
        assert time.monotonic() - started < 10
    finally:
        os.close(fd)
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and "another audit of" in err and WAIT_ENV in err
    assert not (week / "summary.json").exists()


def test_the_wait_lets_the_second_audit_run_after_the_first(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    config = write_config(tmp_path)
    fd = _hold(tmp_path / "audit" / WEEK / LOCK_NAME, fcntl.LOCK_EX)
    threading.Timer(0.5, os.close, (fd,)).start()
    monkeypatch.setenv(WAIT_ENV, "30")
    code, err = audit(config)
    assert code == 0, err
    assert_consistent(tmp_path / "audit" / WEEK)


def test_source_runs_of_different_sources_share_the_week(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A scheduler's per-source tasks run side by side; the same source twice waits."""
    config = write_config(tmp_path)
    week = tmp_path / "audit" / WEEK
    shared = _hold(week / LOCK_NAME, fcntl.LOCK_SH)
    own = _hold(week / f"{LOCK_NAME}-prod", fcntl.LOCK_EX)
    monkeypatch.setenv(WAIT_ENV, "0.3")
    try:
        assert audit(config, "--source", "analytics")[0] == 0
        code, err = audit(config, "--source", "prod")
        assert code == EXIT_USAGE and "source 'prod'" in err
        assert audit(config)[0] == EXIT_USAGE  # a whole-week run needs the week alone
    finally:
        os.close(own)
        os.close(shared)
    assert (week / "analytics.json").is_file() and not (week / "prod.json").exists()


@pytest.mark.parametrize("args", [(), ("--source", "prod")])
def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(tmp_path: Path,
                                                                   args: tuple[str, ...]) -> None:
    config = write_config(tmp_path)
    week = tmp_path / "audit" / WEEK
    (week / ".sources").mkdir(parents=True)
    left = [week / ".deanalyze-k1ll3d", week / ".sources" / ".deanalyze-x9", week / LOCK_NAME]
    for path in left:
        path.write_bytes(b"half a report")
    code, err = audit(config, *args)
    assert code == 0, err
    assert not any(p.exists() for p in left)
