"""deanalyze: where the money and the time of data pipelines go. Public API: ``analyzer.api``."""

__version__ = "0.1.0"
