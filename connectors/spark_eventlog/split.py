"""Read a big plain log on two cores: a forked worker decodes its last part meanwhile.

Why: decoding is most of the time of reading a big log, and its task lines can be
decoded anywhere; only the replay must follow the log's order. So the main process
decodes and replays the first part while a worker decodes the last ``WORKER_SHARE`` of the
file into compact batches (``task_batch``: int64 task rows, and the byte ranges of the
other lines, which the main process decodes itself when it replays them). The worker then
streams the batches through a pipe, one pickle each, and the replay continues with them,
so the figures are those of a one-process read by construction (a test compares the two).

When it is used: an uncompressed local file (the only kind with random access) of at
least ``SPLIT_MIN_BYTES``, where ``fork`` exists, at least two CPUs are usable and other
runnable threads do not already fill them (on a saturated machine the worker would only
queue behind other processes). Below that size, starting a process costs about what it
saves (see ``benchmarks/README.md``). ``start_early`` forks the worker at the command's
start. If the worker dies or fails, the main process decodes the rest itself, from the end
of the last batch it received: a lost worker costs time, never figures.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import pickle
import stat
import sys
import time
from collections.abc import Callable, Iterator

from connectors.limits import current_limits
from connectors.spark_eventlog.blocks import HeadCheck, line_blocks
from connectors.spark_eventlog.storage import Storage
from connectors.spark_eventlog.task_rows import Batch, decode_rows

SPLIT_MIN_BYTES = 64 << 20  # the measured break-even (benchmarks/README.md)
SPLIT_ENV = "DEANALYZE_SPLIT_MIN_BYTES"  # overrides SPLIT_MIN_BYTES; a huge value turns splitting off
# The main process also replays everything, so the worker takes more than half the bytes.
WORKER_SHARE = 0.62
# A worker started by ``start_early`` (at the command's start) begins about 35 ms sooner, while
# the main process still imports: it can take more (measured: benchmarks/README.md).
EARLY_SHARE = 0.68
BLOCK = 8 << 20
_WINDOW = 1 << 20  # bytes searched for the line end nearest the middle


_WHILE_WAITING: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "while_waiting", default=None)


@contextlib.contextmanager
def while_waiting(work: Callable[[], None]) -> Iterator[None]:
    """Run ``work`` (once) when a split read has replayed its own part and would wait for its worker.

    Why: the caller's next steps (importing the rules and the cost model, about 0.1 s) then run
    while the worker still decodes, instead of after it. Reads that do not split never call it.
    ``work`` must be a head start only: an error in it is ignored (it must not become an error
    of the log being read), so the caller does the same work again after the read.
    """
    token = _WHILE_WAITING.set(work)
    try:
        yield
    finally:
        _WHILE_WAITING.reset(token)


def run_waiting_work() -> None:
    """Run the work ``while_waiting`` registered, if any and not yet run (errors ignored, see there)."""
    work = _WHILE_WAITING.get()
    if work is not None:
        _WHILE_WAITING.set(None)
        with contextlib.suppress(Exception):
            work()


def split_point(storage: Storage, path: str, codec: str | None) -> int | None:
    """Where a second process should take over reading ``path``, or None to read it alone."""
    if codec is not None or type(storage) is not Storage:
        return None
    return _local_split_point(storage.normalize(path), WORKER_SHARE)


def _local_split_point(local: str, share: float) -> int | None:
    """The line start nearest ``share`` of the bytes from the end of a big plain local file, or None."""
    if not _can_fork():
        return None
    try:
        info = os.stat(local)
        size = info.st_size
        if not stat.S_ISREG(info.st_mode) or size < _min_bytes() or size > current_limits().max_log_bytes:
            return None
        if _usable_cpus() < 2 or _busy():
            return None
        with open(local, "rb") as fh:
            middle = int(size * (1 - share))
            fh.seek(middle)
            window = fh.read(_WINDOW)
    except OSError:
        return None
    newline = window.find(b"\n")
    return None if newline < 0 else middle + newline + 1


_early: dict[tuple[int, int, int, int], SplitWorker] = {}


def start_early(path: str) -> None:
    """Fork the split-read worker of ``path`` now, if ``path`` is a big plain local file.

    Why: the command that will read it still has most of its start-up ahead (its options, its
    imports, finding the logs); the worker decodes meanwhile. ``adopt_early`` hands the worker
    to the read of that same file; a worker nobody adopts (the file was not read after all) is
    stopped when the process exits. Nothing here raises: a path that does not qualify is left
    to the normal read.
    """
    from connectors.spark_eventlog.codecs import codec_from_filename

    if codec_from_filename(os.path.basename(path)) is not None:
        return
    key = _file_key(path)
    if key is None or key in _early:
        return
    middle = _local_split_point(path, EARLY_SHARE)
    if middle is None:
        return
    worker = SplitWorker(path, middle, last_file=True)
    _early[key] = worker
    atexit.register(worker.close)


def adopt_early(local: str) -> SplitWorker | None:
    """The worker ``start_early`` forked for this very file (same device, inode, size and
    modification time), or None. A single-file log only: the worker reads to the end."""
    key = _file_key(local) if _early else None
    return None if key is None else _early.pop(key, None)


def _file_key(path: str) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


class WorkerLost(Exception):
    """The split-read worker died or failed; the main process reads on where it stopped."""


class SplitWorker:
    """A forked process decoding bytes ``start:`` of a local file into batches."""

    def __init__(self, path: str, start: int, last_file: bool = True) -> None:
        self.path = path
        self.start = start
        self.pid = 0
        self.fd = -1
        read_fd, write_fd = os.pipe()
        _widen(write_fd)
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(read_fd)
            _worker_main(path, start, write_fd, last_file)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def batches(self) -> Iterator[Batch]:
        """The worker's batches, one at a time as they come through the pipe.

        The worker decodes everything first (in parallel with the main process) and then
        streams its batches, so the main process never holds more than one of them.
        Raises ``WorkerLost`` if the worker died or failed: the caller decodes the rest,
        from the end of the last batch it got (``Batch.end``).
        """
        with os.fdopen(self.fd, "rb") as pipe:
            self.fd = -1
            while True:
                try:
                    batch = pickle.load(pipe)
                except Exception as err:  # a cut or garbled stream: the worker died
                    raise WorkerLost(str(err)) from err
                if batch is None:
                    break
                yield batch
        if self._reap() != 0:
            raise WorkerLost("the worker failed after its last batch")

    def close(self) -> None:
        """Stop and reap the worker if its answer was never read (an error in the main process)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)
            self._reap()

    def _reap(self) -> int:
        pid, self.pid = self.pid, 0
        if not pid:
            return -1
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return -1
        return os.waitstatus_to_exitcode(status)


