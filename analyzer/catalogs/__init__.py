"""Built-in price catalogs (TOML), loaded by ``analyzer.catalog``."""
