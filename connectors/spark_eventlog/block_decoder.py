"""One msgspec decoder for a whole block of event-log lines (``Decoder.decode_lines``).

Why: decoding line by line costs a Python call, a dispatch and a bytes object per line;
``decode_lines`` over a tagged union of the event structs (tag: the ``Event`` field) does
the whole block in C. Event types deanalyze does not use are in the union as empty
structs, skipped at C speed. A block with any other line (an unknown event type, malformed
JSON, a number out of range, a cut last line) fails as a whole and is decoded line by line
with ``events.DECODERS`` instead, so the result is always that of the line-by-line decoders.
"""

from __future__ import annotations

import types
from typing import Any, Union

import msgspec
from msgspec import Struct

from connectors.spark_eventlog.events import _SQL, EVENT_TYPES, _Base

# Event types Spark writes that deanalyze does not use: in the union below they decode to
# an empty struct (skipped at C speed) instead of failing a whole block.
IGNORED_EVENTS = tuple(
    prefix + name
    for prefix in ("", "org.apache.spark.scheduler.")
    for name in (
        "SparkListenerTaskGettingResult", "SparkListenerSpeculativeTaskSubmitted",
        "SparkListenerStageExecutorMetrics", "SparkListenerExecutorMetricsUpdate",
        "SparkListenerBlockManagerRemoved", "SparkListenerBlockUpdated", "SparkListenerUnpersistRDD",
        "SparkListenerResourceProfileAdded", "SparkListenerMiscellaneousProcessAdded",
        "SparkListenerExecutorBlacklisted", "SparkListenerExecutorUnblacklisted",
        "SparkListenerNodeBlacklisted", "SparkListenerNodeUnblacklisted",
        "SparkListenerExecutorBlacklistedForStage", "SparkListenerNodeBlacklistedForStage",
        "SparkListenerExecutorExcluded", "SparkListenerExecutorUnexcluded",
        "SparkListenerNodeExcluded", "SparkListenerNodeUnexcluded",
        "SparkListenerExecutorExcludedForStage", "SparkListenerNodeExcludedForStage",
        "SparkListenerUnschedulableTaskSetAdded", "SparkListenerUnschedulableTaskSetRemoved",
    )
) + (
    _SQL + "SparkListenerQueryExecutionMetrics", _SQL + "SparkListenerEffectiveSQLConf",
    "org.apache.spark.sql.streaming.StreamingQueryListener$QueryStartedEvent",
    "org.apache.spark.sql.streaming.StreamingQueryListener$QueryProgressEvent",
    "org.apache.spark.sql.streaming.StreamingQueryListener$QueryIdleEvent",
    "org.apache.spark.sql.streaming.StreamingQueryListener$QueryTerminatedEvent",
)


class Ignored(_Base):
    """An event type deanalyze does not use (see ``IGNORED_EVENTS``)."""


def _tagged(name: str, base: type[Struct]) -> type[Struct]:
    """``base`` tagged with its ``Event`` name; a module attribute, so that it pickles."""
    cls = types.new_class(base.__name__ + "Line", (base,), {"tag": name, "tag_field": "Event"})
    cls.__qualname__ = cls.__name__ = "Line_" + "".join(c if c.isalnum() else "_" for c in name)
    cls.__module__ = __name__
    globals()[cls.__name__] = cls
    return cls


# Each known event type tagged by its ``Event`` name.
_ALL_TYPES: dict[str, type[Struct]] = {**EVENT_TYPES, **dict.fromkeys(IGNORED_EVENTS, Ignored)}
TAGGED: dict[str, type[Struct]] = {name: _tagged(name, struct) for name, struct in _ALL_TYPES.items()}
BLOCK_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    Union[tuple(TAGGED.values())], strict=False,  # type: ignore[valid-type]  # noqa: UP007
)
