"""BigQuery history read live from ``region-REGION``.INFORMATION_SCHEMA with the official client.

Why these queries: JOBS_BY_PROJECT / JOBS_BY_ORGANIZATION are partitioned by
``creation_time`` and keep 180 days, so every query filters on it (a scan of the
whole view is slow and billed). Values travel as query parameters; the project and
region are identifiers (they cannot be parameters), so they are validated instead.
Results come back as Arrow and go through the same normalizer as export files.

Every request has a timeout (``timeout`` seconds, default 60) and is retried at most
``retries`` times (default 3) with exponential backoff when the service says it is busy
(429, 5xx) or the connection fails: without them a machine with no network waited on the
client's defaults for minutes in silence. A request that times out is not retried (a slow
service stays slow) and becomes one line; the wait for a running query is bounded too.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import logging
import re
from typing import TYPE_CHECKING, Any

from analyzer.core.warehouse_model import WarehouseHistory
from connectors.bigquery.normalize import VENDOR, jobs_to_table, storage_to_tables
from connectors.warehouse_files import WarehouseInputError, one_line

if TYPE_CHECKING:
    import pyarrow as pa
    from google.cloud import bigquery

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRIES = 3
_QUERY_WAIT_FACTOR = 10  # a running query may take this many request timeouts to finish
_BACKOFF_S = 0.5  # first pause between attempts; doubles, at most _BACKOFF_MAX_S
_BACKOFF_MAX_S = 10.0

_PROJECT = re.compile(r"^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+(?:-[a-z0-9]+)*$")
_JOB_COLUMNS = """job_id, creation_time, start_time, end_time, project_id, user_email, job_type,
  statement_type, state, error_result, cache_hit, total_bytes_processed, total_bytes_billed,
  total_slot_ms, reservation_id, parent_job_id, {query}referenced_tables, labels,
  query_info.query_hashes.normalized_literals AS query_hash"""
_JOBS_SQL = """SELECT {columns}
FROM `{project}`.`region-{region}`.INFORMATION_SCHEMA.{view}
WHERE creation_time >= @window_start AND creation_time < @window_end
ORDER BY creation_time, job_id"""
_STORAGE_SQL = """SELECT project_id, table_schema, table_name, total_rows, total_partitions,
  total_logical_bytes
FROM `{project}`.`region-{region}`.INFORMATION_SCHEMA.{view}
WHERE NOT deleted"""
_LAYOUT_SQL = """SELECT table_catalog AS project_id, table_schema, table_name,
  COUNT(*) AS column_count,
  LOGICAL_OR(is_partitioning_column = 'YES') AS is_partitioned,
  LOGICAL_OR(clustering_ordinal_position IS NOT NULL) AS is_clustered,
  MAX(IF(is_partitioning_column = 'YES', column_name, NULL)) AS partition_column,
  STRING_AGG(IF(clustering_ordinal_position IS NOT NULL, column_name, NULL), ','
             ORDER BY clustering_ordinal_position) AS clustering_columns
FROM `{project}`.`region-{region}`.INFORMATION_SCHEMA.COLUMNS
GROUP BY 1, 2, 3"""


def _now() -> dt.datetime:
    """The window's end; a function so tests can pin the clock."""
    return dt.datetime.now(dt.UTC)


def read_bigquery_live(
    project: str,
    region: str,
    days: int,
    *,
    by_organization: bool = False,
    client: bigquery.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
) -> WarehouseHistory:
    """Read the last ``days`` of jobs (and table sizes) of a project or its organization.

    Uses Application Default Credentials unless a ``client`` is given. ``timeout``
    bounds each request (seconds), ``retries`` the attempts after a busy answer. Reading
    TABLE_STORAGE or COLUMNS may be refused (other permissions than jobs); that is
    logged and the history is returned without table sizes.

    Raises:
        WarehouseInputError: the extra is not installed, no credentials, bad
            project/region, or the jobs query failed.
    """
    source = f"bigquery:{project}/region-{region}"
    region = region.lower().removeprefix("region-")
    _validate(project, region, days, source)
    bq = _import_bigquery(source)
    client = client or _client(bq, project, source)
    end = _now()
    start = end - dt.timedelta(days=days)
    view = "JOBS_BY_ORGANIZATION" if by_organization else "JOBS_BY_PROJECT"
    params = [
        bq.ScalarQueryParameter("window_start", "TIMESTAMP", start),
        bq.ScalarQueryParameter("window_end", "TIMESTAMP", end),
    ]
    # JOBS_BY_ORGANIZATION has no ``query`` column (Google's schema for that view).
    columns = _JOB_COLUMNS.format(query="" if by_organization else "query, ")
    sql = _JOBS_SQL.format(columns=columns, project=project, region=region, view=view)
    net = _Network(timeout, retries)
    jobs = _run(bq, client, sql, params, project, region, source, net)
    return WarehouseHistory(
        vendor=VENDOR,
        source=source,
        window_start_ms=int(start.timestamp() * 1000),
        window_end_ms=int(end.timestamp() * 1000),
        queries=jobs_to_table(jobs, source),
        tables=_tables(bq, client, project, region, by_organization, source, net),
    )


