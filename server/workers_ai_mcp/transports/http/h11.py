"""The h11 protocol our HTTP transports serve with: a connection cap and a deadline for request headers.

uvicorn has no header timeout (`timeout_keep_alive` only runs between requests) and its
`limit_concurrency` answers 503 but keeps the connection open; this protocol closes a connection
whose headers take too long and refuses one over the cap at once, and says so in its own log,
at most once per interval for each cause (an abusive client cannot flood the log). Imported only
when HTTP is served.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import ClassVar, cast

from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from .gate import install_log_limits

logger = logging.getLogger(__name__)

TOO_MANY = "Refused a connection: %d connections are open, the limit (WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS)"
TOO_SLOW = "Closed a connection whose request headers took over %g s (WORKERS_AI_MCP_HTTP_HEADER_TIMEOUT)"


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-server connection limits (the defaults are those of `Settings`)."""

    max_connections: int = 200
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5


def guarded_h11(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with `limits`; its refusals are logged at most once per interval each."""
    install_log_limits(__name__, [TOO_MANY[:24], TOO_SLOW[:24]])
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a connection cap and a deadline for each request's headers."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]
        assert isinstance(transport, asyncio.Transport)
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            logger.warning(TOO_MANY, self.limits.max_connections)
            body = b"Too many connections; retry shortly.\n"
            transport.write(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n"
                b"retry-after: 1\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers arrived in full
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers are on the clock from now

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        cycle = cast("RequestResponseCycle | None", self.cycle)  # uvicorn types it; None before a request
        if cycle is not None and not cycle.response_complete:
            return  # a request is being served; its body and answer have their own clocks
        logger.warning(TOO_SLOW, self.limits.header_timeout)
        self.transport.close()
