"""Opening a Snowflake connection from a named connection or environment variables.

A named connection comes from the connector's own ``connections.toml`` (in
``SNOWFLAKE_HOME``, default ``~/.snowflake``), resolved by the connector itself. The
Python connector does not read ``SNOWFLAKE_ACCOUNT``/``SNOWFLAKE_USER``/... (only the
Snowflake CLI does), so those are mapped here; with neither, the connector's default
connection is used. Every secret we can know of is scrubbed from error messages.

Every connection gets ``login_timeout``, ``network_timeout`` and ``socket_timeout`` (the
source's ``timeout`` option, default 60 s): the driver's own defaults retry a host that
does not answer for minutes before saying anything.
"""

from __future__ import annotations

import os
from typing import Any

from connectors.warehouse_files import WarehouseInputError, scrub_secrets

#: SNOWFLAKE_<NAME> environment variables → connect() keyword (Snowflake CLI names).
ENV_KEYWORDS = {
    "ACCOUNT": "account",
    "USER": "user",
    "PASSWORD": "password",
    "ROLE": "role",
    "WAREHOUSE": "warehouse",
    "DATABASE": "database",
    "SCHEMA": "schema",
    "AUTHENTICATOR": "authenticator",
    "TOKEN": "token",
    "PRIVATE_KEY_FILE": "private_key_file",
    "PRIVATE_KEY_FILE_PWD": "private_key_file_pwd",
    "PASSCODE": "passcode",
    "HOST": "host",
    "PORT": "port",
    "PROTOCOL": "protocol",
}
_SECRET_KEYWORDS = (
    "password",
    "token",
    "private_key_file_pwd",
    "passcode",
    "private_key",
    "oauth_client_secret",
)
INSTALL_HINT = (
    "snowflake-connector-python is not installed: install it with pip install 'deanalyze[snowflake]'"
)


def import_connector(source: str) -> Any:
    """The ``snowflake.connector`` module, or a WarehouseInputError naming the extra."""
    try:
        import snowflake.connector
    except ImportError:
        raise WarehouseInputError(INSTALL_HINT, source) from None
    return snowflake.connector


DEFAULT_TIMEOUT_S = 60


def timeout_kwargs(timeout: int) -> dict[str, int]:
    """The driver's three timeouts, all ``timeout`` seconds: logging in, each request, each socket read."""
    return {"login_timeout": timeout, "network_timeout": timeout, "socket_timeout": timeout}


def connect(connection_name: str | None, source: str, *, timeout: int = DEFAULT_TIMEOUT_S) -> Any:
    """Open a connection; failures become one scrubbed line (never the password)."""
    sf = import_connector(source)
    kwargs: dict[str, Any] = {"connection_name": connection_name} if connection_name else env_kwargs()
    kwargs |= timeout_kwargs(timeout)
    try:
        return sf.connect(**kwargs)
    except Exception as exc:  # the driver raises many types (config, network, auth); all are user-facing
        secrets = known_secrets(connection_name, kwargs)
        raise WarehouseInputError(f"cannot connect: {scrub_secrets(str(exc), secrets)}", source) from None


def env_kwargs() -> dict[str, Any]:
    """connect() keywords from SNOWFLAKE_* variables; {} (default connection) without an account."""
    if not os.environ.get("SNOWFLAKE_ACCOUNT"):
        return {}
    kwargs: dict[str, Any] = {}
    for name, keyword in ENV_KEYWORDS.items():
        value = os.environ.get(f"SNOWFLAKE_{name}")
        if value:
            kwargs[keyword] = int(value) if keyword == "port" and value.isdigit() else value
    return kwargs


def known_secrets(connection_name: str | None, kwargs: dict[str, Any]) -> list[str]:
    """Secret values to scrub: from the keywords and from the named connection's settings."""
    values = [str(kwargs[k]) for k in _SECRET_KEYWORDS if kwargs.get(k)]
    if connection_name:
        try:
            from snowflake.connector.config_manager import CONFIG_MANAGER

            connections: Any = CONFIG_MANAGER["connections"]
            settings = connections.get(connection_name, {})
            values += [str(settings[k]) for k in _SECRET_KEYWORDS if settings.get(k)]
        except Exception:  # noqa: BLE001 - an unreadable config only means fewer known secrets
            pass
    return values