def _validate(project: str, region: str, days: int, source: str) -> None:
    if not _PROJECT.match(project):
        raise WarehouseInputError(f"not a BigQuery project id: {project!r}", source)
    if not _REGION.match(region):
        raise WarehouseInputError(f"not a BigQuery region: {region!r} (e.g. us, eu, us-central1)", source)
    if not 0 < days <= 180:
        raise WarehouseInputError(f"days must be 1..180 (JOBS keeps 180 days), got {days}", source)


def _import_bigquery(source: str) -> Any:
    try:
        bigquery = importlib.import_module("google.cloud.bigquery")
    except ImportError:
        raise WarehouseInputError(
            "google-cloud-bigquery is not installed: install it with pip install 'deanalyze[bigquery]'",
            source,
        ) from None
    return bigquery


def _client(bq: Any, project: str, source: str) -> bigquery.Client:
    """A client on Application Default Credentials (gcloud auth application-default login)."""
    import google.auth.exceptions

    try:
        return bq.Client(project=project)
    except google.auth.exceptions.GoogleAuthError as exc:
        raise WarehouseInputError(f"no usable Google credentials ({one_line(str(exc))})", source) from None


def _location(region: str) -> str:
    return region.upper() if region in ("us", "eu") else region


class _Network:
    """The timeout and retry budget of one live read."""

    def __init__(self, timeout: float, retries: int) -> None:
        self.timeout, self.retries = float(timeout), int(retries)

    def retry(self) -> Any:
        """A fresh ``Retry`` per query: at most ``retries`` retries, of busy answers and lost connections."""
        import requests
        from google.api_core import exceptions as api_exceptions
        from google.api_core.retry import Retry

        busy = (api_exceptions.TooManyRequests, api_exceptions.InternalServerError, api_exceptions.BadGateway,
                api_exceptions.ServiceUnavailable, api_exceptions.GatewayTimeout)
        left = [self.retries]

        def retryable(exc: BaseException) -> bool:
            lost = isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout)
            if not (isinstance(exc, busy) or lost) or left[0] <= 0:
                return False
            left[0] -= 1
            return True

        budget = self.timeout * (self.retries + 1) + _BACKOFF_MAX_S * self.retries
        return Retry(predicate=retryable, initial=_BACKOFF_S, maximum=_BACKOFF_MAX_S, multiplier=2.0,
                     timeout=budget)


def _run(bq: Any, client: Any, sql: str, params: list, project: str, region: str, source: str,
         net: _Network) -> pa.Table:
    """Run one query and return its rows as Arrow (Storage Read API when installed)."""
    import concurrent.futures

    import requests
    from google.api_core import exceptions as api_exceptions

    config = bq.QueryJobConfig(query_parameters=params, use_legacy_sql=False)
    try:
        rows = client.query_and_wait(sql, job_config=config, location=_location(region), project=project,
                                     api_timeout=net.timeout, wait_timeout=net.timeout * _QUERY_WAIT_FACTOR,
                                     retry=net.retry(), job_retry=None)
        storage = importlib.util.find_spec("google.cloud.bigquery_storage") is not None
        return rows.to_arrow(create_bqstorage_client=storage)
    except (requests.Timeout, concurrent.futures.TimeoutError, api_exceptions.DeadlineExceeded):
        raise WarehouseInputError(f"no answer within {net.timeout:g} s (raise the timeout option if "
                                  "the service is only slow)", source) from None
    except requests.RequestException as exc:  # no network, refused connection, DNS
        raise WarehouseInputError(f"cannot reach BigQuery: {one_line(_api_message(exc))}", source) from None
    except (api_exceptions.GoogleAPIError, ValueError) as exc:
        raise WarehouseInputError(f"query failed: {one_line(_api_message(exc))}", source) from None


def _api_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"


def _tables(bq: Any, client: Any, project: str, region: str, by_org: bool, source: str,
            net: _Network) -> tuple:
    """TABLE_STORAGE joined with each table's layout from COLUMNS; both optional."""
    import pyarrow as pa

    view = "TABLE_STORAGE_BY_ORGANIZATION" if by_org else "TABLE_STORAGE"
    try:
        storage = _run(
            bq,
            client,
            _STORAGE_SQL.format(project=project, region=region, view=view),
            [],
            project,
            region,
            source,
            net,
        )
    except WarehouseInputError as exc:
        log.warning("skipping table sizes: %s", exc)
        return ()
    if not by_org:  # COLUMNS is per project; an organization-wide layout would be N queries
        try:
            layout = _run(
                bq, client, _LAYOUT_SQL.format(project=project, region=region), [], project, region,
                source, net,
            )
            storage = storage.join(
                layout, ["project_id", "table_schema", "table_name"], join_type="left outer"
            )
        except (WarehouseInputError, pa.ArrowException) as exc:
            log.warning("skipping table layouts (partitioning, clustering): %s", exc)
    return storage_to_tables(storage, source)
