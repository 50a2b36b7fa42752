"""JVM-free decoders for every compression Spark writes event logs with.

Spark does not use the "standard" container of every codec: lz4 logs are lz4-java
``LZ4BlockOutputStream`` blocks (not LZ4 frames), snappy logs are snappy-java
``SnappyOutputStream`` chunks (not the snappy framing format) and lzf logs are ning
compress-lzf chunks. zstd logs are ordinary zstd frames, but many of them: Spark closes a
frame on every flush. Databricks rotates plain gzip files.

Every decoder is a generator of decompressed chunks wrapped by :class:`DecompressedStream`
(a raw stream) inside an ``io.BufferedReader``, so callers iterate lines at C speed.

A log that is still being written (``.inprogress``) or was cut off ends inside an unfinished
frame/block. That is normal input, not an error: the stream yields every byte decodable
before the cut, ends normally and sets ``truncated``. Anything else that cannot be decoded
(bad magic, impossible lengths, corrupt payload) raises :class:`EventLogError`.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Any, BinaryIO

import cramjam
import lz4.block
import lzf
import zstandard

from connectors.limits import current_limits
from connectors.spark_eventlog.errors import EventLogError
from connectors.spark_eventlog.framing import FramedRaw

_EXTENSIONS = {"zstd": "zstd", "zst": "zstd", "lz4": "lz4", "snappy": "snappy", "lzf": "lzf", "gz": "gz"}
_READ_BUFFER = 1 << 20  # BufferedReader buffer handed to callers: few, large reads.
_RAW_CHUNK = 1 << 20  # bytes pulled from the underlying file per read.
# Compressed bytes per decompress call. Small feeds bound what one call can inflate to (a
# zstd RLE block turns 4 bytes into 128 KiB: at most 32 MiB per 1 KiB; gzip at most ~1032x),
# so a bomb streams instead of allocating gigabytes at once; measured as fast as 64 KiB feeds.
_ZSTD_FEED = 1 << 10
_GZ_FEED = 1 << 14
_MAX_BLOCK = 1 << 26  # sanity bound on a declared block length (lz4-java/snappy-java use <= 32 MiB).

Decoder = Callable[["_Input", "DecompressedStream"], Iterator[bytes]]
"""Yields decompressed chunks; sets ``stream.truncated`` and raises ``EventLogError`` itself."""

_LZ4_HEADER = struct.Struct("<8sBiii")  # magic, token, compressed len, decompressed len, checksum
_LZ4_MAGIC = b"LZ4Block"
_LZ4_RAW, _LZ4_COMPRESSED = 0x10, 0x20
_SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_SNAPPY_HEADER = 16  # magic + BE int32 version + BE int32 min-compatible version
_LZF_MAGIC = b"ZV"


def codec_from_filename(name: str) -> str | None:
    """Canonical codec of an event-log file name, or None when it is not compressed.

    Spark appends ``.compact`` (compacted rolling file) and ``.inprogress`` (app still
    running) after the codec extension, so both are stripped first.
    """
    base = PurePath(name.strip()).name
    for suffix in (".inprogress", ".compact"):
        base = base.removesuffix(suffix)
    _, dot, ext = base.rpartition(".")
    return _EXTENSIONS.get(ext.lower()) if dot else None


def open_decompressed(raw: BinaryIO, codec: str | None, source: str) -> BinaryIO:
    """A buffered stream of the decompressed bytes of ``raw`` (which it takes ownership of).

    The result iterates line by line at C speed and has a boolean ``truncated`` attribute,
    True once EOF was met inside an unfinished frame/block. ``codec`` None passes bytes
    through (straight from ``raw``, no copy). Either way the lines pass a :class:`FramedRaw`,
    which enforces the maximum line length and log size in force (``connectors.limits``).
    """
    name = _EXTENSIONS.get(codec, codec) if codec else None
    if name not in _DECODERS:
        raw.close()
        raise EventLogError(f"unsupported compression codec {codec!r}", source)
    inner = raw if name is None else DecompressedStream(raw, _DECODERS[name], source)
    return _BufferedDecompressed(FramedRaw(inner, source, current_limits()), _READ_BUFFER)


class DecompressedStream(io.RawIOBase):
    """Raw, read-only stream over the chunks a decoder generator yields.

    The decoder gets this stream so it can set :attr:`truncated`; it raises
    :class:`EventLogError` itself for corrupt input.
    """

    def __init__(self, raw: BinaryIO, decoder: Decoder, source: str) -> None:
        super().__init__()
        self.source = source
        self.truncated = False
        self._raw = raw
        self._chunks = decoder(_Input(raw), self)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        """Always readable; never writable or seekable (decompression is one-way)."""
        return True

    def readinto(self, buffer) -> int:
        """Copy the next pending bytes; a decoder chunk may span several calls."""
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk).cast("B")
        out = memoryview(buffer).cast("B")
        n = min(len(out), len(self._pending))
        out[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def readall(self) -> bytes:
        """Join whole chunks: the RawIOBase default reads 8 KiB at a time."""
        parts = [bytes(self._pending)]
        parts.extend(bytes(chunk) for chunk in self._chunks)
        self._pending = memoryview(b"")
        return b"".join(parts)

    def close(self) -> None:
        """Closing the decompressed view closes the compressed file it owns."""
        if not self.closed:
            stop = getattr(self._chunks, "close", None)  # a generator: let it release its decoder
            if stop is not None:
                stop()
            self._raw.close()
        super().close()


class _BufferedDecompressed(io.BufferedReader):
    """``io.BufferedReader`` (C line iteration) exposing the decoder's ``truncated`` flag."""

    @property
    def truncated(self) -> bool:
        """True once the decoder met the end of input inside a frame or block."""
        return bool(getattr(self.raw, "truncated", False))


