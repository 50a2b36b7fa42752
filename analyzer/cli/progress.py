"""A rich progress bar on stderr, driven by the API's (sources found, logs read) callbacks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

PROGRESS_MIN_LOGS = 4


class ProgressBar:
    """Context manager yielding (on_sources, on_progress) callbacks that drive a rich bar on stderr."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = sys.stderr.isatty() if wanted is None else wanted
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> tuple[Callable[[int], None], Callable[[int, int], None]]:
        return self._start, self._advance

    def _start(self, total: int) -> None:
        if not self.wanted or total < PROGRESS_MIN_LOGS:
            return
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(transient=True, console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("reading event logs", total=total)

    def _advance(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


