"""The ``deanalyze`` command: a thin layer of options over ``analyzer.api``.

Exit codes (documented in README.md):
  0  success
  1  a finding at or above ``--fail-on``
  2  usage error (bad option or argument)
  3  some inputs could not be read (the others were analysed and reported)
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable

import click

from analyzer import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE = 0, 1, 2, 3
PROGRESS_MIN_LOGS = 4


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deanalyze")
def main() -> None:
    """Where the money and the time of your data pipelines go, and what to change."""


@main.command("spark-logs")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", show_default=True,
              help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to FILE (atomically) instead of stdout.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parse this many logs in parallel processes.")
@click.option("--fail-on", type=click.Choice(["low", "medium", "high", "critical", "never"]), default="never",
              show_default=True, help="Exit 1 when a finding has at least this severity.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal and several logs are read).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Rule thresholds and suppressions (TOML). Default: ./deanalyze.toml when present.")
@click.option("--prices", default="generic", show_default=True,
              help="Price catalog: generic, emr, dataproc, databricks, kubernetes, or a TOML file.")
@click.option("--spot", is_flag=True, help="Executors run on spot/preemptible capacity (catalog's discount).")
@click.option("--runs-per-month", type=click.FloatRange(min=0), default=None,
              help="Runs a month, for the monthly projection (default: inferred from several runs).")
@click.option("--plotlyjs", type=click.Choice(["inline", "cdn"]), default="inline", show_default=True,
              help="HTML only: inline plotly.js (offline, ~5 MB) or load it from its CDN (small file).")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def spark_logs(paths: tuple[str, ...], fmt: str, output: str | None, jobs: int, fail_on: str,
               progress: bool | None, config_path: str | None, prices: str, spot: bool,
               runs_per_month: float | None, plotlyjs: str, debug: bool) -> None:
    """Analyse Spark event logs: files, folders (recursively) or object-store URLs."""
    from analyzer.api import analyze_spark_logs
    from analyzer.catalog import CatalogError, load_catalog
    from analyzer.cost import CostSettings
    from reports import RENDERERS

    rules_config = _load_rules_config(config_path)
    try:
        settings = CostSettings(catalog=load_catalog(prices), spot=spot, runs_per_month=runs_per_month)
    except CatalogError as err:
        raise click.UsageError(str(err)) from None
    with _progress_bar(progress) as (on_sources, on_progress):
        report = analyze_spark_logs(paths, jobs=jobs, debug=debug, progress=on_progress, on_sources=on_sources,
                                    rules_config=rules_config, cost_settings=settings)
    for problem in report.errors:
        click.echo(f"deanalyze: {problem.source}: {problem.message}", err=True)
    options = {"plotlyjs": plotlyjs} if fmt == "html" else {}
    data = RENDERERS[fmt](**options).render(report)
    if output:
        write_atomically(output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    sys.exit(exit_code(report, fail_on))


@main.command("rules")
def list_rules() -> None:
    """List every rule with its id, default severity range and what it finds."""
    from rules.engine import REGISTRY, load_builtin_rules

    load_builtin_rules()
    width = max(len(r) for r in REGISTRY)
    for rule_id, rule in sorted(REGISTRY.items()):
        click.echo(f"{rule_id:<{width}}  {rule.summary()}")


@main.command("explain")
@click.argument("rule_id")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Show thresholds as overridden by this TOML file.")
def explain(rule_id: str, config_path: str | None) -> None:
    """Print a rule's documentation and its current thresholds."""
    from rules.engine import REGISTRY, Thresholds, config_fields

    config = _load_rules_config(config_path)
    rule = REGISTRY.get(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule id {rule_id!r}; 'deanalyze rules' lists them")
    click.echo(f"{rule_id}\n{'=' * len(rule_id)}\n\n{rule.documentation()}\n\n## Options (current values)\n")
    for name, value, doc in config_fields(config.config_for(rule)):
        shown = ", ".join(f"{k}={v:g}" for k, v in value.as_dict().items()) if isinstance(value, Thresholds) else value
        click.echo(f"- {name} = {shown}  ({doc})")


def _load_rules_config(path: str | None):  # type: ignore[no-untyped-def]
    from rules.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None


def exit_code(report: object, fail_on: str) -> int:
    """Unreadable inputs win over findings: a partial analysis must not look clean."""
    from analyzer.report import SEVERITIES, Report

    assert isinstance(report, Report)
    if report.errors:
        return EXIT_UNREADABLE
    if fail_on != "never":
        threshold = SEVERITIES.index(fail_on)
        if any(f.severity_rank >= threshold for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_OK


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


class _progress_bar:
    """Context manager yielding (on_sources, on_progress) callbacks that drive a rich bar."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = sys.stderr.isatty() if wanted is None else wanted
        self.bar = None
        self.task = None

    def __enter__(self) -> tuple[Callable[[int], None], Callable[[int, int], None]]:
        return self._start, self._advance

    def _start(self, total: int) -> None:
        if not self.wanted or total < PROGRESS_MIN_LOGS:
            return
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(transient=True, console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("reading event logs", total=total)

    def _advance(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
