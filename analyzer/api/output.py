"""Writing a rendered report: atomically to a file, or to stdout; and the exit code it means.

Exit codes (documented in README.md):
  0  success
  1  a finding at or above ``--fail-on``
  2  usage error (bad option or argument)
  3  some inputs could not be read (the others were analysed and reported)
  4  internal error (a bug: one line on stderr; ``--debug`` shows the traceback)
  5  the report could not be written (no space, an I/O error, a closed pipe on stdout): one
     line naming the target, never a temporary file; no temporary file is left behind

An output folder that is missing or not writable is found before the analysis starts
(``check_output``): the CLI calls it a usage error (2), the audit an output error (5),
because an audit's folder comes from its config rather than from the command line.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from typing import TYPE_CHECKING

from analyzer.core.findings import GATED_SEVERITIES

if TYPE_CHECKING:  # the report model (and the cost model under it) loads after a split read started
    from analyzer.core.report import Report

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INTERNAL, EXIT_OUTPUT = 0, 1, 2, 3, 4, 5
STDOUT = "<stdout>"


class OutputError(Exception):
    """A report (or an output folder) that cannot be written: one line naming the target.

    Not a bug and not bad input: the disk is full, the folder is gone or read-only, the
    reader of stdout went away. Raised with the path the user gave, never the temporary
    file the atomic write used, so that the message says what to fix.
    """

    def __init__(self, target: str, problem: str) -> None:
        super().__init__(f"{target}: cannot write the report: {problem}")
        self.target = target


def _problem(err: OSError) -> str:
    """An OSError without its file name (that may be the temporary file): ``No space left on device``."""
    return err.strerror or errno.errorcode.get(err.errno or 0, "") or type(err).__name__


def check_output(path: str | None) -> None:
    """Fail before any work when ``path``'s folder cannot take a report (missing, not a folder, read-only).

    Why before: an analysis of a day of logs must not end in "cannot write". Targets that
    exist and are not regular files (``/dev/null``, a pipe) are written in place and pass.
    """
    if not path or path == "-":
        return
    if os.path.exists(path) and not os.path.isfile(path):
        if os.path.isdir(path):
            raise OutputError(path, "it is a folder")
        return
    check_folder(os.path.dirname(os.path.abspath(path)), path)


def check_folder(folder: str | os.PathLike[str], target: str | None = None) -> None:
    """``folder`` exists, is a folder and this process may create files in it."""
    shown = target or str(folder)
    if not os.path.exists(folder):
        raise OutputError(shown, f"folder {os.fspath(folder)} does not exist")
    if not os.path.isdir(folder):
        raise OutputError(shown, f"{os.fspath(folder)} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(shown, f"folder {os.fspath(folder)} is not writable")


def exit_code(report: Report, fail_on: str) -> int:
    """Unreadable inputs win over findings: a partial analysis must not look clean.

    ``fail_on`` is one of ``GATED_SEVERITIES`` (low..critical) or ``never``: early warnings
    (``info``) rank below every gate and never fail a run.
    """
    if report.errors:
        return EXIT_UNREADABLE
    if fail_on != "never":
        threshold = GATED_SEVERITIES.index(fail_on)
        if any(f.severity_rank >= threshold for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_OK


FORMATS = ("md", "json", "html")
TEMP_PREFIX = ".deanalyze-"  # write_atomically's temporary files; the audit removes a killed run's


def render(report: Report, fmt: str, *, plotlyjs: str = "inline") -> bytes:
    """``report`` in one of ``FORMATS``; ``plotlyjs`` (inline or cdn) matters for HTML only."""
    from reports import RENDERERS

    options = {"plotlyjs": plotlyjs} if fmt == "html" else {}
    return RENDERERS[fmt](**options).render(report)


def write_report(data: bytes, output: str | None) -> None:
    """The report to ``output`` (atomically) or to stdout; ``OutputError`` when it cannot be written."""
    if output:
        write_atomically(output, data)
        return
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except OSError as err:  # EPIPE (the reader left), ENOSPC (a full disk or /dev/full), EIO
        _silence_stdout()
        raise OutputError(STDOUT, _problem(err)) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail a second time.

    Without it Python prints "Exception ignored ... BrokenPipeError" at exit and exits 120,
    hiding the documented code (the recipe of the ``signal`` module's documentation).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by something without a descriptor (tests)
        pass


def write_atomically(path: str, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a report.

    Targets that are not regular files (``/dev/null``, a pipe, a terminal) are written in
    place: replacing them with a file would break them for everyone. Any OSError (a missing
    or read-only folder, no space, an I/O error) is an ``OutputError`` naming ``path``; the
    temporary file is removed whatever happens.
    """
    try:
        if os.path.exists(path) and not os.path.isfile(path):
            with open(path, "wb") as handle:
                handle.write(data)
            return
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    except OSError as err:
        raise OutputError(path, _problem(err)) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from its readers
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise OutputError(path, _problem(err)) from None
        raise
