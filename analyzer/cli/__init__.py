"""The ``deanalyze`` command: options parsed, one call to ``analyzer.api``, one exit code.

Every source in the registry (``analyzer.api.sources``) becomes a command built from its
declared options (``analyzer.cli.source_commands``); the other commands (audit, rules,
explain) live in ``analyzer.cli.main``.
"""

from analyzer.cli.main import main

__all__ = ["main"]
