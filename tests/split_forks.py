"""Count the split-read workers a test forks (``connectors.spark_eventlog.split.SplitWorker``)."""

from __future__ import annotations

import pytest

from connectors.spark_eventlog import split


def count_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The split points of the workers forked from now on, in order (they still really fork)."""
    forks: list[int] = []
    real = split.SplitWorker.__init__

    def counting(self: split.SplitWorker, path: str, start: int, last_file: bool = True) -> None:
        forks.append(start)
        real(self, path, start, last_file)

    monkeypatch.setattr(split.SplitWorker, "__init__", counting)
    return forks
