"""The run history on the command line: ``--history`` on every analysis, ``history``, ``dashboard``.

Thin like the rest of the CLI: options parsed, one call into ``analyzer.api.history``, one
exit code. A history that cannot be used (busy, newer schema, not a history) is one line
on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

from analyzer.api.output import EXIT_OK, EXIT_USAGE, write_report
from analyzer.api.terminal import stderr_line

if TYPE_CHECKING:
    from analyzer.api.history import FleetReport

FORMATS = click.Choice(["md", "json", "html"])


def history_params() -> tuple[click.Parameter, ...]:
    """The options every analysis command takes to record into a run history."""
    return (
        click.Option(["--history", "history"], type=click.Path(dir_okay=False),
                     help="Run history (DuckDB file, created when missing): record this analysis, and skip "
                          "logs it already holds."),
        click.Option(["--owner-key", "owner_keys"], multiple=True,
                     help="With --history: attribution key naming who pays, tried in order (repeatable), "
                          "e.g. prop:spark.yarn.queue, tag:team, label:team, user, warehouse."),
        click.Option(["--app-key", "app_keys"], multiple=True,
                     help="With --history: Spark property naming the recurring application (repeatable), "
                          "e.g. spark.app.name; default: the name with dates and digits normalised."),
    )


def fail(message: str) -> NoReturn:
    """One line on stderr and the usage exit code."""
    click.echo(stderr_line(f"deanalyze: {message}"), err=True)
    sys.exit(EXIT_USAGE)


def _fleet(history: str, since: str | None, app: str | None) -> FleetReport:
    """The fleet view of ``history``, or one line on stderr and exit 2."""
    from analyzer.api.history import HistoryError, fleet_report

    try:
        return fleet_report(history, since=since, app=app)
    except HistoryError as err:
        fail(str(err))
    except ValueError:
        fail(f"--since: {since!r} is not a date like 2026-11-30")
    raise AssertionError("unreachable")  # fail() exits


@click.group("history", invoke_without_command=True)
@click.option("--history", "history", type=click.Path(dir_okay=False),
              help="The run history (DuckDB file) to read.")
@click.option("--app", help="Only applications whose name or key matches this glob (case-insensitive).")
@click.option("--since", help="Only runs from this day on (YYYY-MM-DD).")
@click.option("--format", "fmt", type=FORMATS, default="md", show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to FILE (atomically) instead of stdout.")
@click.pass_context
def history_command(ctx: click.Context, history: str | None, app: str | None, since: str | None, fmt: str,
            output: str | None) -> None:
    """Recurring applications, their runs, regressions and findings across runs, from a run history."""
    if ctx.invoked_subcommand is not None:
        return
    if not history:
        raise click.UsageError("give the history file: deanalyze history --history PATH")
    from analyzer.api.history import render_fleet

    write_report(render_fleet(_fleet(history, since, app), fmt), output)
    sys.exit(EXIT_OK)


@history_command.command("export")
@click.option("--history", "history", required=True, type=click.Path(dir_okay=False),
              help="The run history (DuckDB file) to export.")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False),
              help="Folder for the Parquet dataset (one sub-folder per table, partitioned by day).")
def export(history: str, target: str) -> None:
    """Write the history as a Parquet dataset partitioned by day (DuckDB, Spark, BigQuery external tables)."""
    from analyzer.api.history import HistoryError, export_history

    try:
        counts = export_history(history, target)
    except HistoryError as err:
        fail(str(err))
    click.echo("deanalyze: exported " + ", ".join(f"{table} {rows}" for table, rows in counts.items())
               + f" rows to {target}")
    sys.exit(EXIT_OK)


@click.command("dashboard")
@click.option("--history", "history", required=True, type=click.Path(dir_okay=False),
              help="The run history (DuckDB file) to show.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The HTML file to write (atomically).")
@click.option("--app", help="Only applications whose name or key matches this glob.")
@click.option("--since", help="Only runs from this day on (YYYY-MM-DD).")
@click.option("--plotlyjs", type=click.Choice(["inline", "cdn"]), default="inline", show_default=True,
              help="Inline plotly.js (offline) or load it from its CDN.")
def dashboard(history: str, output: str, app: str | None, since: str | None, plotlyjs: str) -> None:
    """The fleet dashboard: one offline HTML page over the whole run history."""
    from analyzer.api.history import render_fleet

    write_report(render_fleet(_fleet(history, since, app), "html", plotlyjs=plotlyjs), output)
    sys.exit(EXIT_OK)
