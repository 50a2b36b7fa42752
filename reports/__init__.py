"""Report renderers: one small class per output format, looked up in ``RENDERERS``.

Renderer modules are imported on first use, so reading logs into JSON never pays for
the HTML dashboard's imports (plotly).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from reports.renderer import Renderer

_LOCATIONS = {
    "md": ("reports.markdown_report", "MarkdownRenderer"),
    "json": ("reports.json_report", "JsonRenderer"),
    "html": ("reports.html_report", "HtmlRenderer"),
}


class _Renderers(Mapping[str, type[Renderer]]):
    """Format name -> renderer class, imported lazily."""

    def __getitem__(self, name: str) -> type[Renderer]:
        module, cls = _LOCATIONS[name]
        renderer: type[Renderer] = getattr(importlib.import_module(module), cls)
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(_LOCATIONS)

    def __len__(self) -> int:
        return len(_LOCATIONS)


RENDERERS: Mapping[str, type[Renderer]] = _Renderers()

__all__ = ["RENDERERS", "Renderer"]