class _Input:
    """Exact-size reads from the compressed file, tracking the offset for error messages.

    Reads the file in large chunks so block parsers do not pay a syscall per header.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._buf = b""
        self._pos = 0
        self.offset = 0  # bytes of the compressed file consumed so far

    def _fill(self, n: int) -> None:
        while len(self._buf) - self._pos < n:
            more = self._raw.read(max(_RAW_CHUNK, n))
            if not more:
                return
            self._buf = self._buf[self._pos :] + more
            self._pos = 0

    def peek(self, n: int) -> bytes:
        """Up to ``n`` next bytes without consuming them (fewer only at EOF)."""
        self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or fewer only at EOF."""
        out = self.peek(n)
        self._pos += len(out)
        self.offset += len(out)
        return out


def _corrupt(codec: str, what: str, offset: int, stream: DecompressedStream) -> EventLogError:
    return EventLogError(f"corrupt {codec} stream: {what} at byte {offset}", stream.source)


def _plain_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """Uncompressed logs: pass the file through in large chunks."""
    while chunk := inp.read(_RAW_CHUNK):
        yield chunk


def _zstd_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """Concatenated zstd frames, one ``decompressobj`` per frame.

    ``read_across_frames=True`` readers never say whether input ended inside a frame, so
    frames are walked here: a frame object not at ``eof`` when input ends means a cut log.
    """
    dctx = zstandard.ZstdDecompressor()
    yield from _member_chunks(inp, stream, "zstd", dctx.decompressobj, zstandard.ZstdError,
                              flush=False, feed=_ZSTD_FEED)


def _gz_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """gzip, possibly multi-member; a member not at ``eof`` when input ends is a cut file."""
    yield from _member_chunks(inp, stream, "gz", lambda: zlib.decompressobj(wbits=31), zlib.error,
                              flush=True, feed=_GZ_FEED)


def _member_chunks(inp: _Input, stream: DecompressedStream, codec: str, new_member: Callable[[], Any],
                   errors: type[Exception], *, flush: bool, feed: int) -> Iterator[bytes]:
    """Concatenated, independent members (zstd frames, gzip members), one decoder each.

    ``stream.truncated`` ends True when input runs out inside a member: a log still being
    written, or copied mid-write. Corrupt data names the member's starting offset.
    """
    member, member_start, started = new_member(), 0, False
    while data := inp.read(feed):
        base = inp.offset - len(data)
        while data:
            started = True
            try:
                yield member.decompress(data)
            except errors as exc:
                raise _corrupt(codec, _reason(exc), member_start, stream) from None
            if not member.eof:
                break
            member_start = base + len(data) - len(member.unused_data)
            base, data = member_start, member.unused_data
            member, started = new_member(), False
    if started and flush:
        yield member.flush()
    stream.truncated = started


