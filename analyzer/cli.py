"""The ``deanalyze`` command: a thin layer of options over ``analyzer.api``.

Every analysis command shares one stack of report options (format, output, prices,
config, fail-on) and ends the same way: render, write, exit with a documented code
(see ``analyzer.api.output``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from analyzer import __version__
from analyzer.api.output import EXIT_INTERNAL, exit_code, write_report

PROGRESS_MIN_LOGS = 4


def report_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every analysis command takes (sqlfluff-style reusable option stack)."""
    options = [
        click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md",
                     show_default=True, help="Report format."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--fail-on", type=click.Choice(["low", "medium", "high", "critical", "never"]),
                     default="never", show_default=True,
                     help="Exit 1 when a finding has at least this severity."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="Rule thresholds and suppressions (TOML). Default: ./deanalyze.toml when present."),
        click.option("--prices", default="generic", show_default=True,
                     help="Price catalog: generic, emr, dataproc, databricks, kubernetes, or a TOML file."),
        click.option("--plotlyjs", type=click.Choice(["inline", "cdn"]), default="inline", show_default=True,
                     help="HTML only: inline plotly.js (offline, ~5 MB) "
                          "or load it from its CDN (small file)."),
        click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


class _Main(click.Group):
    """The command group; an unexpected error is one line on stderr and exit code 4, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:
            if "--debug" in sys.argv:
                raise
            message = f"deanalyze: internal error: {type(err).__name__}: {err} (rerun with --debug)"
            click.echo(message, err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deanalyze")
def main() -> None:
    """Where the money and the time of your data pipelines go, and what to change."""


@main.command("spark-logs")
@click.argument("paths", nargs=-1, required=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parse this many logs in parallel processes.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal and several logs are read).")
@click.option("--spot", is_flag=True, help="Executors run on spot/preemptible capacity (catalog's discount).")
@click.option("--runs-per-month", type=click.FloatRange(min=0), default=None,
              help="Runs a month, for the monthly projection (default: inferred from several runs).")
@report_options
def spark_logs(paths: tuple[str, ...], jobs: int, progress: bool | None, spot: bool,
               runs_per_month: float | None, **opts: Any) -> None:
    """Analyse Spark event logs: files, folders (recursively) or object-store URLs."""
    from analyzer.api import analyze_spark_logs
    from analyzer.core.cost import CostSettings

    settings = CostSettings(catalog=_catalog(opts["prices"]), spot=spot, runs_per_month=runs_per_month)
    rules_config = _rules_config(opts["config_path"])
    with _ProgressBar(progress) as (on_sources, on_progress):
        report = analyze_spark_logs(paths, jobs=jobs, debug=opts["debug"], progress=on_progress,
                                    on_sources=on_sources, rules_config=rules_config, cost_settings=settings)
    _finish(report, **opts)


@main.command("bigquery")
@click.option("--project", help="Project whose INFORMATION_SCHEMA.JOBS_BY_PROJECT is read (live).")
@click.option("--region", default="us", show_default=True,
              help="Region qualifier, e.g. us, eu, us-central1.")
@click.option("--days", type=click.IntRange(min=1, max=180), default=7, show_default=True,
              help="Window (live).")
@click.option("--by-organization", is_flag=True, help="Read JOBS_BY_ORGANIZATION instead (live).")
@click.option("--jobs-file", type=click.Path(dir_okay=False),
              help="Exported JOBS rows: NDJSON, JSON, CSV, Parquet.")
@click.option("--table-storage-file", type=click.Path(dir_okay=False), help="Exported TABLE_STORAGE rows.")
@click.option("--edition", type=click.Choice(["standard", "enterprise", "enterprise_plus"]),
              default="standard", show_default=True, help="Editions price used for slot-hours.")
@click.option("--show-sql-literals", is_flag=True,
              help="Keep literals in SQL shown in reports (masked by default).")
@report_options
def bigquery(project: str | None, region: str, days: int, by_organization: bool, jobs_file: str | None,
             table_storage_file: str | None, edition: str, show_sql_literals: bool, **opts: Any) -> None:
    """Analyse BigQuery job history: live from INFORMATION_SCHEMA, or from an exported file."""
    from connectors import bigquery as bq

    if bool(project) == bool(jobs_file):
        raise click.UsageError("give either --project (live) or --jobs-file (export)")
    source = jobs_file or f"bigquery://{project}/region-{region}"
    read = (lambda: bq.read_bigquery_export(jobs_file, table_storage_file)) if jobs_file else (
        lambda: bq.read_bigquery_live(project, region, days, by_organization=by_organization))  # type: ignore[arg-type]
    _warehouse(read, source, edition=edition, show_sql_literals=show_sql_literals, **opts)


@main.command("snowflake")
@click.option("--connection", help="Named connection from the Snowflake connector's connections.toml (live).")
@click.option("--live", is_flag=True, help="Connect with the SNOWFLAKE_* environment variables (live).")
@click.option("--days", type=click.IntRange(min=1, max=365), default=7, show_default=True,
              help="Window (live).")
@click.option("--query-history-file", type=click.Path(dir_okay=False),
              help="Exported QUERY_HISTORY rows: CSV (Snowsight), JSON, Parquet.")
@click.option("--metering-file", type=click.Path(dir_okay=False),
              help="Exported WAREHOUSE_METERING_HISTORY rows.")
@click.option("--show-sql-literals", is_flag=True,
              help="Keep literals in SQL shown in reports (masked by default).")
@report_options
def snowflake(connection: str | None, live: bool, days: int, query_history_file: str | None,
              metering_file: str | None, show_sql_literals: bool, **opts: Any) -> None:
    """Analyse Snowflake query history and metering: live from ACCOUNT_USAGE, or from exported files."""
    from connectors import snowflake as sf

    if bool(connection or live) == bool(query_history_file):
        raise click.UsageError("give either --connection/--live (live) or --query-history-file (export)")
    source = query_history_file or f"snowflake://{connection or 'environment'}"
    read = (lambda: sf.read_snowflake_export(query_history_file, metering_file)) if query_history_file else (
        lambda: sf.read_snowflake_live(connection, days))  # type: ignore[arg-type]
    _warehouse(read, source, show_sql_literals=show_sql_literals, **opts)


def _warehouse(read: Callable[[], Any], source: str, *, edition: str = "standard", show_sql_literals: bool,
               **opts: Any) -> None:
    """Read one warehouse history, analyse, finish.

    An unreadable input is a report error, not a traceback.
    """
    from analyzer.api import analyze_warehouse_source

    rules_config = _rules_config(opts["config_path"])
    _catalog(opts["prices"])  # fail early on a bad catalog
    report = analyze_warehouse_source(read, source, rules_config=rules_config, catalog_name=opts["prices"],
                                      edition=edition, show_sql_literals=show_sql_literals)
    _finish(report, **opts)


def _finish(report: Any, fmt: str, output: str | None, fail_on: str, plotlyjs: str, **_: Any) -> None:
    """Report unreadable inputs on stderr, render, write, exit with the documented code."""
    from reports import RENDERERS

    for problem in report.errors:
        click.echo(f"deanalyze: {problem.source}: {problem.message}", err=True)
    options = {"plotlyjs": plotlyjs} if fmt == "html" else {}
    write_report(RENDERERS[fmt](**options).render(report), output)
    sys.exit(exit_code(report, fail_on))


@main.command("audit")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="Audit config (TOML): output folder, formats, prices and the sources.")
@click.option("--week", help="ISO week to file the reports under, e.g. 2026-W48 (default: this week, UTC).")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Write DIR/<week>/ here instead of the config's [output] dir.")
@click.option("--fail-on", type=click.Choice(["low", "medium", "high", "critical", "never"]),
              default="never", show_default=True, help="Exit 1 when a finding has at least this severity.")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def audit(config_path: str, week: str | None, output_dir: str | None, fail_on: str, debug: bool) -> None:
    """Weekly audit: every source of the config into DIR/<ISO week>/, with a week-over-week summary."""
    from analyzer.api.audit import run_audit
    from analyzer.api.audit_config import AuditConfigError, load_audit_config, parse_week
    from analyzer.api.output import EXIT_USAGE

    try:
        config = load_audit_config(config_path)
        week = parse_week(week) if week is not None else None
    except AuditConfigError as err:
        click.echo(f"deanalyze: {err}", err=True)
        sys.exit(EXIT_USAGE)
    result = run_audit(config, week, output_dir=output_dir, fail_on=fail_on, debug=debug,
                       on_problem=lambda line: click.echo(line, err=True))
    click.echo(f"deanalyze: audit {result.week}: {len(result.sources)} source(s), "
               f"summary in {result.folder / 'summary.md'}")
    sys.exit(result.exit_code)


@main.command("rules")
def list_rules() -> None:
    """List every rule: id, what it applies to, its severity scale, and what it finds."""
    from rules.engine import REGISTRY, Thresholds, config_fields, load_builtin_rules

    load_builtin_rules()
    width = max(len(r) for r in REGISTRY)
    for rule_id, rule in sorted(REGISTRY.items()):
        scale = next((_scale(name, v) for name, v, _ in config_fields(rule.default_config())
                      if isinstance(v, Thresholds)), "")
        click.echo(f"{rule_id:<{width}}  {rule.applies_to:<9}  {rule.summary()}")
        click.echo(f"{'':<{width}}  {'':<9}  severity low/medium/high/critical at {scale}")


def _scale(name: str, thresholds: Any) -> str:
    """``ratio >= 2/4/8/16``: where a rule's four severities start."""
    levels = "/".join(f"{x:g}" for x in thresholds.as_dict().values())
    return f"{name} {'>=' if thresholds.ascending else '<='} {levels}"


