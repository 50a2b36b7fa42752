"""Shared pieces of the fuzz suite: fixed-seed settings, encoders for every codec, and checks.

Why a helper module and not a conftest profile: ``settings.load_profile`` in a conftest
would change every hypothesis test of the session; the fuzz tests instead carry
:data:`FUZZ` themselves, so they are reproducible (``derandomize=True``: the same examples
on every run and machine) and bounded (``max_examples``) whatever else runs with them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import cramjam
import lz4.block
import lzf
import zstandard
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
GOOD_LOG = ROOT / "examples" / "spark-events" / "local-1430917381534"
WAREHOUSE = TESTS / "data" / "warehouse"
SCHEMA = ROOT / "reports" / "schema" / "report.schema.json"

_DEEP = os.environ.get("DEANALYZE_FUZZ_EXAMPLES")
FUZZ = settings(derandomize=not _DEEP, max_examples=int(_DEEP or 25), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
"""Fixed examples (derandomized), few enough that the whole suite stays within CI's minutes.

``DEANALYZE_FUZZ_EXAMPLES=2000`` runs a longer, randomized hunt locally."""

DOCUMENTED_EXITS = {0, 1, 3}


# --- encoders: every codec the reader accepts, as Spark writes it -------------------------

def lz4_java(data: bytes, block: int = 1 << 20) -> bytes:
    """lz4-java ``LZ4BlockOutputStream``: [LZ4Block, token, clen, ulen, checksum] blocks, end marker."""
    out = io.BytesIO()
    for start in range(0, len(data), block):
        raw = data[start:start + block]
        packed = lz4.block.compress(raw, store_size=False)
        out.write(struct.pack("<8sBiii", b"LZ4Block", 0x20, len(packed), len(raw), 0) + packed)
    out.write(struct.pack("<8sBiii", b"LZ4Block", 0x10, 0, 0, 0))
    return out.getvalue()


def snappy_java(data: bytes, block: int = 32 << 10) -> bytes:
    """snappy-java ``SnappyOutputStream``: 16-byte header, then [BE length][raw snappy] blocks."""
    out = io.BytesIO(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1))
    out.seek(0, io.SEEK_END)
    for start in range(0, len(data), block):
        packed = bytes(cramjam.snappy.compress_raw(data[start:start + block]))
        out.write(struct.pack(">i", len(packed)) + packed)
    return out.getvalue()


def lzf_ning(data: bytes, block: int = 65535) -> bytes:
    """ning compress-lzf chunks: 'ZV', type 1, BE u16 compressed and decompressed lengths."""
    out = io.BytesIO()
    for start in range(0, len(data), block):
        raw = data[start:start + block]
        packed = lzf.compress(raw) or b""
        if packed and len(packed) < len(raw):
            out.write(b"ZV\x01" + struct.pack(">HH", len(packed), len(raw)) + packed)
        else:
            out.write(b"ZV\x00" + struct.pack(">H", len(raw)) + raw)
    return out.getvalue()


def zip_member(data: bytes, name: str = "app-1") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


ENCODERS = {
    "": lambda data: data,
    ".zstd": lambda data: zstandard.ZstdCompressor(level=3).compress(data),
    ".lz4": lz4_java,
    ".snappy": snappy_java,
    ".lzf": lzf_ning,
    ".gz": gzip.compress,
    ".zip": zip_member,
}


# --- checks ------------------------------------------------------------------------------

def load_report(text: str) -> dict:
    """A JSON report validated against the published schema (``tests/conftest.py`` does the same)."""
    import jsonschema

    doc = json.loads(text)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    return doc  # type: ignore[no-any-return]


def render_and_validate(report: Any) -> dict:
    """The report as JSON, validated against the published schema (as every test's reports are)."""
    from reports import RENDERERS

    return load_report(RENDERERS["json"]().render(report).decode())


KNOWN_RULE_BUGS: tuple[str, ...] = ()
"""Rule failures the fuzz suite found outside the input layer and that are not fixed yet (message
prefixes). Empty: ``snowflake.oversized-warehouse``'s ``log2(inf)`` on a history without
execution times was fixed; keep it empty so the suite guards every rule."""


def assert_one_line_errors(report: Any) -> None:
    """Every problem is one line with a source, and none comes from a bug path."""
    for error in report.errors:
        assert error.source and error.message, error
        assert "\n" not in error.message and "Traceback" not in error.message, error.message
        if error.message.startswith(KNOWN_RULE_BUGS):
            continue
        assert "rerun with --debug" not in error.message, f"bad input reached a bug path: {error.message}"


def run_cli(args: list[str], env: dict[str, str] | None = None, timeout: float = 120,
            address_space_mib: int = 4096) -> tuple[int, str, str, int]:
    """Run the CLI in a child process: (exit code, stdout, stderr, the child's own peak RSS in MiB).

    The child is reaped with ``wait4`` so the peak RSS is its own, not the largest of every
    child the test session ever ran; ``RLIMIT_AS`` is a safety net, so that a regression
    fails this test instead of exhausting the CI machine's memory.
    """
    exe = Path(sys.executable).with_name("deanalyze")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "analyzer.cli"]
    limit = address_space_mib << 20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*cmd, *args], stdout=out, stderr=err, cwd=ROOT, preexec_fn=cap,
                                env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                usage.ru_maxrss // 1024)
