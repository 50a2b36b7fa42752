"""Hostile lines in a Spark event log cost only themselves (issue 11, the decode path).

A malformed or out-of-range line is counted and skipped (``integrity.unparsed_lines``,
``first_error``); the rest of its log and every other log are still analysed; a log with
no usable event at all is one ``errors[]`` entry; no figure that reaches a report can
overflow a datetime, the JSON encoder or the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import load_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.api import analyze_spark_logs
from analyzer.core.model import Application
from connectors.spark_eventlog import reader, task_batch
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.events import MAX_TIME_MS
from connectors.spark_eventlog.reader import read_application
from reports import RENDERERS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spark-events" / "local-1430917381534"
LINES = EXAMPLE.read_bytes().splitlines(keepends=True)
FIRST_TASK_END = next(i for i, line in enumerate(LINES) if b'"SparkListenerTaskEnd"' in line[:40])


def _read(path: Path) -> Application:
    return read_application(LogSource(display=str(path), files=(str(path),)))


def _write(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def _edited(index: int, edit: object) -> list[bytes]:
    """The example log with line ``index`` replaced by ``edit(event dict)`` re-encoded."""
    lines = list(LINES)
    event = json.loads(lines[index])
    edit(event)  # type: ignore[operator]
    lines[index] = json.dumps(event).encode() + b"\n"
    return lines


def _render_all(paths: list[Path]) -> dict:
    """Analyse ``paths`` and render every format; the JSON must pass the schema."""
    report = analyze_spark_logs([str(p) for p in paths])
    for fmt in ("md", "html"):
        assert RENDERERS[fmt]().render(report)
    return load_report(RENDERERS["json"]().render(report).decode())


def _set(path: tuple[str, ...], value: object) -> object:
    def edit(event: dict) -> None:
        for key in path[:-1]:
            event = event[key]
        event[path[-1]] = value
    return edit


REFERENCE = _read(EXAMPLE)


@pytest.mark.parametrize("value", [100_000_000_000_000_000, 2**63 - 1, 2**63, 2**64 + 7, -1, -(2**63)])
def test_an_out_of_range_timestamp_costs_its_line_only(tmp_path: Path, value: int) -> None:
    start = next(i for i, line in enumerate(LINES) if b"ApplicationStart" in line[:60])
    lines = _edited(start, _set(("Timestamp",), value))
    lines = [*lines[:FIRST_TASK_END], *_edited(FIRST_TASK_END, _set(("Task Info", "Finish Time"), value))[
        FIRST_TASK_END:FIRST_TASK_END + 1], *lines[FIRST_TASK_END + 1:]]
    bad = _write(tmp_path, "bad", lines)
    app = _read(bad)
    assert app.integrity.unparsed_lines == 2
    assert f"line {start + 1}:" in (app.integrity.first_error or "")
    assert app.start_time_ms is None
    assert app.integrity.task_end_events == REFERENCE.integrity.task_end_events - 1
    doc = _render_all([bad, EXAMPLE])  # the good log beside it is analysed too
    assert len(doc["applications"]) == 2 and not doc["errors"]


def test_the_last_printable_instant_is_accepted_and_rendered(tmp_path: Path) -> None:
    end = next(i for i, line in enumerate(LINES) if b"ApplicationEnd" in line[:60])
    path = _write(tmp_path, "far", _edited(end, _set(("Timestamp",), MAX_TIME_MS)))
    app = _read(path)
    assert app.integrity.unparsed_lines == 0 and app.end_time_ms == MAX_TIME_MS
    doc = _render_all([path])
    assert doc["applications"][0]["end_time"].startswith("9999-12-31T23:59:59.99")  # fmt divides as float


def test_a_line_of_100000_brackets_is_counted_and_skipped(tmp_path: Path) -> None:
    lines = [*LINES[:FIRST_TASK_END], b"[" * 100_000 + b"\n", *LINES[FIRST_TASK_END:]]
    nested = b'{"Event":"SparkListenerTaskEnd","Stage ID":0,"Task Metrics":' + b"[" * 100_000 + b"\n"
    lines.insert(FIRST_TASK_END + 5, nested)
    app = _read(_write(tmp_path, "deep", lines))
    assert app.integrity.unparsed_lines == 2
    assert app.stages == REFERENCE.stages


@pytest.mark.parametrize("value", [2**63, 2**70, -1, -(2**40)])
def test_a_metric_out_of_range_rejects_its_task_end(tmp_path: Path, value: int) -> None:
    lines = _edited(FIRST_TASK_END, _set(("Task Metrics", "Executor Run Time"), value))
    app = _read(_write(tmp_path, "metric", lines))
    assert app.integrity.unparsed_lines == 1
    assert app.integrity.task_end_events == REFERENCE.integrity.task_end_events - 1
    assert sum(s.metrics.executor_run_time_ms for s in app.stages) >= 0


@pytest.mark.parametrize("field,value", [
    (("Task Metrics", "Shuffle Write Metrics", "Shuffle Bytes Written"), -3),
    (("Task Metrics", "Shuffle Read Metrics", "Remote Bytes Read"), -3),
    (("Task Metrics", "Input Metrics", "Bytes Read"), -3),
    (("Stage ID",), -1),
    (("Task Info", "Task ID"), -1),
])
def test_negative_numbers_never_reach_the_json(tmp_path: Path, field: tuple[str, ...], value: int) -> None:
    def edit(event: dict) -> None:
        target = event
        for key in field[:-1]:
            target = target.setdefault(key, {})
        target[field[-1]] = value
    path = _write(tmp_path, "negative", _edited(FIRST_TASK_END, edit))
    doc = _render_all([path])  # validates against the schema
    assert doc["applications"][0]["integrity"]["unparsed_lines"] == 1


def test_two_shuffle_reads_whose_sum_overflows_int64_reject_the_line(tmp_path: Path) -> None:
    def edit(event: dict) -> None:
        event["Task Metrics"]["Shuffle Read Metrics"] = {"Remote Bytes Read": 2**63 - 1,
                                                         "Local Bytes Read": 2}
    app = _read(_write(tmp_path, "sum", _edited(FIRST_TASK_END, edit)))
    assert app.integrity.unparsed_lines == 1
    assert "out of range" in (app.integrity.first_error or "")


def test_negative_ids_and_counts_elsewhere_are_rejected(tmp_path: Path) -> None:
    lines = list(LINES)
    for i, line in enumerate(LINES):
        if b'"SparkListenerJobStart"' in line[:40]:
            lines[i] = _edited(i, _set(("Job ID",), -1))[i]
        elif b'"SparkListenerStageSubmitted"' in line[:40]:
            lines[i] = _edited(i, _set(("Stage Info", "Number of Tasks"), -5))[i]
    doc = _render_all([_write(tmp_path, "ids", lines)])
    assert doc["applications"][0]["integrity"]["unparsed_lines"] == 3  # one job start, two stages


BAD_LINES = [
    b'{"Event":"SparkListenerTaskEnd","Stage ID":NaN,"Task Info":{"Task ID":1}}\n',
    b'{"Event":"SparkListenerJobStart","Job ID":Infinity}\n',
    b'{"Event":"SparkListenerApplicationStart","App Name":"x","Timestamp":1e400}\n',
    b'{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":null}}\n',
    b'{"Event":"SparkListenerTaskStart","Stage ID":0,"Task Info":{"Task ID":null}}\n',
    b'{"Event":"SparkListenerApplicationEnd","Timestamp":-5}\n',
]


def test_a_log_without_one_usable_event_is_an_error_not_an_empty_app(tmp_path: Path) -> None:
    path = _write(tmp_path, "all-bad", BAD_LINES * 3)
    with pytest.raises(EventLogError) as caught:
        _read(path)
    message = caught.value.message
    lines = len(BAD_LINES) * 3
    assert message.startswith(f"no readable Spark event in {lines} lines: first problem: line 1: ")
    doc = _render_all([path, EXAMPLE])
    assert len(doc["applications"]) == 1
    assert [e["source"] for e in doc["errors"]] == [str(path)]


def test_a_cut_last_line_is_still_a_truncated_tail_not_a_malformed_line(tmp_path: Path) -> None:
    app = _read(_write(tmp_path, "cut", [*LINES[:-1], LINES[-1][:50]]))  # cut after the event name
    assert app.integrity.truncated_tail and app.integrity.unparsed_lines == 0


# -- property tests of the line decoder ------------------------------------------------------

_INTS = st.one_of(st.integers(-(2**65), 2**65), st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, -1]))
_JUNK = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from([b"[" * 5000, b"{" * 3000, b"NaN", b"1e400", b"null", b"", b"   ", b'{"Event":1}']),
)


@st.composite
def _task_end(draw: st.DrawFn) -> bytes:
    event = json.loads(LINES[FIRST_TASK_END])
    event["Stage ID"] = draw(st.sampled_from([0, 1, draw(_INTS)]))
    event["Task Info"]["Task ID"] = draw(_INTS)
    event["Task Info"]["Finish Time"] = draw(st.sampled_from([1430917386919, draw(_INTS)]))
    event["Task Metrics"]["Executor Run Time"] = draw(_INTS)
    event["Task End Reason"]["Reason"] = draw(st.sampled_from(["Success", "TaskKilled", "Resubmitted", "X"]))
    return json.dumps(event).encode()


_LINE = st.one_of(_task_end(), _JUNK, st.sampled_from([line.rstrip(b"\n") for line in LINES[:8]]))


@settings(derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inserted=st.lists(st.tuples(st.integers(0, len(LINES)), _LINE), max_size=6),
       block=st.sampled_from([64, 1000, 1 << 16]))
def test_decoding_never_fails_and_does_not_depend_on_block_size(
        inserted: list[tuple[int, bytes]], block: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    lines = list(LINES)
    for position, line in sorted(inserted, reverse=True):
        lines.insert(position, line + b"\n")
    path = tmp_path_factory.mktemp("prop") / "log"
    path.write_bytes(b"".join(lines))
    whole = _read_or_error(path)
    original = reader.BLOCK
    reader.BLOCK = block  # tiny blocks: most lines decoded alone, line by line
    try:
        assert _read_or_error(path) == whole
    finally:
        reader.BLOCK = original
    if isinstance(whole, Application):
        assert whole.integrity.unparsed_lines <= len(inserted)
        assert all(s.metrics.executor_run_time_ms >= 0 for s in whole.stages)


def _read_or_error(path: Path) -> Application | str:
    try:
        return _read(path)
    except EventLogError as err:  # the only exception bad input may raise
        return str(err)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(value=_INTS)
def test_a_metric_is_kept_exactly_when_it_fits_int64(value: int) -> None:
    event = json.loads(LINES[FIRST_TASK_END])
    event["Task Metrics"]["JVM GC Time"] = value
    line = json.dumps(event).encode() + b"\n"
    for block in (line, line * 2):  # one line decoded alone; a block decoded in one call
        batch = task_batch.decode_block(block, 1, final=True, head=None)
        count = len(block) // len(line)
        if 0 <= value < 2**63:
            assert not batch.errors and batch.ends[:, task_batch.METRICS + 3].tolist() == [value] * count
        else:
            assert len(batch.errors) == count and len(batch.ends) == 0
