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
        return stream.read(), bool(getattr(stream, "truncated"))  # noqa: B009 - not in BinaryIO


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


# --- exact reasons and boundaries (each one a mutant that once survived) ------------------------


def test_library_reasons_are_shown_without_their_prefixes() -> None:
    frame = bytearray(zstd_frame(b"x" * 1000))
    frame[6:] = b"\xff" * (len(frame) - 6)
    assert error_of(bytes(frame), "zstd") == \
        "app.log: corrupt zstd stream: Data corruption detected at byte 0"
    member = bytearray(gzip.compress(b"abc" * 100))
    member[10:] = b"\xff" * (len(member) - 10)
    assert error_of(bytes(member), "gz") == "app.log: corrupt gz stream: invalid block type at byte 0"


def test_a_zlib_stream_named_gz_is_not_gzip() -> None:
    import zlib

    assert error_of(zlib.compress(b"abc" * 10), "gz") == \
        "app.log: corrupt gz stream: incorrect header check at byte 0"


def test_lz4_lengths_at_the_64_mib_bound_are_accepted_and_above_rejected() -> None:
    limit = 1 << 26
    cut_raw = struct.pack("<8sBiii", b"LZ4Block", LZ4_RAW | 0x07, limit, limit, 0) + b"0123456789"
    assert decode(cut_raw, "lz4") == (b"0123456789", True)  # exactly 64 MiB declared: a cut block
    too_long = struct.pack("<8sBiii", b"LZ4Block", LZ4_COMPRESSED | 0x07, 10, limit + 1, 0) + b"\x00" * 10
    assert error_of(too_long, "lz4") == \
        f"app.log: corrupt lz4 stream: bad block lengths 10/{limit + 1} at byte 0"


def test_lz4_odd_compression_levels_keep_the_block_method() -> None:
    data = lines(20, 4)
    raw_level_7 = struct.pack("<8sBiii", b"LZ4Block", LZ4_RAW | 0x07, len(data), len(data), 0) + data
    assert decode(raw_level_7 + LZ4_END, "lz4") == (data, False)
    assert decode(raw_level_7[:-5], "lz4") == (data[:-5], True)


def test_lz4_empty_payload_declaring_bytes_is_corrupt_not_an_end_marker() -> None:
    header = struct.pack("<8sBiii", b"LZ4Block", LZ4_COMPRESSED | 0x07, 0, 5, 0)
    assert error_of(header + LZ4_END, "lz4") == "app.log: corrupt lz4 stream: undecodable block at byte 0"


def test_lz4_block_of_the_wrong_size_is_named_exactly() -> None:
    data = lines(20, 3)
    short = lz4.block.compress(data, store_size=False)
    first = lz4_block(b"a\n", raw=True)
    lying = struct.pack("<8sBiii", b"LZ4Block", LZ4_COMPRESSED, len(short), len(data) + 7, 0) + short
    message = error_of(first + lying, "lz4")
    assert message in (  # lz4 itself may refuse the block, or decode fewer bytes than declared
        f"app.log: corrupt lz4 stream: block decoded to {len(data)} bytes, expected {len(data) + 7} "
        f"at byte {len(first)}",
        f"app.log: corrupt lz4 stream: undecodable block at byte {len(first)}")


def test_reads_across_the_one_mib_input_chunks() -> None:
    blocks = [noise(700_000, s) for s in range(4)]  # raw blocks: headers straddle the 1 MiB reads
    data = b"".join(lz4_block(b, raw=True) for b in blocks) + LZ4_END
    assert decode(data, "lz4") == (b"".join(blocks), False)


