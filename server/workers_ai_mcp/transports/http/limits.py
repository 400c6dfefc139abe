"""Connection limits of our HTTP server, and the log lines that say when they act."""

from __future__ import annotations

from dataclasses import dataclass

TOO_MANY = "Refused a connection: %d connections are open, the limit (WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS)"
TOO_SLOW = "Closed a connection whose request headers took over %g s (WORKERS_AI_MCP_HTTP_HEADER_TIMEOUT)"


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-server connection limits (the defaults are those of `Settings`)."""

    max_connections: int = 200
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5
