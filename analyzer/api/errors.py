"""How the API turns failures on one input into report errors instead of a lost report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.core.model import InputError


def rule_error_collector(errors: list[InputError], debug: bool) -> Callable[[str, Any, Exception], None]:
    """A rule that fails on one input becomes a one-line error about that input (``--debug`` re-raises)."""
    def collect(rule_id: str, subject: Any, err: Exception) -> None:
        if debug:
            raise err
        message = f"rule {rule_id} failed: {type(err).__name__}: {err} (rerun with --debug)"
        errors.append(InputError(source=str(getattr(subject, "source", "?")), message=message))
    return collect
