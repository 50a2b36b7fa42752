"""Writing a rendered report: atomically to a file, or to stdout; and the exit code it means.

Exit codes (documented in README.md):
  0  success
  1  a finding at or above ``--fail-on``
  2  usage error (bad option or argument)
  3  some inputs could not be read (the others were analysed and reported)
  4  internal error (a bug: one line on stderr; ``--debug`` shows the traceback)
"""

from __future__ import annotations

import os
import sys
import tempfile

from analyzer.core.findings import GATED_SEVERITIES
from analyzer.core.report import Report

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3, 4


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


def render(report: Report, fmt: str, *, plotlyjs: str = "inline") -> bytes:
    """``report`` in one of ``FORMATS``; ``plotlyjs`` (inline or cdn) matters for HTML only."""
    from reports import RENDERERS

    options = {"plotlyjs": plotlyjs} if fmt == "html" else {}
    return RENDERERS[fmt](**options).render(report)


def write_report(data: bytes, output: str | None) -> None:
    """The report to ``output`` (atomically) or to stdout."""
    if output:
        write_atomically(output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def write_atomically(path: str, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a report.

    Targets that are not regular files (``/dev/null``, a pipe, a terminal) are written in
    place: replacing them with a file would break them for everyone.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".deanalyze-", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from its readers
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
