"""Reading in several processes gives the figures of reading in one, and a dead process costs
only the logs it was reading.

- A big plain log is decoded in two halves (``connectors.spark_eventlog.split``): the
  application must equal the one-process read, also when the worker dies or fails.
- ``read_logs(jobs=N|"auto")``: a pool worker killed mid-read (``os.kill``, as the OOM killer
  does) turns its log into one error; every other log is read as in one process.
"""

from __future__ import annotations

import os
import pickle
import signal
from pathlib import Path

import pytest
from split_forks import count_forks

import analyzer.api.spark as spark_api
from analyzer.core.model import Application, InputError
from connectors.spark_eventlog import split
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.reader import read_application

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "spark-events"
PLAIN = [EXAMPLES / "local-1430917381534", EXAMPLES / "app-20261128152019-0000",
         EXAMPLES / "application_1553914137147_0018"]


def _source(path: Path) -> LogSource:
    return LogSource(display=str(path), files=(str(path),))


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, split_at: int) -> Application:
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", split_at)
    monkeypatch.setattr(split, "_busy", lambda: False)  # split even on a loaded test machine
    return read_application(_source(path))


def test_a_forced_split_really_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    forks = count_forks(monkeypatch)
    _read(PLAIN[0], monkeypatch, split_at=1)
    assert len(forks) == 1 and 0 < forks[0] < PLAIN[0].stat().st_size


@pytest.mark.parametrize("path", PLAIN, ids=lambda p: p.name)
def test_a_split_read_equals_a_one_process_read(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _read(path, monkeypatch, split_at=1 << 62)
    assert _read(path, monkeypatch, split_at=1) == alone


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_the_split_point_does_not_change_figures_or_line_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    lines = PLAIN[0].read_bytes().splitlines(keepends=True)
    # malformed lines in both halves: counts and the first error's line number must not move
    lines.insert(len(lines) // 5, b"{not json\n")
    lines.insert(len(lines) * 4 // 5, b'{"Event":"SparkListenerJobEnd","Job ID":-1}\n')
    path = tmp_path / "log"
    path.write_bytes(b"".join(lines))
    alone = _read(path, monkeypatch, split_at=1 << 62)
    monkeypatch.setattr(split, "WORKER_SHARE", share)
    both = _read(path, monkeypatch, split_at=1)
    assert both == alone and alone.integrity.unparsed_lines == 2


def test_a_dead_split_worker_costs_time_not_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _read(PLAIN[1], monkeypatch, split_at=1 << 62)

    def die(path: str, start: int, fd: int, last_file: bool = True) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(split, "_worker_main", die)
    assert _read(PLAIN[1], monkeypatch, split_at=1) == alone


def test_a_worker_lost_after_some_batches_is_resumed_where_it_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = PLAIN[1].read_bytes().splitlines(keepends=True)
    lines.insert(len(lines) * 3 // 4, b"{not json\n")  # its line number must survive the resume
    path = tmp_path / "log"
    path.write_bytes(b"".join(lines))
    alone = _read(path, monkeypatch, split_at=1 << 62)
    monkeypatch.setattr(split, "BLOCK", 4096)  # many small batches
    sent: list[int] = []

    def die_midway(path: str, start: int, fd: int, last_file: bool = True) -> None:
        batches = list(split.decode_range(path, start, last_file=last_file))
        with os.fdopen(fd, "wb") as pipe:
            for batch in batches[:2]:
                pickle.dump(batch, pipe)
            pipe.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(split, "_worker_main", die_midway)
    real = split.decode_range

    def counting(*args: object, **kwargs: object) -> object:
        sent.append(int(args[1]))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("connectors.spark_eventlog.reader.decode_range", counting)
    assert _read(path, monkeypatch, split_at=1) == alone
    middle = split.split_point(split.Storage(), str(path), None)
    assert middle is not None and sent[0] == 0  # the main process's own part first
    assert len(sent) == 2 and sent[1] >= middle + 2 * 1000  # then the rest, after the two batches it got


def test_small_compressed_or_busy_logs_are_read_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "_busy", lambda: False)
    storage = split.Storage()
    assert split.split_point(storage, str(PLAIN[0]), None) is None  # below SPLIT_MIN_BYTES
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1)
    assert split.split_point(storage, str(PLAIN[0]), "zstd") is None
    assert split.split_point(storage, str(PLAIN[0]), None) is not None
    monkeypatch.setattr(split, "_busy", lambda: True)
    assert split.split_point(storage, str(PLAIN[0]), None) is None
    monkeypatch.setattr(split, "_busy", lambda: False)
    monkeypatch.setattr(split, "_can_fork", lambda: False)
    assert split.split_point(storage, str(PLAIN[0]), None) is None


def _poisoned_reader(real: object) -> object:
    def read(source: LogSource) -> Application:
        if "poison" in source.display:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
        return real(source)  # type: ignore[operator]
    return read


@pytest.mark.parametrize("jobs", [2, "auto"])
def test_a_killed_worker_costs_only_its_own_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                jobs: int | str) -> None:
    poison = tmp_path / "poison-log"
    poison.write_bytes(PLAIN[0].read_bytes())
    sources = [_source(p) for p in (PLAIN[0], poison, PLAIN[1], PLAIN[2], PLAIN[0])]
    expected = [read_application(s) for s in sources if "poison" not in s.display]
    monkeypatch.setattr(spark_api, "read_application", _poisoned_reader(read_application))
    monkeypatch.setattr(spark_api, "_usable_cpus", lambda: 2)
    seen: list[int] = []
    results = spark_api.read_logs(sources, jobs=jobs, progress=lambda done, total: seen.append(done))
    assert len(results) == len(sources) and seen == list(range(1, len(sources) + 1))
    error = results[1]
    assert isinstance(error, InputError) and error.source == str(poison)
    assert "died" in error.message
    assert [r for i, r in enumerate(results) if i != 1] == expected


def test_jobs_auto_uses_the_usable_cpus_and_never_more_than_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_api, "_usable_cpus", lambda: 8)
    assert spark_api.resolve_jobs("auto", 3) == 3
    assert spark_api.resolve_jobs("auto", 100) == 8
    assert spark_api.resolve_jobs(4, 100) == 4
    assert spark_api.resolve_jobs(0, 10) == 1
    with pytest.raises(ValueError):
        spark_api.resolve_jobs("many", 10)
