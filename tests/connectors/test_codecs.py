"""Decoding real Spark event logs (tests/data/generated) in every codec Spark writes."""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from connectors.spark_eventlog.codecs import codec_from_filename, open_decompressed
from connectors.spark_eventlog.errors import EventLogError

GENERATED = Path(__file__).parents[1] / "data" / "generated"
MANIFEST = json.loads((GENERATED / "MANIFEST.json").read_text())["logs"]
EVENT_LOGS = [entry for entry in MANIFEST if entry["kind"] == "events"]
COMPLETE = [entry for entry in EVENT_LOGS if entry["complete"]]
COMPRESSED = [entry for entry in EVENT_LOGS if entry["codec"]]
COMPLETE_COMPRESSED = [entry for entry in COMPRESSED if entry["complete"]]
STRUCTURAL = (
    "SparkListenerJobStart",
    "SparkListenerJobEnd",
    "SparkListenerStageSubmitted",
    "SparkListenerStageCompleted",
    "SparkListenerTaskStart",
    "SparkListenerTaskEnd",
    "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
    "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
)


def _ids(entries: list[dict]) -> list[str]:
    return [entry["variant"] for entry in entries]


def decode(path: Path, codec: str | None = None) -> tuple[bytes, bool]:
    """All decompressed bytes of ``path`` (codec from its name unless given) and ``truncated``."""
    with open_decompressed(open(path, "rb"), codec or codec_from_filename(path.name), str(path)) as stream:
        return stream.read(), stream.truncated


def events_of(entry: dict) -> list[dict]:
    """Parsed events of a manifest entry, read line by line as the analyzer will."""
    path = GENERATED / entry["path"]
    with open_decompressed(open(path, "rb"), entry["codec"], str(path)) as stream:
        lines = list(stream)
    if not entry["complete"] and not lines[-1].endswith(b"\n"):
        lines.pop()  # a killed app may stop mid-line
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def reference() -> bytes:
    """The uncompressed single-file log, reused as input for gzip and concatenation tests."""
    entry = next(e for e in EVENT_LOGS if e["variant"] == "plain")
    return (GENERATED / entry["path"]).read_bytes()


def test_manifest_covers_every_codec_and_file() -> None:
    assert {e["codec"] for e in EVENT_LOGS} == {None, "zstd", "lz4", "snappy", "lzf"}
    assert {(e["rolling"], e["complete"]) for e in EVENT_LOGS} == {
        (r, c) for r in (True, False) for c in (True, False)
    }
    for entry in MANIFEST:
        path = GENERATED / entry["path"]
        assert path.stat().st_size == entry["size"]
        if entry["kind"] == "events":
            assert codec_from_filename(path.name) == entry["codec"]
            assert path.name.endswith(".inprogress") == (not entry["complete"] and not entry["rolling"])


@pytest.mark.parametrize("entry", EVENT_LOGS, ids=_ids(EVENT_LOGS))
def test_generated_log_decodes_to_json_events(entry: dict) -> None:
    events = events_of(entry)
    kinds = [event["Event"] for event in events]
    assert kinds[0] == "SparkListenerLogStart"
    start = next(event for event in events if event["Event"] == "SparkListenerApplicationStart")
    assert start["App Name"] == entry["app_name"]
    assert ("SparkListenerApplicationEnd" in kinds) == entry["complete"]
    assert kinds.count("SparkListenerTaskEnd") >= 20


@pytest.mark.parametrize("entry", COMPLETE, ids=_ids(COMPLETE))
def test_complete_log_is_not_truncated_and_ends_the_app(entry: dict) -> None:
    data, truncated = decode(GENERATED / entry["path"], entry["codec"])
    assert truncated is False
    assert data.endswith(b"\n")
    assert json.loads(data.splitlines()[-1])["Event"] == "SparkListenerApplicationEnd"


def test_same_job_has_the_same_event_shape_in_every_codec() -> None:
    shapes = {}
    for entry in COMPLETE:
        counts = Counter(event["Event"] for event in events_of(entry))
        shapes[entry["variant"]] = tuple(counts[kind] for kind in STRUCTURAL)
    assert len(set(shapes.values())) == 1, shapes
    jobs, job_ends, stages, stage_ends, tasks, task_ends, sqls, sql_ends = shapes["plain"]
    assert (
        jobs == job_ends >= 3
        and stages == stage_ends >= 3
        and tasks == task_ends >= 20
        and sqls == sql_ends >= 2
    )