def decode_range(path: str, start: int, stop: int | None = None, *, first_line: int = 1,
                 head: HeadCheck | None = None, views: bool = False,
                 last_file: bool = True) -> Iterator[Batch]:
    """Batches of the lines of ``path`` from byte ``start`` (a line start) to ``stop`` or its end.

    Other lines are kept as byte ranges of the file, so a batch stays compact, or, with
    ``views`` (the main process's own half, replayed at once), as views of the block.
    A line longer than the line limit is one malformed line, as the framing layer makes it
    for a stream. An unfinished last line means a truncated log only in the ``last_file``.
    """
    max_line = current_limits().max_line_bytes
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        left = [(1 << 62) if stop is None else stop - start]
        # The bytes to read are known: start with full-size blocks (no 128 KiB warm-up, whose
        # small blocks and the lines straddling them each became a batch of their own). Not
        # while a file's head is checked: that first block is decoded line by line.
        expected = None if head is not None else max(
            0, (os.fstat(fh.fileno()).st_size if stop is None else stop) - start)

        def readinto(buffer: memoryview) -> int:
            n = fh.readinto(buffer[:left[0]]) or 0 if left[0] > 0 else 0
            left[0] -= n
            return n

        line = first_line
        for block, begin, end, offset, final in line_blocks(readinto, BLOCK, max_line, expected):
            if block:
                batch = decode_rows(block, line, final=final and last_file, head=head, max_line=max_line,
                                    start=begin, stop=end, file_offset=None if views else start + offset)
            else:  # a line longer than the limit, not held in memory
                batch = decode_rows(b"", line, final=False, head=None)
                batch.errors.append((line, f"line longer than the limit of {max_line} bytes"))
                batch.lines = 1
            batch.end = start + offset + end
            line += batch.lines
            yield batch


def _widen(fd: int) -> None:
    """Give the pipe a 1 MiB buffer where Linux allows it (64 KiB by default): the worker's
    megabytes of batches then cross in a few wake-ups instead of a hundred."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or above pipe-max-size
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)


def _worker_main(path: str, start: int, fd: int, last_file: bool = True) -> None:
    """Decode, stream the pickled batches, and leave without running the parent's exit handlers."""
    code = 1
    try:
        batches = list(decode_range(path, start, last_file=last_file))
        with os.fdopen(fd, "wb") as pipe:
            for batch in batches:
                # bytes pickle and unpickle as one copy; an array('q') is rebuilt item by item
                batch.starts, batch.ends = batch.starts.tobytes(), batch.ends.tobytes()
                pickle.dump(batch, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, pipe)  # the end: anything short of it is a lost worker
        code = 0
    finally:
        os._exit(code)


def _busy() -> bool:
    """Other runnable threads fill every usable CPU right now: a second process would only queue
    behind them and add its start-up and hand-over costs (below that, two processes get a larger
    share of the machine than one, e.g. 4/3 of 2 CPUs beside one busy thread instead of 1).

    Linux says how many threads are runnable at this moment (``/proc/loadavg``'s fourth field,
    this process included); the 1-minute load average, used elsewhere, still counts work that
    ended up to a minute ago, and switched the split off on a machine that had just gone quiet.
    """
    running = _runnable_now(enough=_usable_cpus())
    if running is not None:
        return running - 1 >= _usable_cpus()
    try:
        return os.getloadavg()[0] >= _usable_cpus()
    except OSError:  # no load average on this platform
        return False


def _runnable_now(samples: int = 3, gap_s: float = 0.001, enough: int = 0) -> int | None:
    """Threads runnable now (``/proc/loadavg``: ``0.50 0.40 0.30 3/512 1234``), or None.

    The fewest of a few samples a millisecond apart: a short-lived process or a library's
    thread pool starting up is runnable for an instant and says nothing about the next second.
    A sample of at most ``enough`` settles it at once (fewer cannot change the answer), so a
    quiet machine costs one read, not the wait between samples.
    """
    fewest: int | None = None
    try:
        for i in range(samples):
            if i:
                time.sleep(gap_s)
            with open("/proc/loadavg", "rb") as fh:
                count = int(fh.read().split()[3].split(b"/")[0])
            fewest = count if fewest is None else min(fewest, count)
            if fewest <= enough:
                break
    except (OSError, IndexError, ValueError):
        return None
    return fewest


def _min_bytes() -> int:
    try:
        return int(os.environ.get(SPLIT_ENV, SPLIT_MIN_BYTES))
    except ValueError:
        return SPLIT_MIN_BYTES


def _can_fork() -> bool:
    """``fork`` exists and is safe: not on macOS, where system libraries break in a forked child."""
    return hasattr(os, "fork") and sys.platform != "darwin"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
