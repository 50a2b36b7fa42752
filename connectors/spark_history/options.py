"""How to reach a History Server: timeouts, retries, TLS, auth headers and a download cap.

One frozen value object, so the CLI, the API and the weekly audit build the same thing
from their own flags or config and the client never reads ``sys.argv`` or the environment.
Header values are credentials: they are kept out of ``repr()`` so a traceback or a debug
print of the options never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from analyzer.core.units import GiB as GIB


@dataclass(frozen=True, slots=True)
class HistoryOptions:
    """Connection settings for one History Server; the defaults suit a cluster on a LAN.

    Attributes:
        headers: extra request headers, typically ``Authorization: Bearer ...``; sent only to
            the History Server's own origin (dropped on a redirect to another host), never
            printed, and scrubbed from every error message.
        connect_timeout_s: seconds to open the TCP (and TLS) connection.
        read_timeout_s: seconds to wait for each read of the answer; a History Server that
            replays a large log before answering needs more than a connect timeout.
        retries: further attempts after the first on connection errors, timeouts, 429 and 5xx.
        backoff_base_s: first back-off delay; it doubles with each retry (with jitter).
        backoff_max_s: the longest single back-off delay.
        max_retry_after_s: the longest ``Retry-After`` honoured; a server asking for more
            gets a clear error instead of a silently stuck run.
        verify_tls: check the server certificate (turn off only for self-signed test servers).
        ca_bundle: a PEM file of CA certificates to trust instead of the system's.
        max_download_bytes: the largest answer accepted; a bigger one is an error, not a full disk.
    """

    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    max_download_bytes: int = 2 * GIB

    def __post_init__(self) -> None:
        # A private read-only copy: the caller's dict may change later, these options may not.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if min(self.connect_timeout_s, self.read_timeout_s) <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_download_bytes <= 0:
            raise ValueError("max_download_bytes must be positive")
        for name in self.headers:
            if not name or any(c in name for c in ":\r\n "):
                raise ValueError(f"invalid header name: {name!r}")
        for name, value in self.headers.items():
            if "\r" in value or "\n" in value:  # the value is a secret: name only the header
                raise ValueError(f"header {name} has a line break in its value")


def parse_header(text: str) -> tuple[str, str]:
    """``'Authorization: Bearer abc'`` -> ``('Authorization', 'Bearer abc')``, as curl's ``-H``.

    Raises:
        ValueError: without a colon or a name; the message never repeats the value.
    """
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or " " in name:
        raise ValueError("a header is 'Name: value' (for example 'Authorization: Bearer <token>')")
    return name, value.strip()