@pytest.mark.parametrize("entry", COMPLETE, ids=_ids(COMPLETE))
def test_every_task_ends_inside_its_submitted_stage(entry: dict) -> None:
    submitted, completed, declared, ended = set(), set(), 0, 0
    for event in events_of(entry):
        kind = event["Event"]
        if kind == "SparkListenerStageSubmitted":
            submitted.add(event["Stage Info"]["Stage ID"])
        elif kind == "SparkListenerStageCompleted":
            completed.add(event["Stage Info"]["Stage ID"])
            declared += event["Stage Info"]["Number of Tasks"]
        elif kind in ("SparkListenerTaskStart", "SparkListenerTaskEnd"):
            assert event["Stage ID"] in submitted - completed
            ended += kind == "SparkListenerTaskEnd"
    assert submitted == completed and declared == ended


def test_killed_logs_stop_inside_the_long_job() -> None:
    for entry in (e for e in EVENT_LOGS if not e["complete"]):
        jobs = [event for event in events_of(entry) if event["Event"] == "SparkListenerJobStart"]
        ends = [event for event in events_of(entry) if event["Event"] == "SparkListenerJobEnd"]
        assert len(jobs) - len(ends) <= 1, entry["variant"]  # lz4 may lag the last job start


def test_killed_lz4_log_ends_without_end_marker() -> None:
    """Spark's lz4 stream does not sync-flush: an in-progress log stops at a block boundary."""
    entry = next(e for e in EVENT_LOGS if e["variant"] == "killed-lz4")
    data, truncated = decode(GENERATED / entry["path"])
    assert truncated is True
    assert data and not data.endswith(b"\n")


