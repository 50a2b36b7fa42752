"""A priced warehouse history summed per hour x pattern (or dbt model) x warehouse x owner.

Why columns: a history can hold a million queries, so the keys are computed once per
distinct label dictionary (connectors share one dict per distinct tag) and per distinct
pattern, and the sums are one pandas ``groupby``. The owner of a query comes from
``owners.warehouse_owner``; its recurring key is the dbt model its tags name, else its
query pattern (the fingerprint ``warehouse_patterns`` ranks by cost). Rows are per hour
(reports sum them per day) so that a new window replaces exactly the hours it covers: weekly
live reads overlap at their edges, and a day-level replacement would lose part of a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from analyzer.api.history.identity import dbt_model, tag_values
from analyzer.api.history.owners import warehouse_owner
from analyzer.core.sql_text import sql_snippet
from analyzer.core.vendors import vendor
from analyzer.core.warehouse_model import WarehouseHistory
from analyzer.core.warehouse_usage import fingerprint_codes

if TYPE_CHECKING:
    from analyzer.core.warehouse_cost import WarehouseCost


def _per_labels(labels: np.ndarray, fn: Any) -> list[Any]:
    """``fn(labels)`` per row, computed once per distinct dict object."""
    cache: dict[int, Any] = {}
    out = []
    for value in labels:
        key = id(value)
        if key not in cache:
            cache[key] = fn(value if isinstance(value, dict) else {})
        out.append(cache[key])
    return out


def usage_rows(history: WarehouseHistory, cost: WarehouseCost,
               owner_keys: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per (hour, app_key, pattern, warehouse, owner) with runs, bytes, credits, slot-hours, cost."""
    import pandas as pd

    table = history.queries
    if len(table) == 0:
        return []
    frame = table.frame
    present = cost.queries.present
    codes, prints = fingerprint_codes(table)
    opened = _per_labels(frame["labels"].to_numpy(), tag_values)
    models = [dbt_model(o) for o in opened]
    users, roles, pools, projects = (frame[name].astype(object).where(frame[name].notna(), None).to_numpy()
                                     for name in ("user", "role", "warehouse", "project"))
    owners = [warehouse_owner(o, {"user": u, "role": r, "warehouse": w, "project": p}, owner_keys)
              for o, u, r, w, p in zip(opened, users, roles, pools, projects, strict=True)]
    start = frame["start_time_ms"].to_numpy()
    hour = pd.to_datetime(np.where(np.isnan(start), 0, start), unit="ms").floor("h")
    pattern = np.asarray(prints, dtype=object)[codes]
    data = pd.DataFrame({
        "hour": hour, "pattern": pattern,
        "app_key": [f"{history.vendor}:dbt={m}" if m else f"{history.vendor}:pattern={p}"
                    for m, p in zip(models, pattern, strict=True)],
        "warehouse": [w or "(on-demand)" for w in pools], "owner": [o[0] for o in owners],
        "owner_key": [o[1] for o in owners], "runs": 1,
        "bytes_scanned": frame["bytes_scanned"].to_numpy(),
        "credits": cost.queries.columns["compute_credits"] + cost.queries.columns["cloud_services_credits"],
        "slot_hours": cost.queries.columns["slot_hours"],
        "execution_ms": np.nan_to_num(frame["execution_ms"].to_numpy()),
        "cost_usd": np.where(present, cost.queries.usd, 0.0),
        "row": np.arange(len(frame)),
    })[present & ~np.isnan(start)]
    keys = ["hour", "app_key", "pattern", "warehouse", "owner", "owner_key"]
    sums = data.groupby(keys, dropna=False, sort=True).agg(
        runs=("runs", "sum"), bytes_scanned=("bytes_scanned", "sum"), credits=("credits", "sum"),
        slot_hours=("slot_hours", "sum"), execution_ms=("execution_ms", "sum"), cost_usd=("cost_usd", "sum"),
        row=("row", "first")).reset_index()
    texts = frame["query_text"]
    double_quoted = vendor(history.vendor).double_quoted_strings
    examples: dict[str, str] = {}  # one masked example per pattern: snippets cost more than sums
    out = []
    for rec in sums.to_dict("records"):
        row = int(rec.pop("row"))
        if rec["pattern"] not in examples:
            text = texts.iloc[row]
            examples[rec["pattern"]] = sql_snippet(str(text) if isinstance(text, str) else "",
                                                   double_quoted_strings=double_quoted)
        rec["example_sql"] = examples[rec["pattern"]]
        stamp = rec.pop("hour")
        rec["hour"] = stamp.to_pydatetime() if isinstance(stamp, pd.Timestamp) else dt.datetime(1970, 1, 1)
        rec["day"] = rec["hour"].date()
        rec["owner"] = rec["owner"] if isinstance(rec["owner"], str) else None
        rec["owner_key"] = rec["owner_key"] if isinstance(rec["owner_key"], str) else None
        rec["runs"], rec["bytes_scanned"] = int(rec["runs"]), int(rec["bytes_scanned"])
        rec["execution_ms"] = int(rec["execution_ms"])
        out.append(rec)
    return out
