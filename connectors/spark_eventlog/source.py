"""Spark event logs on disk or behind an fsspec URL, as a source the CLI, API and audit share."""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.core.errors import SourceSettingsError
from analyzer.core.model import InputError
from analyzer.core.sources import Settings, SourceOption, SparkSource
from connectors.spark_eventlog.discovery import LogSource, discover
from connectors.spark_eventlog.errors import EventLogError


def find_logs(paths: Sequence[str]) -> tuple[list[LogSource], list[InputError]]:
    """Expand files, folders and URLs into logs; paths that cannot be listed are errors."""
    sources: list[LogSource] = []
    errors: list[InputError] = []
    for item in discover(paths):
        if isinstance(item, EventLogError):
            errors.append(InputError(source=item.source or "?", message=item.message))
        else:
            sources.append(item)
    return sources, errors


def _find(settings: Settings, _scratch: str) -> tuple[list[LogSource], list[InputError]]:
    return find_logs(tuple(settings["paths"]))  # type: ignore[arg-type]


def _check(settings: Settings) -> None:
    if not settings.get("paths"):
        raise SourceSettingsError("paths: give at least one event-log file, folder or URL")


SOURCE = SparkSource(
    name="spark-logs",
    audit_table="spark",
    help="Analyse Spark event logs: files, folders (recursively) or object-store URLs.",
    options=(
        SourceOption("paths", "Event-log files, folders or URLs (s3://, gs://, abfs://, hdfs://, ...).",
                     type="paths", argument=True),
    ),
    find=_find,
    check=_check,
)
