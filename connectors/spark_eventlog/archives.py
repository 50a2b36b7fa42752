"""Event logs inside a ``.zip`` archive, as the History Server's "Download" button makes them.

A member is addressed as ``<archive>!/<member>``. Members are read straight from the
archive (no extraction to disk); rolling ``eventlog_v2_*`` folders inside the archive are
grouped into one log, like their unzipped counterparts.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from connectors.spark_eventlog.errors import EventLogError

SEPARATOR = "!/"
_ROLLING_DIR = re.compile(r"(^|/)eventlog_v2_[^/]+/$")
_ROLLING_EVENTS = re.compile(r"^events_(\d+)_")


def is_archive(path: str) -> bool:
    """A zip archive of event logs (by name)."""
    return path.lower().endswith(".zip")


def member_groups(archive: BinaryIO, path: str) -> Iterator[tuple[tuple[str, ...], bool | None]]:
    """(member names in replay order, complete hint) of every log in the archive."""
    try:
        names = [i.filename for i in zipfile.ZipFile(archive).infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as err:
        raise EventLogError(f"not a readable zip archive: {err}", path) from None
    rolling: dict[str, list[str]] = {}
    for name in names:
        folder = posixpath.dirname(name) + "/"
        if _ROLLING_DIR.search(folder):
            rolling.setdefault(folder, []).append(name)
        elif not posixpath.basename(name).startswith((".", "_")):
            yield (name,), (False if name.endswith(".inprogress") else None)
    for members in rolling.values():
        events = sorted((int(m.group(1)), n) for n in members
                        if (m := _ROLLING_EVENTS.match(posixpath.basename(n))))
        status = [n for n in members if posixpath.basename(n).startswith("appstatus_")]
        hint = None if not status else not any(n.endswith(".inprogress") for n in status)
        if events:
            yield tuple(n for _, n in events), hint


def split_member(path: str) -> tuple[str, str]:
    """``archive.zip!/dir/log`` -> (``archive.zip``, ``dir/log``)."""
    archive, _, member = path.partition(SEPARATOR)
    return archive, member


def open_member(archive: BinaryIO, path: str) -> BinaryIO:
    """The member named by ``path`` as a stream; closing it closes the archive too.

    Only stored and deflated members are read (what the History Server writes): zipfile
    inflates those in bounded pieces, while its bzip2 and lzma readers can turn a few
    kilobytes into gigabytes in one call. Encrypted members are refused by name.
    """
    _, member = split_member(path)
    try:
        zf = zipfile.ZipFile(archive)
        info = zf.getinfo(member)
        _check_member(info, path)
        stream = zf.open(info)
    except EventLogError:
        archive.close()
        raise
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, ValueError) as err:
        archive.close()
        raise EventLogError(f"cannot read zip member: {' '.join(str(err).split())[:200]}", path) from None
    original_close = stream.close

    def close() -> None:
        original_close()
        zf.close()
        archive.close()

    stream.close = close  # type: ignore[method-assign]
    return stream  # type: ignore[return-value]


_READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 93: "zstd", 99: "AES-encrypted"}


def _check_member(info: zipfile.ZipInfo, path: str) -> None:
    """Refuse encrypted members and compression methods deanalyze does not inflate."""
    if info.flag_bits & 0x1:
        raise EventLogError("zip member is encrypted (password-protected); extract it first", path)
    if info.compress_type not in _READABLE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise EventLogError(f"zip member uses unsupported compression ({method}); deanalyze reads stored "
                            "and deflated members", path)
