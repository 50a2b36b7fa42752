"""Reading physical-plan nodes the same way across Spark 2.x-4.x, Photon and RAPIDS plans.

Spark renamed metrics and nodes over the years (``number of files`` in 2.x became
``number of files read``; Photon says ``files read``, RAPIDS ``partitions``), and some
plans carry the scan's fields only in the node's one-line description. These helpers hide
that, so the rules can ask one question ("how many partitions did this scan read?") once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from analyzer.core.model import PlanNode, SqlExecution

# Metric aliases, newest name first.
FILES_READ = ("number of files read", "files read", "number of files")
BYTES_READ = ("size of files read",)
PARTITIONS_READ = ("number of partitions read", "partitions read", "partitions")
OUTPUT_ROWS = ("number of output rows", "output rows")
WRITTEN_FILES = ("number of written files",)
WRITTEN_BYTES = ("written output", "bytes of written output")
DYNAMIC_PARTS = ("number of dynamic part",)
BROADCAST_BYTES = ("data size", "data size (bytes)")
SHUFFLE_RECORDS_WRITTEN = ("shuffle records written",)

_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.]*)#\d+L?")
_SCAN_NAME = re.compile(r"^\w*Scan (\S+) ?(\S*)\s*$")
_PARTITION_DIR = re.compile(r"/[^/=]+=[^/]*")
_WRITE_PARTITIONS = re.compile(r", (?:true|false), \[([^\]]*)\], ")
_PATH = re.compile(r"\[([^,\]]+)")


def metric(node: PlanNode, names: Iterable[str]) -> int | None:
    """The value of the first metric of ``names`` the node has, or None."""
    for name in names:
        if name in node.metrics:
            return node.metrics[name]
    return None


def is_file_scan(node: PlanNode) -> bool:
    """A file-source scan (``Scan parquet db.t``, ``PhotonScan``, ``GpuScan``), not a DSv2 or RDD scan."""
    return "Scan" in node.name and metric(node, FILES_READ) is not None


def is_write(node: PlanNode) -> bool:
    """A file write command that reports how many files it wrote."""
    return metric(node, WRITTEN_FILES) is not None


def plan_field(node: PlanNode, key: str) -> str | None:
    """A scan field (``PartitionFilters``, ``Location``, ...) from metadata, else from the description."""
    if key in node.metadata:
        return node.metadata[key]
    start = node.description.find(f"{key}: ")
    if start < 0:
        return None
    start += len(key) + 2
    if node.description[start:start + 1] == "[":
        return _bracketed(node.description, start)
    end = node.description.find(", ", start)
    return node.description[start:end if end >= 0 else None]


def _bracketed(text: str, start: int) -> str:
    """The balanced ``[...]`` group that starts at ``text[start]``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    return text[start:]


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside (), [] and <> groups; items stripped, empty ones dropped."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, "<": 1, ")": -1, "]": -1, ">": -1}.get(char, 0)
        if char == sep and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def filter_list(text: str | None) -> list[str] | None:
    """``[a, b]`` as ``["a", "b"]``; None when the field is absent or truncated (``...``)."""
    if text is None or not text.startswith("[") or not text.endswith("]") or text.endswith("...]"):
        return None
    return split_top_level(text[1:-1])


def prunes_nothing(filters: list[str]) -> bool:
    """True for ``[]`` and for only ``isnotnull(...)``, which joins infer and which keep every partition."""
    return all(f.startswith("isnotnull(") for f in filters)


def attribute_names(expression: str) -> list[str]:
    """Column names referenced as ``name#id`` in a plan expression, in order, without repeats."""
    return list(dict.fromkeys(_ATTRIBUTE.findall(expression)))


def scan_table(node: PlanNode) -> str | None:
    """The catalog table a scan reads (``spark_catalog.default.sales``), when the plan names one."""
    match = _SCAN_NAME.match(node.name)
    return (match.group(2) or None) if match else None


def location_root(node: PlanNode) -> str | None:
    """The first path of the scan's ``Location`` with ``col=value`` directories cut off."""
    location = plan_field(node, "Location")
    match = _PATH.search(location or "")
    if not match:
        return None
    path = match.group(1).strip()
    cut = _PARTITION_DIR.search(path)
    return path[:cut.start()] if cut else path


def scan_key(node: PlanNode) -> str:
    """What a scan reads, for grouping and for the finding's subject: table name, else path."""
    return scan_table(node) or location_root(node) or node.name.strip()


def location_values(node: PlanNode) -> dict[str, str]:
    """``col=value`` directories in the scan's ``Location`` (the partitions a pruned scan read)."""
    location = plan_field(node, "Location") or ""
    return dict(re.findall(r"/([^/=\[\],\s]+)=([^/\[\],\s]+)", location))


def output_columns(node: PlanNode) -> list[str]:
    """The scan's output attributes from ``FileScan parquet db.t[a#1,b#2]``."""
    bracket = node.description.find("[")
    if bracket < 0:
        return []
    return attribute_names(_bracketed(node.description, bracket))


def read_schema_columns(node: PlanNode) -> list[str] | None:
    """Top-level field names of ``ReadSchema: struct<a:int,b:string>``; None when absent or cut."""
    schema = plan_field(node, "ReadSchema")
    if not schema or not schema.startswith("struct<") or not schema.endswith(">"):
        return None
    return [field.split(":", 1)[0].strip("`") for field in split_top_level(schema[7:-1])]


def write_partition_columns(node: PlanNode) -> list[str]:
    """Partition columns of ``InsertIntoHadoopFsRelationCommand path, false, [dt#5], Parquet, ...``."""
    match = _WRITE_PARTITIONS.search(node.description)
    return attribute_names(match.group(1)) if match else []


def write_path(node: PlanNode) -> str | None:
    """The output path of a write command, from its description."""
    match = re.search(r"Command (?:InsertIntoHadoopFsRelationCommand )?(\S+?),", node.description)
    return match.group(1) if match else None


def node_index(sql: SqlExecution) -> Mapping[int, PlanNode]:
    """Nodes by id."""
    return {n.node_id: n for n in sql.nodes}


def parents(sql: SqlExecution) -> dict[int, int]:
    """The parent id of every node that has one."""
    return {child: n.node_id for n in sql.nodes for child in n.child_ids}


def subtree(sql: SqlExecution, node: PlanNode) -> Iterator[PlanNode]:
    """``node`` and every node below it, pre-order."""
    index = node_index(sql)
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(index[c] for c in reversed(current.child_ids) if c in index)


def pretty(expression: str) -> str:
    """A plan expression without Spark's expression ids (``dt#18`` -> ``dt``), for people."""
    return re.sub(r"#\d+L?", "", expression)


def human_bytes(value: float) -> str:
    """Bytes in the largest binary unit that keeps the number at least 1 (``4.7 MiB``) for titles."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    size, unit = float(value), 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{size:,.0f} {units[unit]}" if unit == 0 else f"{size:,.1f} {units[unit]}"
