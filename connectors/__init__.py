"""Connectors: read raw inputs (event logs, query history) and normalize them into ``analyzer.core.model``."""
