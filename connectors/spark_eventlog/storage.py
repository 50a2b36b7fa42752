"""Local files through the OS, everything with a URL scheme through fsspec.

Keeping local paths off fsspec keeps the hot read path plain ``open()``; object stores
(``s3://``, ``gs://``, ``abfs://``, ``hdfs://``) need their fsspec backend, which ships
in an extra, so a missing one becomes a one-line error that names the extra.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from connectors.spark_eventlog.errors import EventLogError

# fsspec protocol -> the pip extra of deanalyze that installs its backend.
EXTRA_FOR_PROTOCOL = {
    "s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "abfs": "azure", "abfss": "azure",
    "az": "azure", "adl": "azure", "hdfs": "hdfs", "webhdfs": "hdfs",
}


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
        """The canonical path of a folder (symbolic links resolved), to search each folder once."""
        return os.path.realpath(path)

    def open(self, path: str) -> BinaryIO:
        """``path`` opened unbuffered (the reader adds its own large buffer); the caller closes it."""
        try:
            return open(path, "rb", buffering=0)  # noqa: SIM115 - caller closes
        except OSError as err:
            raise EventLogError(f"cannot open: {err.strerror}", path) from None


class FsspecStorage(Storage):
    """Object stores and remote file systems behind one fsspec file system."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError:  # pragma: no cover - fsspec is a base dependency
            raise EventLogError("reading URLs needs fsspec: pip install fsspec", url) from None
        protocol = url.split("://", 1)[0].lower()
        try:
            self.fs: Any = fsspec.filesystem(protocol)
        except (ImportError, ValueError) as err:
            extra = EXTRA_FOR_PROTOCOL.get(protocol)
            hint = f"pip install 'deanalyze[{extra}]'" if extra else str(err).splitlines()[0]
            raise EventLogError(f"no backend for {protocol}:// URLs; install it with {hint}", url) from None
        self.protocol = protocol

    def normalize(self, path: str) -> str:
        """``path`` without a trailing slash, so joined child paths have exactly one."""
        return path.rstrip("/") if not path.endswith("://") else path

    def _call(self, path: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(self._strip(path), *args)
        except FileNotFoundError:
            raise EventLogError("no such file or folder", path) from None
        except Exception as err:  # any backend error: permissions, network, auth
            raise EventLogError(f"cannot read URL: {type(err).__name__}: {_first_line(err)}", path) from None

    def _strip(self, path: str) -> str:
        return self.fs._strip_protocol(path)

    def exists(self, path: str) -> bool:
        """Whether the object or prefix exists; backend errors become ``EventLogError``."""
        return bool(self._call(path, self.fs.exists))

    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder (a prefix, on object stores)."""
        return bool(self._call(path, self.fs.isdir))

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
        return self._call(path, self.fs.open, "rb")  # type: ignore[no-any-return]


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
