"""A real 127.0.0.1 socket for tests: an ASGI app under our uvicorn setup, closed however the test ends.

`serving` is the one way tests put an app on a socket; `serving_in_thread` runs it on an event loop of
its own, for a fixture that outlives one test.
"""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import AsyncGenerator, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio
from starlette.types import ASGIApp

from workers_ai_mcp.transports.http.server import ConnectionLimits, http_server


@asynccontextmanager
async def serving(
    app: ASGIApp, *, log_level: str = "WARNING", limits: ConnectionLimits | None = None
) -> AsyncGenerator[str]:
    """Serve `app` with our uvicorn setup on an ephemeral 127.0.0.1 port; yields the base URL.

    The socket listens before uvicorn starts, so connections made at once wait in the backlog
    until the app's lifespan has started: no polling for readiness.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        server = http_server(app, host="127.0.0.1", port=port, log_level=log_level, limits=limits)
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()  # however the test ends: no socket left for a later test's garbage collection


@contextmanager
def serving_in_thread(app: ASGIApp, *, log_level: str = "WARNING") -> Iterator[str]:
    """`serving` on an event loop of its own in a thread, for module-scoped fixtures (pytest-asyncio gives each
    test its own loop, and sets a fixture up and tears it down in different tasks); yields the base URL."""
    started: queue.Queue[str | BaseException] = queue.Queue(maxsize=1)
    stop = threading.Event()

    async def serve() -> None:
        async with serving(app, log_level=log_level) as base:
            started.put(base)
            await anyio.to_thread.run_sync(stop.wait)

    def run() -> None:
        try:
            anyio.run(serve)
        except BaseException as exc:  # reported to the test that waits for the start
            started.put(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        base = started.get(timeout=10)
        if isinstance(base, BaseException):
            raise base
        yield base
    finally:
        stop.set()
        thread.join(10)
