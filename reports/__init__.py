"""Report renderers: one small class per output format, looked up in ``RENDERERS``."""

from __future__ import annotations

from reports.html_report import HtmlRenderer
from reports.json_report import JsonRenderer
from reports.markdown_report import MarkdownRenderer
from reports.renderer import Renderer

RENDERERS: dict[str, type[Renderer]] = {
    "md": MarkdownRenderer,
    "json": JsonRenderer,
    "html": HtmlRenderer,
}

__all__ = ["RENDERERS", "Renderer"]
