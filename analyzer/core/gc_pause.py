"""Pause Python's cyclic garbage collector around a burst of acyclic allocations.

Why: reading a log and analysing it build hundreds of thousands of small objects (rows,
tuples, findings) that hold no reference cycles. Each time enough of them pile up, the
collector walks every tracked object, the interpreter's own modules and functions included:
on a 280 MB log that was 5-20 ms of a 0.4 s run (benchmarks/README.md). Paused, that work
does not happen; reference counting still frees everything at once, and whatever cyclic
garbage the block made is collected when the collector resumes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No automatic cyclic collection inside the block; the previous setting is restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
