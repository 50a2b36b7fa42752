"""Local files through the OS, everything with a URL scheme through fsspec.

Keeping local paths off fsspec keeps the hot read path plain ``open()``; object stores
(``s3://``, ``gs://``, ``abfs://``, ``hdfs://``) need their fsspec backend, which ships
in an extra, so a missing one becomes a one-line error that names the extra.

Every failure is one :class:`EventLogError` line naming the (redacted) path: fsspec
backends raise anything from ``TypeError`` to an 89-line JVM dump, so all of it is caught
here. Network calls get a timeout where the backend takes one and a few retries with
backoff within a time budget. Only regular files are opened: a FIFO would block forever
and a device such as ``/dev/zero`` never ends.
"""

from __future__ import annotations

import inspect
import os
import stat
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

from connectors.spark_eventlog.errors import EventLogError

# fsspec protocol -> the pip extra of deanalyze that installs its backend.
EXTRA_FOR_PROTOCOL = {
    "s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "abfs": "azure", "abfss": "azure",
    "az": "azure", "adl": "azure", "hdfs": "hdfs", "webhdfs": "hdfs", "http": "http", "https": "http",
}
NETWORK_TIMEOUT_S = 20.0  # per connection attempt or request, where a backend takes a timeout
_ATTEMPTS = 3
_BACKOFF_S = 0.25  # then doubled: 0.25 s, 0.5 s
_BUDGET_S = 60.0  # no new attempt starts after this long
# Errors that another attempt cannot fix: fail at once.
_PERMANENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, ValueError,
              TypeError, KeyError, ImportError, NotImplementedError, EventLogError)
_MISSING = "no such file or folder"
T = TypeVar("T")