@pytest.mark.parametrize("entry", COMPRESSED, ids=_ids(COMPRESSED))
def test_cut_off_copy_yields_a_prefix_and_truncated(entry: dict, tmp_path: Path) -> None:
    source = GENERATED / entry["path"]
    raw = source.read_bytes()
    full, _ = decode(source)
    decoded = []
    for cut in (3, 19, len(raw) // 3 + 1, len(raw) // 2 + 7, len(raw) - 3):
        copy = tmp_path / f"cut{cut}-{source.name}"
        copy.write_bytes(raw[:cut])
        data, truncated = decode(copy)
        assert truncated is True, cut
        assert full.startswith(data), cut
        decoded.append(len(data))
    assert decoded[0] == 0  # still inside the first header
    assert decoded == sorted(decoded) and decoded[2] > 0
    assert decoded[4] > len(full) * 3 // 4  # lz4 cut inside its end marker: everything, yet truncated


def test_cut_off_gzip_yields_a_prefix_and_truncated(reference: bytes, tmp_path: Path) -> None:
    path = tmp_path / "eventlog-2021-06-15--15-00.gz"
    raw = gzip.compress(reference)
    for cut in (5, len(raw) // 2, len(raw) - 1):
        path.write_bytes(raw[:cut])
        data, truncated = decode(path)
        assert truncated is True and reference.startswith(data), cut
    assert len(data) > len(reference) // 2


FINISHED = [e for e in COMPRESSED if e["complete"] or e["codec"] != "lz4"]  # killed lz4 lacks its end marker


@pytest.mark.parametrize("entry", FINISHED, ids=_ids(FINISHED))
def test_concatenated_streams_are_all_read(entry: dict, tmp_path: Path) -> None:
    source = GENERATED / entry["path"]
    full, truncated = decode(source)
    assert truncated is False
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes() * 2)
    assert decode(copy) == (full * 2, False)


def test_multi_member_gzip_is_all_read(reference: bytes, tmp_path: Path) -> None:
    half = len(reference) // 2
    path = tmp_path / "eventlog-2021-06-15--15-00.gz"
    path.write_bytes(gzip.compress(reference[:half]) + gzip.compress(reference[half:]))
    with open_decompressed(open(path, "rb"), "gz", str(path)) as stream:
        lines = list(stream)
        assert stream.truncated is False
    assert b"".join(lines) == reference
    assert all(json.loads(line)["Event"] for line in lines)


def test_uncompressed_passthrough_is_buffered_and_complete(reference: bytes) -> None:
    stream = open_decompressed(io.BytesIO(reference), None, "mem")
    assert isinstance(stream, io.BufferedReader)
    assert stream.readline().startswith(b'{"Event":"SparkListenerLogStart"')
    assert stream.readline() + stream.read() == reference[reference.index(b"\n") + 1 :]
    assert stream.truncated is False


@pytest.mark.parametrize("suffix", [".zstd", ".lz4", ".snappy", ".lzf", ".gz", ".zst.inprogress"])
def test_garbage_raises_event_log_error_naming_the_source(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"app-1{suffix}"
    path.write_bytes(random.Random(7).randbytes(5000))
    with pytest.raises(EventLogError) as caught:
        decode(path)
    with (
        pytest.raises(EventLogError),
        open_decompressed(open(path, "rb"), codec_from_filename(path.name), "x") as s,
    ):
        for _line in s:  # the line-iteration path (readinto) raises too, not only read()
            pass
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: corrupt ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("entry", COMPLETE_COMPRESSED, ids=_ids(COMPLETE_COMPRESSED))
def test_damage_inside_a_real_log_is_an_error_not_a_cut(entry: dict, tmp_path: Path) -> None:
    source = GENERATED / entry["path"]
    raw = bytearray(source.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(64)  # zeros: no codec accepts them as a header or payload
    copy = tmp_path / source.name
    copy.write_bytes(raw)
    with pytest.raises(EventLogError, match=f"corrupt {entry['codec']} stream: .* at byte \\d+"):
        decode(copy)


@pytest.mark.parametrize("entry", COMPLETE_COMPRESSED, ids=_ids(COMPLETE_COMPRESSED))
def test_bad_stream_magic_is_an_error_at_byte_0(entry: dict, tmp_path: Path) -> None:
    raw = bytearray((GENERATED / entry["path"]).read_bytes())
    raw[1] ^= 0x01  # inside the zstd frame magic, "LZ4Block", "\\x82SNAPPY", "ZV"
    path = tmp_path / Path(entry["path"]).name
    path.write_bytes(raw)
    with pytest.raises(EventLogError, match=f"corrupt {entry['codec']} stream: .* at byte 0$"):
        decode(path)


def test_lz4_bad_magic_reports_block_offset(tmp_path: Path) -> None:
    entry = next(e for e in EVENT_LOGS if e["variant"] == "lz4")
    raw = bytearray((GENERATED / entry["path"]).read_bytes())
    second = raw.index(b"LZ4Block", 1)
    raw[second : second + 8] = b"LZ4Blick"
    path = tmp_path / "app.lz4"
    path.write_bytes(raw)
    with pytest.raises(EventLogError, match=f"corrupt lz4 stream: bad block magic at byte {second}$"):
        decode(path)


def test_unsupported_codec_is_an_error() -> None:
    raw = io.BytesIO(b"")
    with pytest.raises(EventLogError, match="unsupported compression codec 'brotli'"):
        open_decompressed(raw, "brotli", "x.br")
    assert raw.closed


@pytest.mark.parametrize("codec", ["zstd", "lz4", "snappy", "lzf", "gz", None])
def test_empty_file_is_empty_and_not_truncated(codec: str | None) -> None:
    with open_decompressed(io.BytesIO(b""), codec, "empty") as stream:
        assert stream.read() == b""
        assert stream.truncated is False


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("app-1.zstd.inprogress", "zstd"),
        ("events_1_app.zstd", "zstd"),
        ("events_3_app-20240101.zstd.compact", "zstd"),
        ("eventlog-2021-06-15--15-00.gz", "gz"),
        ("local-1623876083964.lz4", "lz4"),
        ("application_1_0001_1.snappy.inprogress", "snappy"),
        ("spark-abc.lzf", "lzf"),
        ("log.zst", "zstd"),
        ("/var/log/spark/APP.ZSTD", "zstd"),
        ("app-1.inprogress", None),
        ("local-1", None),
        ("local-1 ", None),
        ("events_1_spark-bcec39f6201b42b9925124595baad262", None),
        ("eventlog", None),
        ("app.json", None),
        ("app.zstd.bak", None),
    ],
)
def test_codec_from_filename(name: str, codec: str | None) -> None:
    assert codec_from_filename(name) == codec
