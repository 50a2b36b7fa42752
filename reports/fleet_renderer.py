"""The fleet view's formats: ``deanalyze history --format md|json|html`` and ``deanalyze dashboard``.

Why a second mapping beside ``RENDERERS``: a fleet report (``analyzer.core.fleet.FleetReport``)
is a different document from a run's ``Report``, but its formats follow the same pattern: one
small class per format, imported on first use so Markdown and JSON never load plotly.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping

from analyzer.core.fleet import FleetReport
from reports.fmt import fmt_usd


class FleetRenderer(ABC):
    """Turns a ``FleetReport`` into the bytes of one output format."""

    media_type: str = "text/plain"

    @abstractmethod
    def render(self, fleet: FleetReport) -> bytes:
        """The whole document."""


def signed_usd(amount: float | None) -> str:
    """A saving that may be negative (the runs got dearer): ``-$0.0012``, not ``$-0.0012``."""
    if amount is None:
        return "-"
    return ("-" if amount < 0 else "") + fmt_usd(abs(amount))


_LOCATIONS = {
    "md": ("reports.fleet_markdown", "FleetMarkdownRenderer"),
    "json": ("reports.fleet_json", "FleetJsonRenderer"),
    "html": ("reports.fleet_html", "FleetHtmlRenderer"),
}


class _FleetRenderers(Mapping[str, type[FleetRenderer]]):
    """Format name -> fleet renderer class, imported lazily."""

    def __getitem__(self, name: str) -> type[FleetRenderer]:
        module, cls = _LOCATIONS[name]
        renderer: type[FleetRenderer] = getattr(importlib.import_module(module), cls)
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(_LOCATIONS)

    def __len__(self) -> int:
        return len(_LOCATIONS)


FLEET_RENDERERS: Mapping[str, type[FleetRenderer]] = _FleetRenderers()
