"""Spark rules, one per module; importing this package registers them all."""

from rules.spark import spill  # noqa: F401
