"""Issue 11, the Spark input half: framing limits, storage failures, non-regular files, duplicates.

Every case is bad input that must end as one ``errors[]`` line naming the file (or, for a
too-long line, a skipped and counted line) while the good log beside it is still analysed.
Limits are set small here with ``use_limits``; the defaults (256 MiB a line, 64 GiB a log)
are exercised only by their value.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
import zstandard

from analyzer.api import analyze_spark_logs
from connectors.limits import (
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_MAX_LOG_BYTES,
    MAX_LINE_ENV,
    ReadLimits,
    current_limits,
    use_limits,
)
from connectors.spark_eventlog.discovery import LogSource, discover
from connectors.spark_eventlog.errors import EventLogError, redact_url
from connectors.spark_eventlog.reader import read_application

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spark-events" / "local-1430917381534"
SMALL = ReadLimits(max_line_bytes=64 << 10, max_log_bytes=8 << 20)


def _errors(report) -> dict[str, str]:
    return {e.source: e.message for e in report.errors}


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "good-app")
    return folder


# --- limits -------------------------------------------------------------------------------

def test_default_limits_are_generous_and_env_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert current_limits() == ReadLimits(DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_LOG_BYTES)
    assert DEFAULT_MAX_LINE_BYTES == 256 << 20 and DEFAULT_MAX_LOG_BYTES == 64 << 30
    monkeypatch.setenv(MAX_LINE_ENV, "1000")
    assert current_limits().max_line_bytes == 1000
    monkeypatch.setenv(MAX_LINE_ENV, "16m")
    assert current_limits().max_line_bytes == 16 << 20
    monkeypatch.setenv(MAX_LINE_ENV, "not a number")
    assert current_limits().max_line_bytes == DEFAULT_MAX_LINE_BYTES
    with use_limits(SMALL):
        assert current_limits() == SMALL
    assert current_limits().max_line_bytes == DEFAULT_MAX_LINE_BYTES


def test_over_long_line_is_skipped_and_counted(tmp_path: Path) -> None:
    lines = EXAMPLE.read_bytes().splitlines(keepends=True)
    huge = b'{"Event":"SparkListenerTaskEnd","Junk":"' + b"x" * (200 << 10) + b'"}\n'
    log = tmp_path / "long-line"
    log.write_bytes(b"".join(lines[:10]) + huge + b"".join(lines[10:]))
    with use_limits(SMALL):
        app = read_application(LogSource(display=str(log), files=(str(log),)))
    reference = read_application(LogSource(display=str(EXAMPLE), files=(str(EXAMPLE),)))
    assert app.integrity.unparsed_lines == 1
    assert len(app.stages) == len(reference.stages)


def test_line_exactly_at_the_limit_is_kept(tmp_path: Path) -> None:
    text = EXAMPLE.read_bytes()
    longest = max(len(line) for line in text.splitlines())
    log = tmp_path / "exact"
    log.write_bytes(text)
    with use_limits(ReadLimits(max_line_bytes=longest, max_log_bytes=1 << 30)):
        app = read_application(LogSource(display=str(log), files=(str(log),)))
    assert app.integrity.unparsed_lines == 0


@pytest.mark.parametrize("codec", ["plain", "zstd", "gz"])
def test_no_newline_bomb_streams_in_bounded_memory(tmp_path: Path, codec: str) -> None:
    zeros = b"\0" * (16 << 20)
    if codec == "zstd":
        path, data = tmp_path / "bomb.zstd", zstandard.ZstdCompressor().compress(zeros)
    elif codec == "gz":
        path, data = tmp_path / "bomb.gz", gzip.compress(zeros)
    else:
        path, data = tmp_path / "bomb", zeros
    path.write_bytes(data)
    with use_limits(SMALL):
        report = analyze_spark_logs([str(path)])
    assert "larger than the limit of 8 MiB per log" in _errors(report)[str(path)]


def test_over_size_log_is_one_error_and_the_other_log_is_read(good: Path) -> None:
    big = good / "big-app"
    big.write_bytes(EXAMPLE.read_bytes() * 3)
    limit = EXAMPLE.stat().st_size * 2
    with use_limits(ReadLimits(max_line_bytes=1 << 20, max_log_bytes=limit)):
        report = analyze_spark_logs([str(good)])
    assert len(report.applications) == 1
    assert f"larger than the limit of {limit} bytes per log" in _errors(report)[str(big)]


def test_limits_keyword_of_the_library(good: Path) -> None:
    (good / "big-app").write_bytes(EXAMPLE.read_bytes() * 2)
    report = analyze_spark_logs([str(good)], limits=ReadLimits(max_log_bytes=EXAMPLE.stat().st_size + 1))
    assert len(report.applications) == 1 and len(report.errors) == 1


# --- zip members --------------------------------------------------------------------------

def _zip_with(path: Path, name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr(name, data)


def test_zip_member_with_bad_crc_names_archive_and_member(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    _zip_with(archive, "app-1", EXAMPLE.read_bytes(), zipfile.ZIP_STORED)
    raw = bytearray(archive.read_bytes())
    raw[raw.index(b"SparkListenerLogStart") + 2] ^= 0xFF  # payload changed, CRC kept
    archive.write_bytes(bytes(raw))
    report = analyze_spark_logs([str(archive)])
    message = _errors(report)[f"{archive}!/app-1"]
    assert message.startswith("cannot read: corrupt zip member: Bad CRC-32"), message


def test_encrypted_zip_member_is_refused_by_name(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    _zip_with(archive, "app-1", EXAMPLE.read_bytes())
    raw = bytearray(archive.read_bytes())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set the "encrypted" flag bit in both headers
        at = raw.index(header) + (6 if header == b"PK\x03\x04" else 8)
        raw[at] |= 0x1
    archive.write_bytes(bytes(raw))
    report = analyze_spark_logs([str(archive)])
    assert "encrypted" in _errors(report)[f"{archive}!/app-1"]


def test_unsupported_zip_method_is_refused_by_name(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    _zip_with(archive, "app-1", EXAMPLE.read_bytes(), zipfile.ZIP_BZIP2)
    report = analyze_spark_logs([str(archive)])
    assert "unsupported compression (bzip2)" in _errors(report)[f"{archive}!/app-1"]


def test_sparse_zip_member_without_newlines_is_bounded(tmp_path: Path) -> None:
    archive = tmp_path / "sparse.zip"
    _zip_with(archive, "app-1", b"\0" * (32 << 20))
    with use_limits(SMALL):
        report = analyze_spark_logs([str(archive)])
    assert "larger than the limit" in _errors(report)[f"{archive}!/app-1"]


# --- non-regular files --------------------------------------------------------------------

def test_fifo_in_a_folder_is_skipped_with_a_message(good: Path) -> None:
    os.mkfifo(good / "pipe")
    report = _within(10, lambda: analyze_spark_logs([str(good)]))
    assert len(report.applications) == 1
    assert "not a regular file (FIFO)" in _errors(report)[str(good / "pipe")]


def test_fifo_given_directly_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    report = _within(10, lambda: analyze_spark_logs([str(tmp_path / "pipe")]))
    assert "not a regular file (FIFO)" in _errors(report)[str(tmp_path / "pipe")]


def test_character_device_is_refused(tmp_path: Path) -> None:
    report = _within(10, lambda: analyze_spark_logs(["/dev/zero"]))
    assert "not a regular file (character device)" in _errors(report)["/dev/zero"]


def test_socket_in_a_folder_is_skipped(good: Path) -> None:
    short = Path(f"/tmp/deanalyze-sock-{os.getpid()}")
    short.mkdir(exist_ok=True)
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(short / "s"))
        shutil.copy(EXAMPLE, short / "good-app")
        report = analyze_spark_logs([str(short)])
        sock.close()
    finally:
        shutil.rmtree(short)
    assert len(report.applications) == 1
    assert "socket" in _errors(report)[str(short / "s")]


def _within(seconds: float, call):
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it blocks."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, f"blocked for more than {seconds} s"
    return out[0]


# --- no log found, duplicates -------------------------------------------------------------

def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    report = analyze_spark_logs([str(tmp_path)])
    assert _errors(report) == {str(tmp_path): "no Spark event log found here"}


def test_folder_without_logs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hello")
    (tmp_path / "sub").mkdir()
    assert _errors(analyze_spark_logs([str(tmp_path)])) == {str(tmp_path): "no Spark event log found here"}


def test_same_folder_twice_is_read_once(good: Path) -> None:
    report = analyze_spark_logs([str(good), str(good) + "/", str(good / "good-app")])
    assert len(report.applications) == 1 and not report.errors


def test_same_application_in_three_files_is_analysed_once(good: Path) -> None:
    shutil.copy(good / "good-app", good / "copy-1")
    shutil.copy(good / "good-app", good / "copy-2")
    report = analyze_spark_logs([str(good)])
    assert len(report.applications) == 1
    messages = _errors(report)
    copies = {str(good / name) for name in ("good-app", "copy-1", "copy-2")}
    assert set(messages) == copies - {report.applications[0].source}
    for message in messages.values():
        assert message == (f"duplicate of {report.applications[0].source}: same application id and attempt, "
                           "analysed once")


# --- storage ------------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("url", [
    f"ftp://127.0.0.1:{_closed_port()}/logs", "zip://x", "memory://nowhere/logs", "webhdfs://127.0.0.1:1/x",
])
def test_storage_failure_is_one_line_and_quick(url: str) -> None:
    start = time.monotonic()
    items = list(discover([url]))
    assert time.monotonic() - start < 15
    assert len(items) == 1 and isinstance(items[0], EventLogError)
    assert "\n" not in str(items[0]) and len(items[0].message) <= 300


def test_credentials_in_urls_are_redacted() -> None:
    port = _closed_port()
    items = list(discover([f"ftp://user:hunter2@127.0.0.1:{port}/x?sig=SECRET"]))
    text = str(items[0])
    assert "hunter2" not in text and "SECRET" not in text and "***" in text
    assert redact_url("s3://AKIA:key@bucket/p?X-Amz-Signature=abc") == "s3://***@bucket/p?***"


def test_memory_url_is_read(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    with fs.open("/deanalyze-test/app-1", "wb") as out:
        out.write(EXAMPLE.read_bytes())
    try:
        report = analyze_spark_logs(["memory://deanalyze-test/"])
    finally:
        fs.rm("/deanalyze-test", recursive=True)
    assert len(report.applications) == 1 and not report.errors


def test_plain_read_still_streams_lines(tmp_path: Path) -> None:
    """The framing layer hands the reader the very bytes of a normal log."""
    from connectors.spark_eventlog.codecs import open_decompressed

    data = EXAMPLE.read_bytes()
    with open(EXAMPLE, "rb", buffering=0) as raw:
        assert b"".join(open_decompressed(raw, None, str(EXAMPLE))) == data
    with use_limits(ReadLimits(max_line_bytes=100, max_log_bytes=1 << 30)):
        framed = b"".join(open_decompressed(io.BytesIO(b"a" * 250 + b"\nok\n"), None, "x"))
    assert framed == b"a" * 100 + b"\nok\n"


def test_url_log_names_in_reports_carry_no_credentials() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    with fs.open("/user:hunter2@bucket/app-1", "wb") as out:  # memory:// keeps user-info in the path
        out.write(EXAMPLE.read_bytes())
    try:
        report = analyze_spark_logs(["memory://user:hunter2@bucket/"])
    finally:
        fs.rm("/user:hunter2@bucket", recursive=True)
    assert [app.source for app in report.applications] == ["memory://***@bucket/app-1"]


def test_zip_given_twice_and_its_member_count_once(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    _zip_with(archive, "app-1", EXAMPLE.read_bytes())
    report = analyze_spark_logs([str(archive), str(tmp_path), f"{archive}"])
    assert len(report.applications) == 1 and not report.errors
