"""When a big log is read on two cores, and what the main process does while it waits.

- ``split._busy``: the split is off only when other runnable threads already fill every CPU
  (a second process then only queues); one busy neighbour on two CPUs still leaves room.
- ``split.while_waiting``: the caller's head-start work runs once, in the main process,
  between its own part and the worker's, and never turns into an error of the log.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from split_forks import count_forks

from connectors.spark_eventlog import split
from connectors.spark_eventlog.discovery import LogSource
from connectors.spark_eventlog.reader import read_application

LOG = Path(__file__).resolve().parents[2] / "examples" / "spark-events" / "app-20261128152019-0000"


@pytest.mark.parametrize(("runnable", "cpus", "busy"), [
    (1, 2, False),  # only this process
    (2, 2, False),  # one neighbour: two processes get 4/3 of the machine, one gets 1
    (3, 2, True),   # two neighbours fill both CPUs
    (4, 4, False),
    (5, 4, True),
])
def test_split_only_when_a_cpu_is_left(runnable: int, cpus: int, busy: bool,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "_runnable_now", lambda **_: runnable)
    monkeypatch.setattr(split, "_usable_cpus", lambda: cpus)
    assert split._busy() is busy


def test_without_proc_loadavg_the_load_average_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "_runnable_now", lambda **_: None)
    monkeypatch.setattr(split, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(split.os, "getloadavg", lambda: (2.0, 0.0, 0.0))
    assert split._busy()
    monkeypatch.setattr(split.os, "getloadavg", lambda: (1.9, 9.0, 9.0))
    assert not split._busy()


def test_runnable_now_takes_the_fewest_of_its_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([b"0.1 0.2 0.3 5/100 7\n", b"0.1 0.2 0.3 2/100 7\n", b"0.1 0.2 0.3 4/100 7\n"])

    class FakeFile:
        def __enter__(self) -> FakeFile:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return next(answers)

    monkeypatch.setattr("builtins.open", lambda *a, **k: FakeFile())
    assert split._runnable_now(samples=3, gap_s=0) == 2


def test_runnable_now_is_none_when_the_file_is_odd(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("no /proc")

    monkeypatch.setattr("builtins.open", broken)
    assert split._runnable_now() is None


def _split_read(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(split, "_busy", lambda: False)
    return read_application(LogSource(display=str(LOG), files=(str(LOG),)))


def test_waiting_work_runs_once_during_a_split_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    with split.while_waiting(lambda: calls.append("work")):
        first = _split_read(monkeypatch)
        _split_read(monkeypatch)
    assert calls == ["work"]  # once per ``with``, not once per log
    with split.while_waiting(lambda: calls.append("again")):
        pass
    assert calls == ["work"]  # nothing read: nothing run
    assert first == _split_read(monkeypatch)  # and outside any ``with`` nothing runs at all


def test_a_failing_waiting_work_is_not_an_error_of_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ImportError("a module that cannot load")

    with split.while_waiting(broken):
        app = _split_read(monkeypatch)
    assert app == _split_read(monkeypatch)


def test_a_one_process_read_never_runs_the_waiting_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1 << 62)
    with split.while_waiting(lambda: calls.append("work")):
        read_application(LogSource(display=str(LOG), files=(str(LOG),)))
    assert calls == []


def test_a_quiet_first_sample_settles_it_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []

    class FakeFile:
        def __enter__(self) -> FakeFile:
            reads.append(1)
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return b"0.1 0.2 0.3 2/100 7\n"

    monkeypatch.setattr("builtins.open", lambda *a, **k: FakeFile())
    monkeypatch.setattr(split.time, "sleep", lambda _s: pytest.fail("waited on a quiet machine"))
    assert split._runnable_now(samples=3, enough=2) == 2 and len(reads) == 1


def _early_source(path: Path) -> LogSource:
    return LogSource(display=str(path), files=(str(path),))


@pytest.fixture
def log_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A copy of the small example log that splits (threshold 1 byte, machine never busy)."""
    log = tmp_path / "app-1"
    log.write_bytes(LOG.read_bytes())
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(split, "_busy", lambda: False)
    return log


def test_an_early_worker_is_adopted_by_the_read_of_that_file(monkeypatch: pytest.MonkeyPatch,
                                                             log_copy: Path) -> None:
    log = log_copy
    forks = count_forks(monkeypatch)
    split.start_early(str(log))
    assert len(forks) == 1 and split._early
    app = read_application(_early_source(log))
    assert len(forks) == 1 and not split._early  # adopted, not forked again
    monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1 << 62)
    assert app == read_application(_early_source(log))  # the figures of a one-process read


def test_an_early_worker_for_a_changed_file_is_not_adopted(log_copy: Path) -> None:
    log = log_copy
    split.start_early(str(log))
    (worker,) = split._early.values()
    with log.open("ab") as fh:  # the log grew (still being written) after the early start
        fh.write(b"\n")
    assert split.adopt_early(str(log)) is None
    worker.close()
    split._early.clear()


@pytest.mark.parametrize("name", ["app-3.zst", "missing", ""])
def test_no_early_worker_for_compressed_missing_or_small_files(name: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "_busy", lambda: False)
    if name == "app-3.zst":
        (tmp_path / name).write_bytes(b"x" * 100)
        monkeypatch.setattr(split, "SPLIT_MIN_BYTES", 1)
    path = str(tmp_path / name) if name else str(LOG)  # LOG itself is below SPLIT_MIN_BYTES
    split.start_early(path)
    assert not split._early
