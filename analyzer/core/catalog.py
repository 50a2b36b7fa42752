"""Dated, editable price catalogs (TOML) that turn usage into money.

A catalog says what one vCPU-hour and one GiB-hour cost on a platform, when that was
true (``as_of``) and where it came from (``source``). Catalogs that price whole nodes
(EMR, Databricks, Kubernetes) are split into vCPU and memory parts with the vCPU:GiB
price ratio of general-purpose cloud VMs, so executors of any shape can be priced.
Warehouse prices (Snowflake $/credit, BigQuery $/TiB and slot-hours) live in the same
files. Prices change; rules never see them, so a price change never touches a rule.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer.core.toml_files import TomlFileError, read_toml

BUILTIN = ("generic", "emr", "dataproc", "databricks", "kubernetes")
# GCP N2 on-demand list prices: the reference ratio between a GiB-hour and a vCPU-hour.
_REFERENCE_VCPU_HOUR = 0.031611
_REFERENCE_GIB_HOUR = 0.004237


class CatalogError(ValueError):
    """A price catalog that cannot be used; ``str()`` names the file and the problem."""


@dataclass(frozen=True, slots=True)
class NodeType:
    """A priced machine type: its size and its hourly price (plus DBUs where billed)."""

    vcpus: float
    memory_gib: float
    usd_hour: float
    dbu_hour: float = 0.0


@dataclass(frozen=True, slots=True)
class PriceCatalog:
    """Prices of one platform, with their date and source."""

    name: str
    description: str
    as_of: str
    source: str
    currency: str
    vcpu_hour: float
    gib_hour: float
    spot_discount: float = 0.0
    spot_source: str = ""  # where the spot discount comes from, and when (``spot_as_of``)
    usd_per_dbu: float = 0.0
    node_types: Mapping[str, NodeType] = field(default_factory=dict)
    warehouse: Mapping[str, Any] = field(default_factory=dict)

    def node_hour(self, node: NodeType) -> float:
        """All-in price of one node-hour (instance plus DBUs)."""
        return node.usd_hour + node.dbu_hour * self.usd_per_dbu


def split_node_price(node: NodeType, usd_per_dbu: float = 0.0) -> tuple[float, float]:
    """(vCPU-hour, GiB-hour) prices whose sum over the node's shape equals its hourly price."""
    ratio = _REFERENCE_GIB_HOUR / _REFERENCE_VCPU_HOUR
    total = node.usd_hour + node.dbu_hour * usd_per_dbu
    vcpu = total / (node.vcpus + node.memory_gib * ratio)
    return vcpu, vcpu * ratio


def load_catalog(name_or_path: str | None = None) -> PriceCatalog:
    """A built-in catalog by name (default ``generic``) or a TOML file by path."""
    name_or_path = name_or_path or "generic"
    if name_or_path in BUILTIN:
        text = resources.files("analyzer.core.catalogs").joinpath(f"{name_or_path}.toml").read_text("utf-8")
        return parse_catalog(tomllib.loads(text), name_or_path)
    path = Path(name_or_path)
    try:
        data = read_toml(path, "price catalog")
    except TomlFileError as err:
        raise CatalogError(str(err)) from None
    try:
        return parse_catalog(data, str(path))
    except CatalogError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as err:  # a value of the wrong shape
        raise CatalogError(f"{path}: invalid price catalog: {type(err).__name__}: {err}") from None


def parse_catalog(data: dict[str, Any], origin: str) -> PriceCatalog:
    """Validate a parsed catalog; fill vCPU/GiB prices from its reference node if needed."""
    for key in ("name", "as_of", "source"):
        if not data.get(key):
            raise CatalogError(f"{origin}: price catalog needs '{key}'")
    _check_prices(data, origin)
    usd_per_dbu = float(data.get("usd_per_dbu", 0.0))
    vcpu, gib = data.get("vcpu_hour"), data.get("gib_hour")
    if vcpu is None or gib is None:
        ref = data.get("reference_node")
        if not ref:
            raise CatalogError(f"{origin}: give vcpu_hour and gib_hour, or a reference_node")
        vcpu, gib = split_node_price(_node(ref, origin), usd_per_dbu)
    nodes = {k: _node(v, origin) for k, v in (data.get("node_types") or {}).items()}
    warehouse = data.get("warehouse") or (
        {} if data["name"] == "generic" else load_catalog("generic").warehouse
    )
    discount = float(data.get("spot_discount", 0.0))
    if not 0 <= discount < 1:
        raise CatalogError(f"{origin}: spot_discount must be in [0, 1)")
    return PriceCatalog(
        name=str(data["name"]), description=str(data.get("description", "")), as_of=str(data["as_of"]),
        source=str(data["source"]), currency=str(data.get("currency", "USD")), vcpu_hour=float(vcpu),
        gib_hour=float(gib), spot_discount=discount, spot_source=_spot_source(data), usd_per_dbu=usd_per_dbu,
        node_types=nodes, warehouse=warehouse,
    )


def _spot_source(data: Mapping[str, Any]) -> str:
    """``source (as of date)`` of the spot discount, "" when the catalog gives none."""
    source, as_of = str(data.get("spot_source", "")), str(data.get("spot_as_of", ""))
    return f"{source} (as of {as_of})" if source and as_of else source


_PRICE_KEYS = ("vcpu_hour", "gib_hour", "usd_per_dbu", "spot_discount")
_NODE_KEYS = ("vcpus", "memory_gib", "usd_hour", "dbu_hour")


def _check_prices(data: Mapping[str, Any], origin: str) -> None:
    """Every price and size must be a finite, non-negative number.

    TOML allows ``nan`` and ``inf``; a negative or NaN price would turn into negative or
    null dollars (and numpy warnings) far from the file that caused them, so they are
    refused here with the file and the key. Every number under ``[warehouse]`` is a price.
    """
    for key in _PRICE_KEYS:
        if key in data:
            _check_number(data[key], f"{origin}: {key}")
    for section in ("reference_node", *(f"node_types.{n}" for n in (data.get("node_types") or {}))):
        node = data.get(section) if "." not in section else data["node_types"][section.split(".", 1)[1]]
        if isinstance(node, Mapping):
            for key in _NODE_KEYS:
                if key in node:
                    _check_number(node[key], f"{origin}: {section}.{key}")
    _check_tree(data.get("warehouse") or {}, f"{origin}: warehouse")


def _check_tree(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_tree(item, f"{where}.{key}")
    elif isinstance(value, (int, float)):
        _check_number(value, where)


def _check_number(value: Any, where: str) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and value >= 0):
        raise CatalogError(f"{where}: {value!r} is not a finite, non-negative number")


def _node(raw: Mapping[str, Any], origin: str) -> NodeType:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{origin}: a node type must be a table of vcpus, memory_gib and usd_hour")
    try:
        node = NodeType(vcpus=float(raw["vcpus"]), memory_gib=float(raw["memory_gib"]),
                        usd_hour=float(raw["usd_hour"]), dbu_hour=float(raw.get("dbu_hour", 0.0)))
    except (KeyError, TypeError, ValueError) as err:
        raise CatalogError(f"{origin}: node type needs vcpus, memory_gib and usd_hour ({err})") from None
    if node.vcpus <= 0:
        raise CatalogError(f"{origin}: node type vcpus must be positive")
    return node
