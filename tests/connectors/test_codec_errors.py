"""Codec framing decided by hand-built streams: exact error offsets and exact cut-off prefixes.

Why: the real-Spark logs in every codec prove the happy path, but an error message that
names the wrong byte, or a cut log that loses its last stored block, passes them. Each
stream here is assembled from the format's own layout (lz4-java blocks, snappy-java
chunks, compress-lzf chunks, zstd frames, gzip members), so the expected offsets and
prefixes are computed in the test from the layout, not from the decoder.
"""

from __future__ import annotations

import gzip
import io
import random
import struct

import lz4.block
import pytest
import zstandard

from connectors.spark_eventlog.codecs import codec_from_filename, open_decompressed
from connectors.spark_eventlog.errors import EventLogError


def decode(data: bytes, codec: str | None) -> tuple[bytes, bool]:
    stream = open_decompressed(io.BytesIO(data), codec, "app.log")
    with stream:
        return stream.read(), stream.truncated


def error_of(data: bytes, codec: str) -> str:
    with pytest.raises(EventLogError) as info:
        decode(data, codec)
    return str(info.value)


def noise(n: int, seed: int) -> bytes:
    """Incompressible bytes: a compressed frame is about as long as its content."""
    return random.Random(seed).randbytes(n)


def lines(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return b"".join(b'{"Event":"E%d","v":%d}\n' % (i, rng.randrange(10**9)) for i in range(n))


# --- zstd and gzip: independent members, errors name the member's first byte ------------------


def zstd_frame(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def corrupt_zstd_frame() -> bytes:
    frame = bytearray(zstd_frame(lines(50, 9)))
    frame[6:] = b"\xff" * (len(frame) - 6)  # valid magic and header start, undecodable after
    return bytes(frame)


@pytest.mark.parametrize("first_size", [100, 5000, 70_000])
def test_zstd_error_names_the_offset_of_the_corrupt_frame(first_size: int) -> None:
    first, second = zstd_frame(noise(first_size, 1)), zstd_frame(noise(3000, 2))
    data = first + second + corrupt_zstd_frame()
    message = error_of(data, "zstd")
    assert message.startswith("app.log: corrupt zstd stream: ")
    assert message.endswith(f" at byte {len(first) + len(second)}")


def test_zstd_corrupt_first_frame_is_at_byte_0() -> None:
    assert error_of(corrupt_zstd_frame() + zstd_frame(b"x"), "zstd").endswith(" at byte 0")


@pytest.mark.parametrize("first_size", [10, 20_000, 100_000])
def test_gzip_error_names_the_offset_of_the_corrupt_member(first_size: int) -> None:
    first = gzip.compress(noise(first_size, 3))
    bad = bytearray(gzip.compress(lines(40, 4)))
    bad[10:] = b"\xff" * (len(bad) - 10)
    message = error_of(first + bytes(bad), "gz")
    assert message.startswith("app.log: corrupt gz stream: ")
    assert message.endswith(f" at byte {len(first)}")


@pytest.mark.parametrize("codec", ["zstd", "gz"])
def test_members_cut_anywhere_decode_to_a_prefix_and_say_truncated(codec: str) -> None:
    parts = [lines(200, s) for s in range(3)]
    pack = zstd_frame if codec == "zstd" else gzip.compress
    members = [pack(p) for p in parts]
    data = b"".join(members)
    whole = b"".join(parts)
    assert decode(data, codec) == (whole, False)
    for cut in (len(members[0]) - 3, len(members[0]) + 5, len(data) - 1):
        out, truncated = decode(data[:cut], codec)
        assert truncated and whole.startswith(out)
    boundary = len(members[0]) + len(members[1])
    assert decode(data[:boundary], codec) == (parts[0] + parts[1], False)  # a whole member is not a cut


# --- lz4-java LZ4BlockOutputStream ------------------------------------------------------------

LZ4_RAW, LZ4_COMPRESSED = 0x10, 0x20


def lz4_block(data: bytes, *, raw: bool) -> bytes:
    payload = data if raw else lz4.block.compress(data, store_size=False)
    token = (LZ4_RAW if raw else LZ4_COMPRESSED) | 0x06  # method | compression level
    return struct.pack("<8sBiii", b"LZ4Block", token, len(payload), len(data), 0) + payload


LZ4_END = struct.pack("<8sBiii", b"LZ4Block", LZ4_RAW, 0, 0, 0)


def test_lz4_raw_block_cut_in_its_payload_yields_the_bytes_before_the_cut() -> None:
    head, tail = lines(30, 5), lines(30, 6)
    first = lz4_block(head, raw=False)
    second = lz4_block(tail, raw=True)
    for keep in (1, 100, len(tail) - 1):
        cut = first + second[: 21 + keep]  # 21-byte header, then ``keep`` stored bytes
        assert decode(cut, "lz4") == (head + tail[:keep], True)


def test_lz4_compressed_block_cut_in_its_payload_yields_only_whole_blocks() -> None:
    head, tail = lines(30, 5), lines(30, 6)
    data = lz4_block(head, raw=True) + lz4_block(tail, raw=False)
    assert decode(data[:-1], "lz4") == (head, True)


def test_lz4_end_marker_decides_complete_or_cut() -> None:
    body = lz4_block(lines(10, 1), raw=False) + lz4_block(lines(10, 2), raw=True)
    expected = lines(10, 1) + lines(10, 2)
    assert decode(body + LZ4_END, "lz4") == (expected, False)
    assert decode(body, "lz4") == (expected, True)  # whole blocks, no end marker: still being written
    assert decode(body + LZ4_END[:10], "lz4") == (expected, True)  # cut inside the end header
    again = body + LZ4_END + lz4_block(b"x\n", raw=True) + LZ4_END  # concatenated streams
    assert decode(again, "lz4") == (expected + b"x\n", False)


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda h: b"LZ4Bloc!" + h[8:], "bad block magic"),
    (lambda h: h[:8] + bytes([0x30]) + h[9:], "unknown block method 0x30"),
    (lambda h: h[:9] + struct.pack("<i", -1) + h[13:], "bad block lengths -1/"),
    (lambda h: h[:9] + struct.pack("<ii", 5, 6) + h[17:], "bad block lengths 5/6"),  # raw: lengths differ
    (lambda h: h[:9] + struct.pack("<i", (1 << 26) + 1) + h[13:], "bad block lengths 67108865/"),
])
def test_lz4_bad_second_header_is_named_at_its_offset(damage, reason: str) -> None:  # type: ignore[no-untyped-def]
    first = lz4_block(lines(20, 1), raw=False)
    second = lz4_block(lines(5, 2), raw=True)
    message = error_of(first + damage(second[:21]) + second[21:] + LZ4_END, "lz4")
    assert message.startswith(f"app.log: corrupt lz4 stream: {reason}")
    assert message.endswith(f" at byte {len(first)}")


