"""Built-in price catalogs (TOML), loaded by ``analyzer.core.catalog``."""
