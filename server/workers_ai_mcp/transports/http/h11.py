"""The h11 protocol our HTTP transports serve with: connection caps and a deadline for request headers.

uvicorn has no header timeout (`timeout_keep_alive` only runs between requests) and its
`limit_concurrency` answers 503 but keeps the connection open; this protocol closes a connection
whose headers take too long and refuses one over the cap at once, and says so in its own log,
at most once per interval for each cause (an abusive client cannot flood the log). Imported only
when HTTP is served.

One client must not hold every slot, and nobody is authenticated before its headers arrive: so each
source address has its own cap, and the last `reserved_connections` slots are handed out marked
(`RESERVED_SLOT` in each request's scope), which the gate serves only for `/health` and requests
with the bearer token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar, cast

from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from .gate import RESERVED_SLOT, install_log_limits

logger = logging.getLogger(__name__)

TOO_MANY = "Refused a connection: %d connections are open, the limit (WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS)"
TOO_MANY_FROM = (
    "Refused a connection from %s: it has %d open, the limit per client "
    "(WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS_PER_CLIENT)"
)
TOO_SLOW = "Closed a connection whose request headers took over %g s (WORKERS_AI_MCP_HTTP_HEADER_TIMEOUT)"


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-server connection limits (the defaults are those of `Settings`)."""

    max_connections: int = 200
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5
    max_connections_per_client: int = 50
    reserved_connections: int = 20

    @property
    def general_share(self) -> int:
        """Connections anyone may use; past them a connection serves only `/health` and authenticated
        requests (the reserve is at most half the cap)."""
        return self.max_connections - min(self.reserved_connections, self.max_connections // 2)


def guarded_h11(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with `limits`; its refusals are logged at most once per interval each."""
    install_log_limits(__name__, [TOO_MANY[:24], TOO_MANY_FROM[:24], TOO_SLOW[:24]])
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits, "open_by_client": Counter[str]()})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a connection cap and a deadline for each request's headers."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    open_by_client: ClassVar[Counter[str]] = Counter()  # one per server (`guarded_h11`)
    _header_timer: asyncio.TimerHandle | None = None
    _address: str | None = None
    _reserved = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]
        assert isinstance(transport, asyncio.Transport)
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        self.open_by_client[self._address] += 1
        from_client = self.open_by_client[self._address]
        if len(self.connections) > self.limits.max_connections:
            logger.warning(TOO_MANY, self.limits.max_connections)
            _refuse(transport, b"Too many connections; retry shortly.\n")
            return
        if from_client > self.limits.max_connections_per_client:
            logger.warning(TOO_MANY_FROM, self._address, self.limits.max_connections_per_client)
            _refuse(transport, b"Too many connections from your address; close some or retry shortly.\n")
            return
        self._reserved = len(self.connections) > self.limits.general_share
        self._arm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers arrived in full
            self._disarm()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self._reserved and self.cycle is not cycle:  # its task has not started yet: the gate sees the mark
            cast("dict[str, object]", self.cycle.scope)[RESERVED_SLOT] = True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers are on the clock from now

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._address is not None:
            self.open_by_client[self._address] -= 1
            if self.open_by_client[self._address] <= 0:
                del self.open_by_client[self._address]
            self._address = None
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


def _refuse(transport: asyncio.Transport, body: bytes) -> None:
    """A `503` written straight to the socket, then closed: the refused connection costs nothing more."""
    transport.write(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n"
        b"retry-after: 1\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    transport.close()
