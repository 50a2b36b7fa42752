"""Which code produced a stored analysis: the version number plus a hash of the source files.

Why not the version number alone: a stored ``Application`` or set of findings must be
re-made when the reader or a rule changes, and between releases (a development checkout,
a patched install) the number does not change. Hashing the package sources costs a few
milliseconds once per process.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

from analyzer import __version__


@functools.cache
def source_hash(*packages: str) -> str:
    """A short hash of every ``.py`` file (path and bytes) of ``packages``, in a stable order."""
    digest = hashlib.sha256()
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            root = Path(folder)
            for path in sorted(root.rglob("*.py")):
                digest.update(f"{package}/{path.relative_to(root).as_posix()}".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def reader_version() -> str:
    """The version of the code that turns an event log into an ``Application``."""
    return f"{__version__}+{source_hash('connectors.spark_eventlog', 'analyzer.core')}"


def rules_version() -> str:
    """The version of the code that turns an ``Application`` into findings."""
    return f"{__version__}+{source_hash('rules', 'analyzer.core')}"
