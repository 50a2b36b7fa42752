"""The command group, the report options every analysis shares, and the non-source commands.

Every analysis command ends the same way: report unreadable inputs on stderr, render,
write, exit with a documented code (see ``analyzer.api.output``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

import click

from analyzer import __version__
from analyzer.api.output import (
    EXIT_INTERNAL,
    EXIT_OUTPUT,
    EXIT_USAGE,
    OutputError,
    check_output,
    exit_code,
    render,
    write_report,
)
from analyzer.api.sources import SOURCES, Source
from analyzer.api.terminal import problem_line, stderr_line
from analyzer.cli.history_commands import dashboard, history_command, history_params
from analyzer.cli.progress import ProgressBar
from analyzer.cli.source_commands import source_command

FAIL_ON = click.Choice(["low", "medium", "high", "critical", "never"])


def report_params() -> tuple[click.Parameter, ...]:
    """The options every analysis command takes (sqlfluff-style reusable option stack)."""
    return (
        click.Option(["--format", "fmt"], type=click.Choice(["md", "json", "html"]), default="md",
                     show_default=True, help="Report format."),
        click.Option(["-o", "--output"], type=click.Path(dir_okay=False, writable=True),
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.Option(["--fail-on"], type=FAIL_ON, default="never", show_default=True,
                     help="Exit 1 when a finding has at least this severity."),
        click.Option(["--config", "config_path"], type=click.Path(dir_okay=False),
                     help="Rule thresholds and suppressions (TOML). Default: ./deanalyze.toml when present."),
        click.Option(["--prices"], default="generic", show_default=True,
                     help="Price catalog: generic, emr, dataproc, databricks, kubernetes, or a TOML file."),
        click.Option(["--plotlyjs"], type=click.Choice(["inline", "cdn"]), default="inline",
                     show_default=True, help="HTML only: inline plotly.js (offline, ~5 MB) "
                                             "or load it from its CDN (small file)."),
        click.Option(["--debug"], is_flag=True, help="Show tracebacks for unexpected errors."),
    )


PROGRESS = click.Option(["--progress/--no-progress"], default=None,
                        help="Progress bar on stderr (default: when stderr is a terminal and several logs "
                             "are read).")


class _Main(click.Group):
    """The command group; an unexpected error is one line on stderr and exit code 4, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OutputError as err:  # a full disk or a closed pipe is not a bug: exit 5, the target named
            click.echo(stderr_line(f"deanalyze: {err}"), err=True)
            ctx.exit(EXIT_OUTPUT)
        except Exception as err:
            if "--debug" in sys.argv:
                raise
            message = f"deanalyze: internal error: {type(err).__name__}: {err} (rerun with --debug)"
            click.echo(stderr_line(message), err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deanalyze")
def main() -> None:
    """Where the money and the time of your data pipelines go, and what to change."""
    if "--debug" not in sys.argv:
        quiet_third_party_loggers()


# Storage and HTTP libraries log their own retries and shutdown tracebacks; deanalyze already
# reports each failure as one line, so their logs stay quiet unless --debug asks for detail.
NOISY_LOGGERS = ("asyncio", "aiohttp", "fsspec", "gcsfs", "s3fs", "adlfs", "botocore", "urllib3",
                 "google", "snowflake", "py4j")


def quiet_third_party_loggers() -> None:
    """Only critical messages from the libraries in ``NOISY_LOGGERS``."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def analyze(source: Source, settings: Mapping[str, Any], *, fmt: str, output: str | None, fail_on: str,
            config_path: str | None, prices: str, plotlyjs: str, debug: bool,
            progress: bool | None = None, history: str | None = None, owner_keys: tuple[str, ...] = (),
            app_keys: tuple[str, ...] = ()) -> None:
    """Validate, analyse one source through the API, report problems, write the report, exit."""
    from analyzer.api import (
        SettingsError,
        SourceSettingsError,
        load_prices,
        load_rules_config,
    )
    from analyzer.api.spark_session import SparkEngineError

    try:
        source.check(settings)
        check_output(output)  # a missing or read-only folder before the analysis, not after
        rules_config = load_rules_config(config_path)
        catalog = load_prices(prices)
    except (SettingsError, SourceSettingsError, OutputError) as err:
        raise click.UsageError(str(err)) from None
    failures: tuple[type[Exception], ...] = (SparkEngineError,)
    if history is None:  # the run history (DuckDB) is imported only when asked for
        from analyzer.api import analyze_source

        def run(**analyze: Any) -> Any:
            return analyze_source(source, settings, **analyze)
    else:
        from analyzer.api.history import HistoryError, analyze_source_into_history

        failures += (HistoryError,)

        def run(**analyze: Any) -> Any:
            return analyze_source_into_history(history, source, settings, owner_keys=owner_keys,
                                               app_keys=app_keys, **analyze)
    try:
        with ProgressBar(progress) as (on_sources, on_progress):
            report = run(catalog=catalog, rules_config=rules_config, debug=debug, progress=on_progress,
                         on_sources=on_sources)
    except failures as err:
        click.echo(stderr_line(f"deanalyze: {err}"), err=True)
        sys.exit(EXIT_USAGE)
    for problem in report.errors:
        click.echo(problem_line(problem.source, problem.message), err=True)
    write_report(render(report, fmt, plotlyjs=plotlyjs), output)
    sys.exit(exit_code(report, fail_on))


for _source in SOURCES:
    _extra = (PROGRESS,) if _source.kind == "spark" else ()
    main.add_command(source_command(_source, analyze, extra=_extra + report_params() + history_params()))
main.add_command(history_command)
main.add_command(dashboard)


@main.command("audit")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="Audit config (TOML): output folder, formats, prices and the sources.")
@click.option("--week", help="ISO week to file the reports under, e.g. 2026-W48 (default: this week, UTC).")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Write DIR/<week>/ here instead of the config's [output] dir.")
@click.option("--fail-on", type=FAIL_ON, default="never", show_default=True,
              help="Exit 1 when a finding has at least this severity.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only this source (repeatable): its reports and its result for --summary-only.")
@click.option("--summary-only", is_flag=True,
              help="Write the week's summary from the results --source runs left; read no source.")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def audit(config_path: str, week: str | None, output_dir: str | None, fail_on: str, sources: tuple[str, ...],
          summary_only: bool, debug: bool) -> None:
    """Weekly audit: every source of the config into DIR/<ISO week>/, with a week-over-week summary."""
    from analyzer.api.audit import run_audit
    from analyzer.api.audit_config import AuditConfigError, load_audit_config, parse_week

    try:
        config = load_audit_config(config_path)
        week = parse_week(week) if week is not None else None
        result = run_audit(config, week, output_dir=output_dir, fail_on=fail_on, debug=debug,
                           on_problem=lambda line: click.echo(stderr_line(line), err=True),
                           sources=sources, summary_only=summary_only)
    except AuditConfigError as err:
        click.echo(stderr_line(f"deanalyze: {err}"), err=True)
        sys.exit(EXIT_USAGE)
    summary = result.summary
    done = f"reports in {result.folder}" if summary is None else f"summary in {result.folder / 'summary.md'}"
    click.echo(f"deanalyze: audit {result.week}: {len(summary['sources'] if summary else result.sources)} "
               f"source(s), {done}")
    sys.exit(result.exit_code)


@main.command("rules")
def list_rules() -> None:
    """List every rule: id, what it applies to, its severity scale, and what it finds."""
    from analyzer.api.settings import rule_infos

    infos = rule_infos()
    width = max(len(r.id) for r in infos)
    for rule in infos:
        click.echo(f"{rule.id:<{width}}  {rule.kind:<9}  {rule.summary}")
        click.echo(f"{'':<{width}}  {'':<9}  severity low/medium/high/critical at {rule.scale}")


@main.command("explain")
@click.argument("rule_id")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Show thresholds as overridden by this TOML file.")
def explain(rule_id: str, config_path: str | None) -> None:
    """Print a rule's documentation and its current thresholds."""
    from analyzer.api.settings import SettingsError, load_rules_config, rule_info

    try:
        rule = rule_info(rule_id, load_rules_config(config_path))
    except SettingsError as err:
        raise click.UsageError(str(err)) from None
    if rule is None:
        raise click.UsageError(f"unknown rule id {rule_id!r}; 'deanalyze rules' lists them")
    click.echo(f"{rule_id}\n{'=' * len(rule_id)}\n\n{rule.documentation}\n\n## Options (current values)\n")
    for option in rule.options:
        click.echo(f"- {option.name} = {option.shown}  ({option.doc})")


if __name__ == "__main__":  # pragma: no cover
    main()