@main.command("explain")
@click.argument("rule_id")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Show thresholds as overridden by this TOML file.")
def explain(rule_id: str, config_path: str | None) -> None:
    """Print a rule's documentation and its current thresholds."""
    from rules.engine import REGISTRY, Thresholds, config_fields, load_builtin_rules

    load_builtin_rules()
    config = _rules_config(config_path)
    rule = REGISTRY.get(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule id {rule_id!r}; 'deanalyze rules' lists them")
    click.echo(f"{rule_id}\n{'=' * len(rule_id)}\n\n{rule.documentation()}\n\n## Options (current values)\n")
    for name, value, doc in config_fields(config.config_for(rule)):
        if isinstance(value, Thresholds):
            shown = ", ".join(f"{k}={v:g}" for k, v in value.as_dict().items())
        else:
            shown = value
        click.echo(f"- {name} = {shown}  ({doc})")


def _rules_config(path: str | None) -> Any:
    from rules.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None


def _catalog(name: str) -> Any:
    from analyzer.core.catalog import CatalogError, load_catalog

    try:
        return load_catalog(name)
    except CatalogError as err:
        raise click.UsageError(str(err)) from None


class _ProgressBar:
    """Context manager yielding (on_sources, on_progress) callbacks that drive a rich bar on stderr."""

    def __init__(self, wanted: bool | None) -> None:
        self.wanted = sys.stderr.isatty() if wanted is None else wanted
        self.bar: Any = None
        self.task: Any = None

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
