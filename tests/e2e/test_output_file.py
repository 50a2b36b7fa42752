"""The report file is replaced atomically: a reader holding the old file never sees half a report.

Why: dashboards and CI steps read the report while a scheduled run rewrites it. Writing
in place would truncate the file under them; the new report must arrive by rename, so a
second link to the old file (or an open handle) still holds the complete old report.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from analyzer.api.output import OutputError, write_atomically, write_report


def test_an_existing_report_is_replaced_by_rename_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b"old report")
    keep = tmp_path / "kept-link"
    os.link(target, keep)  # same inode as the old report
    write_atomically(str(target), b"new report")
    assert target.read_bytes() == b"new report"
    assert keep.read_bytes() == b"old report"  # written in place, the link would show the new bytes
    assert os.stat(target).st_ino != os.stat(keep).st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept-link", "report.json"]


def test_a_new_report_is_readable_by_others_under_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomically(str(tmp_path / "r.md"), b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.md").st_mode) == 0o644


def test_write_report_without_a_path_goes_to_stdout(capsysbinary) -> None:  # type: ignore[no-untyped-def]
    write_report(b"# report\n", None)
    assert capsysbinary.readouterr().out == b"# report\n"


def test_a_pipe_target_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    # A FIFO stands in for /dev/null or a terminal: mutation testing must never be able to
    # replace a real device with a regular file (it ran as root once and did).
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomically(str(fifo), b"report through a pipe")
    reader.join(timeout=10)
    assert received == [b"report through a pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe, not a file renamed over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Same folder: the rename stays on one file system (atomic); hidden: a reader listing the
    # folder never picks up half a report.
    import tempfile

    calls: list[dict[str, object]] = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    write_atomically(str(tmp_path / "r.json"), b"{}")
    assert calls == [{"prefix": ".deanalyze-", "dir": str(tmp_path)}]


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "r.json"
    target.write_bytes(b"old")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match=f"^{target}: cannot write the report: No space left"):
        write_atomically(str(target), b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_html_embeds_plotly_by_default_and_links_the_cdn_when_asked() -> None:
    from analyzer.api import analyze_spark_logs
    from analyzer.api.output import render

    root = Path(__file__).resolve().parents[2]
    report = analyze_spark_logs([str(root / "examples/spark-events/local-1795878785108")])
    inline = render(report, "html")
    cdn = render(report, "html", plotlyjs="cdn")
    tag = b'<script src="https://cdn.plot.ly/'
    assert tag in cdn and tag not in inline
    assert len(inline) > len(cdn) + 1_000_000  # plotly.js itself is several MB
    assert render(report, "md").startswith(b"# deanalyze report")
