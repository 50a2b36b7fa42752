"""Reading a user's TOML file (rules config, audit config, price catalog) with one-line errors.

Why one reader: every file a user writes by hand fails the same few ways — missing,
unreadable, not UTF-8, not TOML, nested beyond what the parser survives — and each must
be one line naming the file, whichever config it was.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(ValueError):
    """A TOML file that cannot be read; ``str()`` is one line starting with the file's path."""


def read_toml(path: str | os.PathLike[str], what: str = "") -> dict[str, Any]:
    """The parsed document at ``path``; ``what`` names the file's role in the "cannot read" message."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        role = f" {what}" if what else ""
        raise TomlFileError(f"{path}: cannot read{role}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise TomlFileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise TomlFileError(f"{path}: invalid TOML: {err}") from None
    except RecursionError:
        raise TomlFileError(f"{path}: invalid TOML: nested too deeply") from None
