"""uvicorn under our control: no access log, our logging, a short shutdown grace, and limits that hold
under abuse.

uvicorn keeps a connection whose request headers never finish for ever (its keep-alive timeout only
runs between requests), and its `limit_concurrency` answers 503 to requests while leaving every
connection open. So the HTTP protocol here closes a connection whose request headers take longer
than the header timeout, and closes a new connection at once while the connection cap is reached
(`h11.py`). Imported only when HTTP is served: uvicorn's protocol modules come with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING

from .gate import install_log_limits
from .h11 import ConnectionLimits, guarded_h11

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

__all__ = ["SHUTDOWN_GRACE", "ConnectionLimits", "http_server"]

logger = logging.getLogger(__name__)

# Seconds uvicorn lets open requests finish after a signal before cancelling them.
SHUTDOWN_GRACE = 3


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


class _DropCancelledRequests(logging.Filter):
    """uvicorn logs a full traceback for each request it cancels when the grace period ends; its own
    "Cancel N running task(s)" line already says so, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))