def test_lz4_undecodable_and_wrong_size_blocks_are_errors_at_their_offset() -> None:
    first = lz4_block(lines(20, 1), raw=True)
    garbage = struct.pack("<8sBiii", b"LZ4Block", LZ4_COMPRESSED, 8, 100, 0) + b"\xff" * 8
    assert error_of(first + garbage, "lz4") == \
        f"app.log: corrupt lz4 stream: undecodable block at byte {len(first)}"
    data = lines(20, 3)
    short = lz4.block.compress(data, store_size=False)
    lying = struct.pack("<8sBiii", b"LZ4Block", LZ4_COMPRESSED, len(short), len(data) - 1, 0) + short
    assert "at byte 0" in error_of(lying, "lz4")


# --- snappy-java and compress-lzf ---------------------------------------------------------------

SNAPPY_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)


def snappy_chunk(data: bytes) -> bytes:
    import cramjam

    block = bytes(cramjam.snappy.compress_raw(data))
    return struct.pack(">i", len(block)) + block


def test_snappy_chunks_cut_and_damaged() -> None:
    a, b = lines(40, 1), lines(40, 2)
    data = SNAPPY_HEADER + snappy_chunk(a) + snappy_chunk(b)
    assert decode(data, "snappy") == (a + b, False)
    assert decode(data[:-1], "snappy") == (a, True)
    assert decode(data[: len(SNAPPY_HEADER) - 1], "snappy") == (b"", True)
    second_at = len(SNAPPY_HEADER) + len(snappy_chunk(a))
    bad_length = data[:second_at] + struct.pack(">i", -5) + data[second_at + 4:]
    assert error_of(bad_length, "snappy") == \
        f"app.log: corrupt snappy stream: bad block length -5 at byte {second_at}"
    assert error_of(b"\x82SNAPPX\x00" + data[8:], "snappy").endswith("bad stream header at byte 0")
    again = data + SNAPPY_HEADER + snappy_chunk(b"z\n")  # concatenated streams
    assert decode(again, "snappy") == (a + b + b"z\n", False)


def lzf_stored(data: bytes) -> bytes:
    return b"ZV\x00" + struct.pack(">H", len(data)) + data


def lzf_compressed(data: bytes) -> bytes:
    import lzf

    payload = lzf.compress(data)
    return b"ZV\x01" + struct.pack(">HH", len(payload), len(data)) + payload


def test_lzf_stored_chunk_cut_yields_its_prefix_and_compressed_cut_yields_whole_chunks() -> None:
    a, b = lines(30, 1), lines(30, 2)
    stored = lzf_compressed(a) + lzf_stored(b)
    assert decode(stored, "lzf") == (a + b, False)
    assert decode(stored[:-7], "lzf") == (a + b[:-7], True)
    compressed = lzf_stored(a) + lzf_compressed(b)
    assert decode(compressed[:-1], "lzf") == (a, True)
    assert decode(compressed[: len(lzf_stored(a)) + 4], "lzf") == (a, True)  # cut inside a header
    bad = lzf_stored(a) + b"ZV\x07" + b"\x00" * 10
    assert error_of(bad, "lzf") == \
        f"app.log: corrupt lzf stream: bad chunk header at byte {len(lzf_stored(a))}"


@pytest.mark.parametrize(("name", "codec"), [
    ("app-1.zstd", "zstd"), ("app-1.zst", "zstd"), ("app-1.lz4.inprogress", "lz4"),
    ("events_1_app.snappy.compact", "snappy"), ("APP.LZF", "lzf"), ("eventlog-2024-01-01--00-00.gz", "gz"),
    ("app-1", None), ("app-1.inprogress", None), ("app.v1.json", None), (" app-1.zstd ", "zstd"),
])
def test_codec_from_filename_strips_spark_suffixes(name: str, codec: str | None) -> None:
    assert codec_from_filename(name) == codec


def test_unknown_codec_names_itself() -> None:
    assert error_of(b"abc", "brotli") == "app.log: unsupported compression codec 'brotli'"
