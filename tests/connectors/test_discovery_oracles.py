"""Log discovery decided on hand-made folders: which files form one log, in which order, with which hints.

Why: discovery decides what is read at all. A wrong sort order replays a rolling log's
files out of sequence; a wrong completeness hint turns a finished application into a
running one; a file skipped or read twice changes every figure downstream; an empty path
that is not an error lets a ``--fail-on`` gate pass on nothing. Every expected
``LogSource`` below is written out in full.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from connectors.spark_eventlog.discovery import LogSource, discover
from connectors.spark_eventlog.errors import EventLogError


def found(*paths: Path | str) -> list[LogSource | EventLogError]:
    return list(discover([str(p) for p in paths]))


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("{}\n")


def test_single_files_and_their_hints(tmp_path: Path) -> None:
    touch(tmp_path, "app-1", "app-2.lz4.inprogress")
    assert found(tmp_path / "app-1") == [LogSource(str(tmp_path / "app-1"), (str(tmp_path / "app-1"),))]
    assert found(tmp_path / "app-2.lz4.inprogress") == [
        LogSource(str(tmp_path / "app-2.lz4.inprogress"), (str(tmp_path / "app-2.lz4.inprogress"),), False)]


def test_a_plain_folder_yields_each_log_in_name_order_and_skips_side_files(tmp_path: Path) -> None:
    touch(tmp_path, "b-app", "a-app.zstd", "README.md", ".hidden", "_SUCCESS", "app.crc", "notes.TXT",
          "c-app.inprogress")
    touch(tmp_path / "sub", "d-app")
    expected = [LogSource(str(tmp_path / "a-app.zstd"), (str(tmp_path / "a-app.zstd"),)),
                LogSource(str(tmp_path / "b-app"), (str(tmp_path / "b-app"),)),
                LogSource(str(tmp_path / "c-app.inprogress"), (str(tmp_path / "c-app.inprogress"),), False),
                LogSource(str(tmp_path / "sub" / "d-app"), (str(tmp_path / "sub" / "d-app"),))]
    assert found(tmp_path) == expected


@pytest.mark.parametrize(("status", "hint"), [(None, None), ("appstatus_app-1.inprogress", False),
                                              ("appstatus_app-1", True)])
def test_rolling_folder_files_in_numeric_order(tmp_path: Path, status: str | None, hint: bool | None) -> None:
    folder = tmp_path / "eventlog_v2_app-1"
    touch(folder, "events_10_app-1.zstd", "events_2_app-1.zstd", "events_1_app-1.zstd",
          *([status] if status else []))
    files = tuple(str(folder / f"events_{n}_app-1.zstd") for n in (1, 2, 10))
    assert found(folder) == [LogSource(str(folder), files, hint)]
    assert found(tmp_path) == [LogSource(str(folder), files, hint)]  # found inside a searched folder too


def test_a_folder_with_events_files_is_rolling_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "renamed"
    touch(folder, "events_1_x", "appstatus_x")
    assert found(folder) == [LogSource(str(folder), (str(folder / "events_1_x"),), True)]


def test_empty_rolling_folder_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "eventlog_v2_app-9"
    touch(folder, "appstatus_app-9")
    (err,) = found(folder)
    assert isinstance(err, EventLogError)
    assert str(err) == f"{folder}: rolling event-log folder has no events_<N>_ files"


def test_databricks_folder_rotated_files_first_then_the_live_one(tmp_path: Path) -> None:
    folder = tmp_path / "cluster-1"
    touch(folder, "eventlog", "eventlog-2024-01-02--00-00.gz", "eventlog-2024-01-01--23-00.gz", "other")
    files = tuple(str(folder / n) for n in ("eventlog-2024-01-01--23-00.gz", "eventlog-2024-01-02--00-00.gz",
                                             "eventlog"))
    assert found(folder) == [LogSource(str(folder), files)]


def test_a_folder_named_eventlog_is_not_a_databricks_log(tmp_path: Path) -> None:
    touch(tmp_path / "eventlog", "app-1")
    inside = str(tmp_path / "eventlog" / "app-1")
    assert found(tmp_path) == [LogSource(inside, (inside,))]


@pytest.mark.parametrize(("codec_file", "codec"), [
    ("COMPRESSION_CODEC_org.apache.spark.io.LZ4CompressionCodec", "lz4"),
    ("COMPRESSION_CODEC_snappy", "snappy"),
    ("COMPRESSION_CODEC_org.apache.spark.io.SnappyCompressionCodec", "snappy"),
    ("COMPRESSION_CODEC_org.apache.spark.io.ZStdCompressionCodec", "zstd"),
    ("COMPRESSION_CODEC_org.apache.spark.io.LZFCompressionCodec", "lzf"),
    ("COMPRESSION_CODEC_zstd", "zstd"), ("COMPRESSION_CODEC_org.example.BrotliCodec", "brotlicodec"),
    (None, None)])
def test_spark_1_folders(tmp_path: Path, codec_file: str | None, codec: str | None) -> None:
    folder = tmp_path / "app-1"
    touch(folder, "EVENT_LOG_2", "EVENT_LOG_1", "EVENT_LOG_10", "SPARK_VERSION_1.6.3", "APPLICATION_COMPLETE",
          *([codec_file] if codec_file else []))
    files = tuple(str(folder / f"EVENT_LOG_{n}") for n in (1, 2, 10))
    assert found(folder) == [LogSource(str(folder), files, True, codec, "1.6.3")]


def test_spark_1_folder_without_its_complete_marker_is_unfinished(tmp_path: Path) -> None:
    touch(tmp_path / "app-2", "EVENT_LOG_1")
    folder = tmp_path / "app-2"
    assert found(folder) == [LogSource(str(folder), (str(folder / "EVENT_LOG_1"),), False, None, None)]


def test_nothing_found_and_missing_paths_are_errors(tmp_path: Path) -> None:
    touch(tmp_path / "empty")
    touch(tmp_path / "docs", "README.md")
    results = found(tmp_path / "empty", tmp_path / "docs", tmp_path / "missing")
    assert [str(e) for e in results] == [f"{tmp_path / 'empty'}: no Spark event log found here",
                                         f"{tmp_path / 'docs'}: no Spark event log found here",
                                         f"{tmp_path / 'missing'}: no such file or folder"]
    assert all(isinstance(e, EventLogError) for e in results)


def test_paths_given_twice_or_nested_are_read_once(tmp_path: Path) -> None:
    touch(tmp_path / "logs", "app-1")
    touch(tmp_path / "logs" / "inner", "app-2")
    one, two = str(tmp_path / "logs" / "app-1"), str(tmp_path / "logs" / "inner" / "app-2")
    expected = [LogSource(one, (one,)), LogSource(two, (two,))]
    assert found(tmp_path / "logs", tmp_path / "logs", tmp_path / "logs" / "inner", one) == expected
    assert found(tmp_path / "logs" / "inner", tmp_path / "logs") == [LogSource(two, (two,)),
                                                                     LogSource(one, (one,))]


def test_symbolic_links_do_not_loop_or_duplicate(tmp_path: Path) -> None:
    touch(tmp_path / "logs", "app-1", "zz-app")
    os.symlink(tmp_path / "logs", tmp_path / "logs" / "again")
    os.symlink(tmp_path / "logs" / "app-1", tmp_path / "logs" / "z-link")
    one, last = str(tmp_path / "logs" / "app-1"), str(tmp_path / "logs" / "zz-app")
    assert found(tmp_path / "logs") == [LogSource(one, (one,)), LogSource(last, (last,))]


def test_every_path_is_searched_after_a_repeated_or_unusable_one(tmp_path: Path) -> None:
    touch(tmp_path / "a", "app-1")
    touch(tmp_path / "b", "app-2")
    one, two = str(tmp_path / "a" / "app-1"), str(tmp_path / "b" / "app-2")
    assert found(tmp_path / "a", tmp_path / "a", tmp_path / "b") == [LogSource(one, (one,)),
                                                                     LogSource(two, (two,))]
    bad, good = found("nosuchproto://x/y", tmp_path / "b")
    assert isinstance(bad, EventLogError) and str(bad).startswith("nosuchproto://x/y: no backend for nosuchproto://")
    assert good == LogSource(two, (two,))


def test_a_fifo_is_an_error_and_its_siblings_are_found(tmp_path: Path) -> None:
    touch(tmp_path, "app-1")
    os.mkfifo(tmp_path / "pipe")
    results = found(tmp_path)
    assert results[0] == LogSource(str(tmp_path / "app-1"), (str(tmp_path / "app-1"),))
    assert isinstance(results[1], EventLogError) and results[1].source == str(tmp_path / "pipe")
    assert len(results) == 2


def test_zip_members_are_addressed_inside_their_archive(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app-1", "{}\n")
    assert found(archive) == [LogSource(f"{archive}!/app-1", (f"{archive}!/app-1",))]


def test_rolling_logs_inside_a_zip_are_named_by_their_folder(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("eventlog_v2_x/events_1_x", "eventlog_v2_x/events_2_x", "eventlog_v2_x/appstatus_x",
                     "logs/eventlog_v2_y/events_1_y", "logs/eventlog_v2_y/events_2_y",
                     "logs/eventlog_v2_y/appstatus_y.inprogress"):
            z.writestr(name, "{}\n")
    inner = f"{archive}!/"
    assert sorted(found(archive), key=lambda s: s.display) == [  # type: ignore[union-attr]
        LogSource(f"{inner}eventlog_v2_x",
                  (f"{inner}eventlog_v2_x/events_1_x", f"{inner}eventlog_v2_x/events_2_x"), True),
        LogSource(f"{inner}logs/eventlog_v2_y", (f"{inner}logs/eventlog_v2_y/events_1_y",
                                                 f"{inner}logs/eventlog_v2_y/events_2_y"), False)]


def test_url_names_are_shown_without_credentials(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/bob:pw@discovery-test/app-1", b"{}\n")
    fs.pipe("/discovery-test/app-2", b"{}\n")
    try:
        assert found("memory://bob:pw@discovery-test/app-1") == [
            LogSource("memory://***@discovery-test/app-1", ("memory://bob:pw@discovery-test/app-1",))]
        (plain,) = found("memory://discovery-test")
        assert isinstance(plain, LogSource) and "***" not in plain.display
        assert plain.display.endswith("discovery-test/app-2")
    finally:
        fs.rm("/bob:pw@discovery-test", recursive=True)
        fs.rm("/discovery-test", recursive=True)


def test_a_nested_single_log_in_a_zip_keeps_its_member_path(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("logs/app-3", "{}\n")
    assert found(archive) == [LogSource(f"{archive}!/logs/app-3", (f"{archive}!/logs/app-3",))]


def test_a_corrupt_zip_is_an_error_naming_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"PK\x03\x04 this is not a zip archive" * 3)
    (err,) = found(archive)
    assert isinstance(err, EventLogError) and err.source == str(archive)