class Storage:
    """The few file-system operations discovery and reading need."""

    def normalize(self, path: str) -> str:
        """``path`` as ``open()`` takes it: a ``file://`` prefix is dropped."""
        return path[len("file://"):] if path.startswith("file://") else path

    def exists(self, path: str) -> bool:
        """Whether ``path`` is an existing file or folder."""
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder: a rolling-log directory, or one to search for logs."""
        return os.path.isdir(path)

    def check_regular(self, path: str) -> None:
        """Raise ``EventLogError`` unless ``path`` is a regular file (or a folder, checked elsewhere)."""
        try:
            mode = os.stat(path).st_mode
        except OSError as err:
            raise EventLogError(f"cannot open: {err.strerror}", path) from None
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise _not_regular(mode, path)

    def listdir(self, path: str) -> list[str]:
        """The entry names in folder ``path``; an unreadable folder is an ``EventLogError``."""
        try:
            return os.listdir(path)
        except OSError as err:
            raise EventLogError(f"cannot list folder: {err.strerror}", path) from None

    def join(self, path: str, name: str) -> str:
        """The path of ``name`` inside folder ``path``."""
        return os.path.join(path, name)

    def real_path(self, path: str) -> str:
        """The canonical path (symbolic links resolved), to search each folder and read each file once."""
        return os.path.realpath(path)

    def open(self, path: str) -> BinaryIO:
        """``path`` opened unbuffered (the reader adds its own large buffer); the caller closes it.

        Opened non-blocking and checked with ``fstat`` before any read, so a FIFO that
        appeared after discovery cannot block the run (no window between check and open).
        """
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as err:
            raise EventLogError(f"cannot open: {err.strerror}", path) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise _not_regular(mode, path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, "rb", buffering=0)  # noqa: SIM115 - caller closes


def _not_regular(mode: int, path: str) -> EventLogError:
    """Why a FIFO, socket or device is skipped: it could block the run or never end."""
    kind = ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
            else "character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode)
            else "special file")
    return EventLogError(f"not a regular file ({kind}): skipped; save the data to a file first", path)


class FsspecStorage(Storage):
    """Object stores and remote file systems behind one fsspec file system."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
            import fsspec.core
        except ImportError:  # pragma: no cover - fsspec is a base dependency
            raise EventLogError("reading URLs needs fsspec: pip install fsspec", url) from None
        protocol = url.split("://", 1)[0].lower()
        self.protocol = protocol
        try:
            cls = fsspec.get_filesystem_class(protocol)
        except (ImportError, ValueError) as err:
            extra = EXTRA_FOR_PROTOCOL.get(protocol)
            hint = f"pip install 'deanalyze[{extra}]'" if extra else _first_line(err)
            raise EventLogError(f"no backend for {protocol}:// URLs; install it with {hint}", url) from None
        options = _timeout_options(protocol, cls)
        self.fs: Any = _retrying(url, f"cannot open {protocol}:// file system",
                                 lambda: fsspec.core.url_to_fs(url, **options)[0])

    def normalize(self, path: str) -> str:
        """``path`` without a trailing slash, so joined child paths have exactly one."""
        return path.rstrip("/") if not path.endswith("://") else path

    def _call(self, path: str, fn: Callable[..., T], *args: Any) -> T:
        return _retrying(path, "cannot read URL", lambda: fn(self.fs._strip_protocol(path), *args))

    def exists(self, path: str) -> bool:
        """Whether the object or prefix exists; backend errors become ``EventLogError``.

        ``info`` rather than fsspec's ``exists``, which answers False to every error and so
        would call an unreachable server "no such file".
        """
        try:
            self._call(path, self.fs.info)
        except EventLogError as err:
            if err.message == _MISSING:
                return False
            raise
        return True

    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder (a prefix, on object stores)."""
        return bool(self._call(path, self.fs.isdir))

    def check_regular(self, path: str) -> None:
        """Object stores hold only objects and prefixes: nothing can block or never end."""

    def listdir(self, path: str) -> list[str]:
        """The entry names under ``path`` (fsspec lists full paths; only the last part is kept)."""
        entries = self._call(path, self.fs.ls, False)
        return [str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries]

    def join(self, path: str, name: str) -> str:
        """The URL of ``name`` under ``path``; URLs always use ``/``."""
        return f"{path.rstrip('/')}/{name}"

    def real_path(self, path: str) -> str:
        """Object stores have no links: a URL is its own identity."""
        return path.rstrip("/")

    def open(self, path: str) -> BinaryIO:
        """``path`` opened through fsspec, which buffers itself; the caller closes it."""
        return self._call(path, self.fs.open, "rb")


def _timeout_options(protocol: str, cls: type) -> dict[str, Any]:
    """Timeouts and retry settings for backends that accept them (checked against their signature)."""
    t = NETWORK_TIMEOUT_S
    wanted: dict[str, Any] = {
        "timeout": t,  # ftp, github
        "requests_timeout": t,  # gcsfs
        "config_kwargs": {"connect_timeout": t, "read_timeout": t, "retries": {"max_attempts": _ATTEMPTS}},
    }
    try:
        accepted = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in wanted.items() if k in accepted}


def _retrying(path: str, what: str, call: Callable[[], T]) -> T:
    """``call()`` with bounded retries and backoff; any failure becomes one ``EventLogError`` line."""
    start = time.monotonic()
    first: Exception | None = None  # the root cause: later attempts may only say "prior attempt failed"
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return call()
        except FileNotFoundError:
            raise EventLogError(_MISSING, path) from None
        except _PERMANENT as err:
            raise _failure(what, first or err, path, attempt) from None
        except Exception as err:  # network, auth, a backend's own exception types
            first = first or err
            if attempt == _ATTEMPTS or time.monotonic() - start > _BUDGET_S:
                raise _failure(what, first, path, attempt) from None
            time.sleep(_BACKOFF_S * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _failure(what: str, err: BaseException, path: str, attempts: int) -> EventLogError:
    if isinstance(err, EventLogError):
        return err
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    return EventLogError(f"{what}: {type(err).__name__}: {_first_line(err)}{tries}", path)


class ArchiveStorage(Storage):
    """Members of a zip archive (``<archive>!/<member>``) on any other storage."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    def open(self, path: str) -> BinaryIO:
        """The member's bytes, streamed out of the archive."""
        from connectors.spark_eventlog.archives import open_member, split_member

        return open_member(self.inner.open(split_member(path)[0]), path)


def storage_for(path: str) -> Storage:
    """The storage that reads ``path``: the OS for local paths, fsspec for URLs, zip members."""
    if "!/" in path:
        return ArchiveStorage(storage_for(path.partition("!/")[0]))
    if "://" in path and not path.startswith("file://"):
        return FsspecStorage(path)
    return Storage()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else ""
