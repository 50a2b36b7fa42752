"""The interface every report format implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from analyzer.core.report import Report


class Renderer(ABC):
    """Turns a ``Report`` into the bytes of one output format."""

    media_type: str = "text/plain"

    @abstractmethod
    def render(self, report: Report) -> bytes:
        """The whole document."""
