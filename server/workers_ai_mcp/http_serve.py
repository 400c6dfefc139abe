"""uvicorn under our control: no access log, our logging, a short shutdown grace, and limits that hold
under abuse.

uvicorn keeps a connection whose request headers never finish for ever (its keep-alive timeout only
runs between requests), and its `limit_concurrency` answers 503 to requests while leaving every
connection open. So the HTTP protocol here closes a connection whose request headers take longer
than the header timeout, and closes a new connection at once while the connection cap is reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from .http_guard import install_log_limits

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

logger = logging.getLogger(__name__)

# Seconds uvicorn lets open requests finish after a signal before cancelling them.
SHUTDOWN_GRACE = 3
_TOO_MANY = "Refused a connection: %d connections are open, the limit (WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS)"
_TOO_SLOW = "Closed a connection whose request headers took over %g s (WORKERS_AI_MCP_HTTP_HEADER_TIMEOUT)"


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-server connection limits (the defaults are those of `Settings`)."""

    max_connections: int = 200
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5


def http_server(
    app: ASGIApp, *, host: str, port: int, log_level: str, limits: ConnectionLimits | None = None
) -> uvicorn.Server:
    """A uvicorn server for `app`: no access log, our logging, our limits, exit code left to us."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None]:
            # uvicorn re-raises the captured signal after its graceful shutdown, which would
            # kill the process by SIGTERM instead of letting it exit with status 0.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            from uvicorn.server import HANDLED_SIGNALS

            originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    chosen = limits or ConnectionLimits()
    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _DropCancelledRequests) for existing in errors.filters):
        errors.addFilter(_DropCancelledRequests())
    install_log_limits("uvicorn.error", ["Invalid HTTP request received", "Exceeded concurrency limit"])
    install_log_limits(__name__, [_TOO_MANY[:24], _TOO_SLOW[:24]])
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_h11(chosen),
        lifespan="on",
        log_config=None,  # no handlers of uvicorn's own (its access log would write to stdout)
        log_level=log_level.lower(),
        access_log=False,
        server_header=False,
        timeout_keep_alive=chosen.keep_alive_timeout,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return Server(config)


def guarded_h11(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a connection cap and a deadline for each request's headers."""
    from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]
            assert isinstance(transport, asyncio.Transport)
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                logger.warning(_TOO_MANY, limits.max_connections)
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
            self._header_timer = self.loop.call_later(limits.header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            cycle = cast("RequestResponseCycle | None", self.cycle)  # uvicorn types it; None before a request
            if cycle is not None and not cycle.response_complete:
                return  # a request is being served; its body and answer have their own clocks
            logger.warning(_TOO_SLOW, limits.header_timeout)
            self.transport.close()

    return GuardedH11Protocol


class _DropCancelledRequests(logging.Filter):
    """uvicorn logs a full traceback for each request it cancels when the grace period ends; its own
    "Cancel N running task(s)" line already says so, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))