def _reason(exc: Exception) -> str:
    """The library's message without its redundant prefix, on one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.removeprefix("zstd decompressor error: ").removeprefix("Error -3 while decompressing data: ")


def _lz4_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """lz4-java ``LZ4BlockOutputStream`` blocks; streams may be concatenated.

    A stream ends with a header whose lengths are both 0. Input ending anywhere before that
    marker (mid-header, mid-block or after a whole block) is an unfinished log. The
    xxhash32 checksum is not verified: lz4 itself rejects malformed blocks.
    """
    finished = True
    while header := inp.read(_LZ4_HEADER.size):
        start = inp.offset - len(header)
        if len(header) < _LZ4_HEADER.size:
            break
        magic, token, clen, ulen, _checksum = _LZ4_HEADER.unpack(header)
        _check_lz4_header(magic, token, clen, ulen, start, stream)
        finished = clen == 0 and ulen == 0
        if finished:
            continue
        data = inp.read(clen)
        if len(data) < clen:
            if token & 0xF0 == _LZ4_RAW:
                yield data  # a stored block decodes up to the cut
            break
        yield data if token & 0xF0 == _LZ4_RAW else _lz4_block(data, ulen, start, stream)
    else:
        stream.truncated = not finished
        return
    stream.truncated = True


def _check_lz4_header(
    magic: bytes, token: int, clen: int, ulen: int, start: int, stream: DecompressedStream
) -> None:
    """Reject headers lz4-java could not have written."""
    if magic != _LZ4_MAGIC:
        raise _corrupt("lz4", "bad block magic", start, stream)
    method = token & 0xF0
    if method not in (_LZ4_RAW, _LZ4_COMPRESSED):
        raise _corrupt("lz4", f"unknown block method 0x{method:02x}", start, stream)
    if not (0 <= clen <= _MAX_BLOCK and 0 <= ulen <= _MAX_BLOCK) or (method == _LZ4_RAW and clen != ulen):
        raise _corrupt("lz4", f"bad block lengths {clen}/{ulen}", start, stream)


def _lz4_block(data: bytes, ulen: int, start: int, stream: DecompressedStream) -> bytes:
    """Decompress one lz4 block whose decompressed size the header declares."""
    try:
        out = lz4.block.decompress(data, uncompressed_size=ulen)
    except lz4.block.LZ4BlockError:
        raise _corrupt("lz4", "undecodable block", start, stream) from None
    if len(out) != ulen:
        raise _corrupt("lz4", f"block decoded to {len(out)} bytes, expected {ulen}", start, stream)
    return out


def _snappy_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """snappy-java ``SnappyOutputStream``: header, then [BE int32 length][raw snappy block]...

    The header recurs where streams were concatenated (a length prefix never starts with
    0x82); the format has no end marker, so only input ending inside a header or block
    counts as truncated.
    """
    expect_header = True
    while head := inp.peek(1):
        start = inp.offset
        if expect_header or head == _SNAPPY_MAGIC[:1]:
            header = inp.read(_SNAPPY_HEADER)
            if header[:8] != _SNAPPY_MAGIC[: len(header[:8])]:
                raise _corrupt("snappy", "bad stream header", start, stream)
            if len(header) < _SNAPPY_HEADER:
                break
            expect_header = False
            continue
        block = _read_length_prefixed(inp, stream)
        if block is None:
            break
        if _varint(block) > _MAX_BLOCK:  # the declared size, checked before inflating
            raise _corrupt("snappy", "block declares more than 64 MiB", start, stream)
        try:
            yield bytes(cramjam.snappy.decompress_raw(block))
        except cramjam.DecompressionError:
            raise _corrupt("snappy", "undecodable block", start, stream) from None
    else:
        return
    stream.truncated = True


def _varint(data: bytes) -> int:
    """The little-endian base-128 length that opens a raw snappy block (0 if malformed)."""
    value = 0
    for i, byte in enumerate(data[:5]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value
    return 0


def _read_length_prefixed(inp: _Input, stream: DecompressedStream) -> bytes | None:
    """One [BE int32 length][payload] record, or None if input ends inside it."""
    start = inp.offset
    prefix = inp.read(4)
    if len(prefix) < 4:
        return None
    (length,) = struct.unpack(">i", prefix)
    if not 0 < length <= _MAX_BLOCK:
        raise _corrupt("snappy", f"bad block length {length}", start, stream)
    block = inp.read(length)
    return block if len(block) == length else None


def _lzf_chunks(inp: _Input, stream: DecompressedStream) -> Iterator[bytes]:
    """ning compress-lzf chunks, each decoded whole; a stored chunk also decodes up to a cut.

    The format has no end marker, so only input ending inside a chunk counts as truncated.
    """
    while inp.peek(1):
        start = inp.offset
        header = _lzf_header(inp, stream)
        if header is None:
            break
        stored, clen, ulen = header
        data = inp.read(clen)
        if stored:
            yield data
        elif len(data) == clen:
            yield _lzf_block(data, ulen, start, stream)
        if len(data) < clen:
            break
    else:
        return
    stream.truncated = True


def _lzf_header(inp: _Input, stream: DecompressedStream) -> tuple[bool, int, int] | None:
    """(stored?, payload length, decompressed length) of the next chunk; None if cut.

    Header: 'Z','V', type 0 (stored) + BE u16 length, or type 1 + BE u16 compressed
    length + BE u16 decompressed length.
    """
    start = inp.offset
    head = inp.read(3)
    if head[:2] != _LZF_MAGIC[: len(head[:2])] or head[2:] not in (b"", b"\x00", b"\x01"):
        raise _corrupt("lzf", "bad chunk header", start, stream)
    stored = head[2:] == b"\x00"
    lengths = inp.read(2 if stored else 4) if len(head) == 3 else b""
    if len(lengths) < (2 if stored else 4):
        return None
    clen = int.from_bytes(lengths[:2], "big")
    return stored, clen, clen if stored else int.from_bytes(lengths[2:], "big")


def _lzf_block(data: bytes, ulen: int, start: int, stream: DecompressedStream) -> bytes:
    """Decompress one lzf chunk; python-lzf returns None when the output does not fit."""
    try:
        out = lzf.decompress(data, ulen) if ulen else b""
    except ValueError:
        out = None
    if out is None or len(out) != ulen:
        raise _corrupt("lzf", "undecodable chunk", start, stream)
    return out


_DECODERS: dict[str | None, Decoder] = {
    None: _plain_chunks,
    "zstd": _zstd_chunks,
    "lz4": _lz4_chunks,
    "snappy": _snappy_chunks,
    "lzf": _lzf_chunks,
    "gz": _gz_chunks,
}