def snappy_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_snappy_declared_sizes_and_lengths_at_their_bounds() -> None:
    limit = 1 << 26
    over = snappy_varint(limit + 1) + b"\x00" * 8
    assert error_of(SNAPPY_HEADER + struct.pack(">i", len(over)) + over, "snappy") == \
        f"app.log: corrupt snappy stream: block declares more than 64 MiB at byte {len(SNAPPY_HEADER)}"
    exact = snappy_varint(limit) + b"\x00" * 8  # allowed size, but not a snappy block
    assert error_of(SNAPPY_HEADER + struct.pack(">i", len(exact)) + exact, "snappy") == \
        f"app.log: corrupt snappy stream: undecodable block at byte {len(SNAPPY_HEADER)}"
    endless = b"\xff" * 5 + b"\x7f" + b"\x00" * 4  # more than 5 varint bytes: not a size at all
    assert error_of(SNAPPY_HEADER + struct.pack(">i", len(endless)) + endless, "snappy") == \
        f"app.log: corrupt snappy stream: undecodable block at byte {len(SNAPPY_HEADER)}"
    one = SNAPPY_HEADER + struct.pack(">i", 1) + b"\x00"  # the empty block, one byte long
    assert decode(one, "snappy") == (b"", False)
    assert error_of(SNAPPY_HEADER + struct.pack(">i", 0), "snappy") == \
        f"app.log: corrupt snappy stream: bad block length 0 at byte {len(SNAPPY_HEADER)}"
    assert decode(SNAPPY_HEADER + struct.pack(">i", limit) + b"abc", "snappy") == (b"", True)


def test_snappy_without_its_stream_header_is_corrupt() -> None:
    assert error_of(snappy_chunk(lines(5, 1)), "snappy") == \
        "app.log: corrupt snappy stream: bad stream header at byte 0"


def test_lzf_exact_errors_and_empty_chunks() -> None:
    assert decode(b"ZV\x01\x00\x00\x00\x00", "lzf") == (b"", False)  # an empty compressed chunk
    assert decode(b"ZV\x01\x00\x00", "lzf") == (b"", True)  # cut inside the lengths
    assert decode(b"ZV", "lzf") == (b"", True)  # cut inside the chunk type
    bad = b"ZV\x01" + struct.pack(">HH", 4, 50) + b"\xff\xff\xff\xff"
    assert error_of(bad, "lzf") == "app.log: corrupt lzf stream: undecodable chunk at byte 0"


@pytest.mark.parametrize(("name", "codec"), [("events.1.lz4", "lz4"), ("lz4", None), ("zstd", None)])
def test_codec_from_filename_uses_the_last_extension_only(name: str, codec: str | None) -> None:
    assert codec_from_filename(name) == codec


def test_an_empty_codec_name_means_uncompressed() -> None:
    assert decode(b"a\nb\n", "") == (b"a\nb\n", False)


def test_limit_errors_name_the_log() -> None:
    from connectors.limits import ReadLimits, use_limits

    with use_limits(ReadLimits(max_line_bytes=64, max_log_bytes=100)):
        message = error_of(zstd_frame(lines(50, 1)), "zstd")
    assert message.startswith("app.log: ")


def test_decompressed_stream_protocol() -> None:
    from connectors.spark_eventlog.codecs import DecompressedStream, _plain_chunks

    released = []

    def decoder(inp, stream):  # type: ignore[no-untyped-def]
        try:
            yield b"ab"
            yield b"cd"
        finally:
            released.append(True)

    raw = io.BytesIO(b"")
    stream = DecompressedStream(raw, decoder, "x")
    assert stream.readable() and stream.truncated is False
    assert stream.readall() == b"abcd"
    assert stream.readinto(bytearray(4)) == 0  # nothing left after readall
    stream = DecompressedStream(raw := io.BytesIO(b""), decoder, "x")
    buffer = bytearray(1)
    assert stream.readinto(buffer) == 1 and buffer == b"a"
    stream.close()
    assert raw.closed and released == [True, True]
    stream.close()  # twice is fine
    plain = DecompressedStream(io.BytesIO(b"x" * 3_000_000), _plain_chunks, "x")
    assert plain.readall() == b"x" * 3_000_000


@pytest.mark.parametrize("alias", ["zst", "zstd"])
def test_codec_aliases_pick_their_decoder(alias: str) -> None:
    assert decode(zstd_frame(b"x\n"), alias) == (b"x\n", False)
