"""One audit of a week at a time: an advisory lock on ``<week>/.lock`` held for the whole run.

Why: two audits of the same week at once interleave their writes; one's clean-up of files
the earlier summary listed deletes the report the other just wrote, and a summary can list a
file that is gone. A whole-week run (and ``--summary-only``) holds the lock exclusively; a
``--source`` run holds it shared (so that the per-source tasks of a scheduler still run side
by side, each writing only its own files) plus an exclusive lock of its own source. A run
that cannot get its locks within ``DEANALYZE_AUDIT_WAIT`` seconds (default 60) fails with one
line (``AuditBusyError``, exit 2 like a busy run history).

A killed run leaves its temporary files (``.deanalyze-*``) behind. Whoever holds the week
alone removes them on start: with the exclusive lock no other writer is alive, so every such
file belongs to a dead run.

The lock files are removed when the run ends (the week folder holds only reports), so a
waiter may wake up holding a file that is gone: it checks that the path still names the file
it locked and otherwise locks the new one (the usual remove-while-locked protocol).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from analyzer.api.audit_config import AuditConfigError
from analyzer.api.output import TEMP_PREFIX, OutputError, check_folder

LOCK_NAME = ".lock"
WAIT_ENV = "DEANALYZE_AUDIT_WAIT"
DEFAULT_WAIT_S = 60.0
_POLL_S = 0.1


class AuditBusyError(AuditConfigError):
    """Another audit of the same week held the lock for longer than the wait allows."""


def wait_seconds() -> float:
    """``DEANALYZE_AUDIT_WAIT`` (seconds, >= 0), else the default; a bad value keeps the default."""
    try:
        value = float(os.environ.get(WAIT_ENV, ""))
    except ValueError:
        return DEFAULT_WAIT_S
    return value if value >= 0 else DEFAULT_WAIT_S


@contextlib.contextmanager
def week_lock(base: Path, folder: Path, sources: Sequence[str] = ()) -> Iterator[None]:
    """Hold the week ``folder`` (exclusively, or shared plus each of ``sources`` exclusively).

    Creates the folder under ``base``; a base that cannot take it is an ``OutputError``
    (exit 5) before any source runs.
    """
    try:
        if not base.exists():
            base.mkdir(parents=True, exist_ok=True)
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise OutputError(str(base), err.strerror or type(err).__name__) from None
    check_folder(folder, str(folder))
    deadline = time.monotonic() + wait_seconds()
    with contextlib.ExitStack() as held:
        clean = lambda: remove_temporary_files(folder)  # noqa: E731
        week = fcntl.LOCK_SH if sources else fcntl.LOCK_EX
        held.enter_context(_locked(folder / LOCK_NAME, week, deadline, folder, on_alone=clean))
        for name in sources:
            held.enter_context(_locked(folder / f"{LOCK_NAME}-{name}", fcntl.LOCK_EX, deadline, folder, name))
        yield


@contextlib.contextmanager
def _locked(path: Path, mode: int, deadline: float, folder: Path, source: str | None = None,
            on_alone: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold ``path`` in ``mode``; the last holder removes it on release.

    ``on_alone`` runs while this process holds the file exclusively: after acquiring it so,
    or, for a shared hold, when a first try for it alone succeeds (then it settles for sharing).
    """
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise OutputError(str(path.parent), err.strerror or type(err).__name__) from None
        try:
            if mode == fcntl.LOCK_SH and _try(fd, fcntl.LOCK_EX) and _still_there(fd, path) and on_alone:
                on_alone()
            _acquire(fd, mode, deadline, folder, source)
        except BaseException:
            os.close(fd)
            raise
        if _still_there(fd, path):
            break
        os.close(fd)  # its last holder removed it meanwhile: lock the file that is there now
    try:
        if mode == fcntl.LOCK_EX and on_alone:
            on_alone()
        yield
    finally:
        # A shared holder removes the file only when it finds itself alone (the upgrade succeeds).
        if mode == fcntl.LOCK_EX or _try(fd, fcntl.LOCK_EX):
            with contextlib.suppress(OSError):
                path.unlink()
        os.close(fd)  # closing releases the lock


def _still_there(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _acquire(fd: int, mode: int, deadline: float, folder: Path, source: str | None = None) -> None:
    """Poll for the lock until ``deadline``; polling (not a blocking flock) keeps the wait bounded."""
    while not _try(fd, mode):
        if time.monotonic() >= deadline:
            what = f"source {source!r} of " if source else ""
            raise AuditBusyError(f"audit: another audit of {what}{folder} is still running after "
                                 f"{wait_seconds():g} s (wait longer with {WAIT_ENV}=SECONDS)")
        time.sleep(_POLL_S)


def remove_temporary_files(folder: Path) -> None:
    """Temporary files of a killed run, in the week folder and its per-source results."""
    for where in (folder, folder / ".sources"):
        for path in where.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                path.unlink()
