"""What a source of input is, as data: its name, its options and how it is read.

Why data and not code in the CLI: the ``deanalyze`` command, the library API and the
weekly audit all need the same facts about a source (which options it takes, which of
them are file paths, which combinations are invalid, how to read it). Declaring them once
here lets each connector describe itself in one ``SOURCE = ...`` and the registry
(``analyzer.api.sources``) list it in one line; the CLI builds a command and the audit a
``[[table]]`` from the same declaration.

Two kinds of source exist. A *Spark* source finds event logs (local files, object-store
URLs, or logs downloaded from a History Server) that the Spark reader then parses; a
*warehouse* source reads one query history (BigQuery, Snowflake) into the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from analyzer.core.model import InputError
from analyzer.core.warehouse_model import WarehouseHistory

OptionType = Literal["str", "strs", "path", "paths", "int", "float", "bool", "choice", "workers"]
Settings = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class SourceOption:
    """One setting of a source: ``--jobs-file`` on the command line, ``jobs_file`` in the audit.

    ``type`` decides the CLI parameter and the TOML type: ``strs``/``paths`` are lists (a
    repeatable option on the command line), ``workers`` is a whole number or ``"auto"``, and
    ``path``/``paths`` values are resolved against the audit config's folder. ``argument``
    makes it positional on the command line; ``audit=False`` keeps it off the audit table
    (e.g. a live window the audit fixes itself).
    """

    name: str
    help: str
    type: OptionType = "str"
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    argument: bool = False
    short: str | None = None
    audit: bool = True
    show_default: bool = False

    @property
    def flag(self) -> str:
        """The command-line spelling: ``jobs_file`` → ``--jobs-file``."""
        return "--" + self.name.replace("_", "-")


class LogRef(Protocol):
    """A Spark event log found by a source, ready for the Spark reader."""

    @property
    def display(self) -> str:
        """The log's name in reports and errors."""
        ...


@dataclass(frozen=True, slots=True)
class SparkSource:
    """A source of Spark event logs: ``find`` turns settings into logs plus the inputs it could not list.

    ``find`` also gets a scratch folder that lives until the logs have been read, for
    sources that must download them first (a History Server).
    """

    name: str
    audit_table: str
    help: str
    options: tuple[SourceOption, ...]
    find: Callable[[Settings, str], tuple[Sequence[LogRef], Sequence[InputError]]]
    check: Callable[[Settings], None] = lambda _settings: None
    kind: Literal["spark"] = "spark"


@dataclass(frozen=True, slots=True)
class WarehouseSource:
    """A source of one warehouse query history; ``read`` raises ``UnreadableInput`` when it cannot.

    ``label`` names the input in an error when the connector's error does not;
    ``check`` raises ``SourceSettingsError`` for settings that do not go together.
    """

    name: str
    audit_table: str
    help: str
    options: tuple[SourceOption, ...]
    read: Callable[[Settings], WarehouseHistory]
    label: Callable[[Settings], str]
    check: Callable[[Settings], None] = lambda _settings: None
    kind: Literal["warehouse"] = "warehouse"


Source = SparkSource | WarehouseSource
