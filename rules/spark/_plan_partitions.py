"""Naming a table's partition columns from what an application's plans show about it.

Spark's plans never list a relation's partition schema, but several places betray it:
a scan outputs partition columns without reading them from the files (they are absent
from ``ReadSchema``); pruned scans of the same table name them in ``PartitionFilters``
and in ``col=value`` directories of their ``Location``; writes to the table list them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from analyzer.core.model import Application, PlanNode
from rules.spark._plan import (
    attribute_names,
    filter_list,
    is_file_scan,
    is_write,
    location_root,
    location_values,
    output_columns,
    plan_field,
    read_schema_columns,
    scan_key,
    write_partition_columns,
    write_path,
)


def partition_columns(app: Application, table: str, scans: list[PlanNode]) -> list[str]:
    """Partition columns of ``table`` (the scan key of ``scans``), most direct evidence first."""
    found: list[str] = []
    for node in scans:
        found += _unread_outputs(node) + attribute_names(plan_field(node, "PartitionFilters") or "")
    for node in _same_table_scans(app, table):
        found += attribute_names(plan_field(node, "PartitionFilters") or "") + list(location_values(node))
    roots = {location_root(n) for n in scans} - {None}
    for node in _all_nodes(app):
        if is_write(node) and write_path(node) in roots:
            found += write_partition_columns(node)
    return list(dict.fromkeys(found))


def _unread_outputs(node: PlanNode) -> list[str]:
    """Columns a scan outputs but does not read from its files: partition columns.

    Names starting with ``_`` are file metadata (``_metadata``, Delta's internal columns), not partitions.
    """
    read = read_schema_columns(node)
    if read is None:
        return []
    lowered = {c.lower() for c in read}
    return [c for c in output_columns(node) if c.lower() not in lowered and not c.startswith("_")]


def _all_nodes(app: Application) -> Iterator[PlanNode]:
    for sql in app.sql_executions:
        yield from sql.nodes


def _same_table_scans(app: Application, table: str) -> Iterable[PlanNode]:
    return (n for n in _all_nodes(app) if is_file_scan(n) and scan_key(n) == table)


def example_filter(app: Application, table: str, columns: list[str]) -> str:
    """A WHERE clause on the first partition column, with a value seen in the app when there is one."""
    if not columns:
        return "WHERE <partition column> = <value>"
    column = columns[0]
    value = _seen_value(app, table, column)
    return f"WHERE {column} = '{value}'" if value is not None else f"WHERE {column} = <value>"


def _seen_value(app: Application, table: str, column: str) -> str | None:
    """A value of ``column`` that another scan of ``table`` pruned to (directory or equality filter)."""
    equality = re.compile(rf"^\(?{re.escape(column)}#\d+L? = ([^)]+)\)?$")
    for node in _same_table_scans(app, table):
        if column in location_values(node):
            return location_values(node)[column]
        for item in filter_list(plan_field(node, "PartitionFilters")) or []:
            match = equality.match(item)
            if match:
                return match.group(1).strip("'")
    return None
