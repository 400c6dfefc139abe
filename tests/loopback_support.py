"""A real 127.0.0.1 socket for tests: an ASGI app under our uvicorn setup, closed however the test ends."""

from __future__ import annotations

import socket
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

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
