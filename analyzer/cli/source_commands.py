"""One click command per registered source, built from the options the source declares.

Why generated: a new source (a connector module plus one registry line) gets its command,
its help and its option checks without anyone editing the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from analyzer.api.sources import Source, SourceOption, options_of


def click_param(option: SourceOption) -> click.Parameter:
    """The click argument or option for one declared source option."""
    if option.argument:
        return click.Argument([option.name], nargs=-1 if option.type == "paths" else 1, required=True)
    names = [option.flag] + ([option.short] if option.short else [])
    kwargs: dict[str, Any] = {"help": option.help, "default": option.default,
                              "show_default": option.show_default}
    if option.type == "bool":
        return click.Option(names, is_flag=True, **{**kwargs, "default": bool(option.default)})
    kwargs["type"] = {
        "str": click.STRING,
        "path": click.Path(dir_okay=False),
        "paths": click.STRING,
        "strs": click.STRING,
        "int": click.IntRange(min=_int(option.minimum), max=_int(option.maximum)),
        "float": click.FloatRange(min=option.minimum, max=option.maximum),
        "choice": click.Choice(list(option.choices)),
        "workers": WORKERS,
    }[option.type]
    if option.type in ("paths", "strs"):
        kwargs["multiple"] = True
    return click.Option(names, **kwargs)


class _Workers(click.ParamType):
    """A positive whole number of worker processes, or ``auto`` (one per usable CPU)."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if value == "auto" or (isinstance(value, int) and value >= 1):
            return value  # type: ignore[no-any-return]
        try:
            number = int(str(value))
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is not a positive whole number or 'auto'", param, ctx)
        return number


WORKERS = _Workers()


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def source_command(source: Source, callback: Callable[..., None],
                   extra: tuple[click.Parameter, ...] = ()) -> click.Command:
    """A command named after ``source`` whose callback gets ``source`` and the parsed settings."""
    declared = options_of(source)
    names = {o.name for o in declared}

    def run(**values: Any) -> None:
        settings = {k: v for k, v in values.items() if k in names}
        rest = {k: v for k, v in values.items() if k not in names}
        callback(source, settings, **rest)

    params = [click_param(o) for o in declared] + list(extra)
    return click.Command(source.name, callback=run, params=params, help=source.help)
