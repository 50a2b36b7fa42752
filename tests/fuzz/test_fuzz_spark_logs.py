"""Fuzzing the Spark side: mutated event logs in every codec, and decompression bombs.

Properties, for any input: no exception escapes the library, every problem is one line
naming the file (never the "unexpected … rerun with --debug" of a bug), the JSON report
validates against the schema, the good log beside the bad one is still analysed, and
memory stays bounded. Examples are fixed (``derandomize``) so a failure reproduces.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from fuzzkit import ENCODERS, FUZZ, GOOD_LOG, assert_one_line_errors, render_and_validate, run_cli
from hypothesis import given
from hypothesis import strategies as st

from analyzer.api import analyze_spark_logs
from connectors.limits import ReadLimits

NEIGHBOUR = GOOD_LOG.parent / "local-1795878654566"  # another application: must always be read
LIMITS = ReadLimits(max_line_bytes=256 << 10, max_log_bytes=16 << 20)
LINES = GOOD_LOG.read_bytes().splitlines(keepends=True)

_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.text(max_size=20),
    st.just([]), st.just({}), st.floats(allow_nan=False, allow_infinity=False),
    st.just("9" * 400), st.just(-1), st.just(2**63),
)


def _retyped(line: bytes, data: st.DataObject) -> bytes:
    """The line with one top-level field given a value of the wrong type (or a huge one)."""
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):  # a line an earlier mutation nested too deeply
        return line
    if not isinstance(event, dict) or not event:
        return line
    key = data.draw(st.sampled_from(sorted(event)))
    event[key] = data.draw(_ODD_VALUES)
    return json.dumps(event).encode() + b"\n"


def _mutate(data: st.DataObject) -> bytes:
    """A copy of the good log with a few structural and value mutations."""
    lines = list(LINES)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(
            ["retype", "duplicate", "swap", "drop", "deep", "non-utf8", "huge-number", "garbage",
             "cut-line"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "retype":
            lines[i] = _retyped(lines[i], data)
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "drop":
            del lines[i]
        elif op == "deep":
            depth = data.draw(st.sampled_from([100, 5_000, 100_000]))
            lines.insert(i, b'{"Event":"SparkListenerTaskEnd","Task Info":' + b"[" * depth + b"\n")
        elif op == "non-utf8":
            lines[i] = lines[i][:10] + b"\xff\xfe\xc3\x28" + lines[i][10:]
        elif op == "huge-number":
            lines[i] = lines[i].replace(b":1", b":1" + b"0" * 40, 1)
        elif op == "garbage":
            lines.insert(i, data.draw(st.binary(min_size=1, max_size=200)) + b"\n")
        else:
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
    blob = b"".join(lines)
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]  # cut at a random offset
    return blob


@FUZZ
@given(data=st.data())
def test_mutated_log_in_any_codec_never_breaks_the_run(data: st.DataObject) -> None:
    suffix = data.draw(st.sampled_from(sorted(ENCODERS)), label="codec")
    blob = ENCODERS[suffix](_mutate(data))
    if suffix and data.draw(st.booleans(), label="cut compressed"):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"mutated{suffix}").write_bytes(blob)
        shutil.copy(NEIGHBOUR, folder / "neighbour")
        report = analyze_spark_logs([str(folder)], limits=LIMITS)
    assert_one_line_errors(report)
    assert "local-1795878654566" in {app.app_id for app in report.applications}
    render_and_validate(report)


@FUZZ
@given(data=st.data())
def test_random_bytes_in_any_codec_are_one_error(data: st.DataObject) -> None:
    suffix = data.draw(st.sampled_from(sorted(ENCODERS)), label="codec")
    raw = data.draw(st.binary(max_size=2048), label="bytes")
    blob = raw if data.draw(st.booleans(), label="raw") else ENCODERS[suffix](raw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"random{suffix}"
        path.write_bytes(blob)
        shutil.copy(NEIGHBOUR, Path(tmp) / "neighbour")
        report = analyze_spark_logs([tmp], limits=LIMITS)
    assert_one_line_errors(report)
    assert len(report.applications) >= 1
    render_and_validate(report)


# --- decompression bombs, in a child process with its memory measured ---------------------

_BOMB_PIECE = 64 << 20


def _bomb(suffix: str, content: bytes) -> bytes:
    """About 1 GiB once decompressed: one compressed 64 MiB piece, repeated (streams concatenate)."""
    piece = (content * (_BOMB_PIECE // len(content) + 1))[:_BOMB_PIECE]
    if suffix == ".zip":  # one member: zip members do not concatenate
        return ENCODERS[".zip"](piece * 4)
    return ENCODERS[suffix](piece) * 16


@pytest.mark.parametrize("suffix", [".zstd", ".gz", ".lz4", ".snappy", ".lzf", ".zip", ""])
def test_compression_bomb_is_one_error_in_bounded_memory(tmp_path: Path, suffix: str) -> None:
    content = b"\0" if suffix in (".zstd", ".gz", ".zip") else b'{"Event":"SparkListenerTaskEnd","x":"aaaa'
    bomb = tmp_path / f"bomb{suffix}"
    bomb.write_bytes(_bomb(suffix, content) if suffix else b"\0" * (96 << 20))
    shutil.copy(NEIGHBOUR, tmp_path / "neighbour")
    code, out, err, rss_mib = run_cli(
        ["spark-logs", str(tmp_path), "--format", "json"],
        env={"DEANALYZE_MAX_LINE_BYTES": str(1 << 20), "DEANALYZE_MAX_LOG_BYTES": str(48 << 20)})
    assert code == 3, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith(f"deanalyze: {bomb}") and "larger than the limit of 48 MiB" in lines[0]
    assert rss_mib < 400, f"peak RSS {rss_mib} MiB"
    doc = json.loads(out)
    assert [a["app_id"] for a in doc["applications"]] == ["local-1795878654566"]


def test_no_newline_bomb_with_default_limits_skips_the_line(tmp_path: Path) -> None:
    """Default limits: a 600 MiB line is cut at 256 MiB and skipped, never held whole."""
    bomb = tmp_path / "bomb.zstd"
    bomb.write_bytes(_bomb(".zstd", b"\0")[: len(_bomb(".zstd", b"\0")) * 10 // 16])
    code, _, err, rss_mib = run_cli(["spark-logs", str(bomb), "--format", "json"])
    assert code == 3 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert rss_mib < 1200, f"peak RSS {rss_mib} MiB"
