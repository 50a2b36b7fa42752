"""The floor of the house: everything a finding, a cost or a report is made of.

The domain model (Spark and warehouse), findings and severities, units, statistics, the
shared timeline, the query table, SQL-text normalisation, the cost model and its price
catalogs. Nothing here reads input, runs a rule, renders a screen or parses an option:
``connectors``, ``rules`` and ``reports`` stand on this package and the library API
(``analyzer.api``) wires them together. import-linter keeps it so (pyproject.toml).
"""
