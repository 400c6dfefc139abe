"""The one way tests open an in-process MCP client session on our server.

`open_session(settings, upstream=...)` builds the server from settings (its Workers AI reached through
`upstream`: an ASGI app such as the emulator, or an httpx2 transport) or takes a server already built,
and connects the SDK's `Client` to it in memory. Subprocess (stdio) and socket (HTTP) sessions have
their own launchers: `support.transports` and `support.http`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import httpx2
from mcp import Client
from mcp.client.client import ConnectMode
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings

T = TypeVar("T")
Upstream = httpx2.AsyncBaseTransport | ASGIApp


def upstream_transport(upstream: Upstream | None) -> httpx2.AsyncBaseTransport | None:
    """An httpx2 transport for `upstream`: itself if it is one, an in-process ASGI transport for an app."""
    if upstream is None or isinstance(upstream, httpx2.AsyncBaseTransport):
        return upstream
    return httpx2.ASGITransport(app=upstream)


@asynccontextmanager
async def open_session(
    target: Settings | MCPServer,
    *,
    upstream: Upstream | None = None,
    mode: ConnectMode = "auto",
    raise_exceptions: bool = True,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """A real MCP client session, in memory, on our server.

    `target` is the settings to build the server from (Workers AI through `upstream`; without one, as
    the settings say: the built-in emulator if `emulator=True`), or a server already built. `mode` is
    the SDK's: "auto" (2026-07-28 dispatch), "legacy" (the initialize handshake; the progress token then
    travels in `_meta`) or a protocol version. Exceptions inside the server reach the test unless
    `raise_exceptions=False`; the other options go to `Client` (`message_handler`, `logging_callback`,
    `client_info`, ...).
    """
    if isinstance(target, MCPServer):
        assert upstream is None, "a server already built has its upstream"
        server = target
    else:
        server = create_server(target, transport=upstream_transport(upstream))
    async with Client(server, mode=mode, raise_exceptions=raise_exceptions, **client_options) as client:
        yield client


@asynccontextmanager
async def held_open(opened: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter `opened` in a task of its own, so that a fixture may enter and leave it from different tasks
    (pytest-asyncio runs an async fixture's setup and teardown in different tasks; anyio's cancel scopes
    refuse to be left from another task than the one that entered them)."""
    ready: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    finished = asyncio.Event()

    async def hold() -> None:
        async with opened as value:
            ready.set_result(value)
            await finished.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        task.result()  # raises what went wrong while connecting
    try:
        yield ready.result()
    finally:
        finished.set()
        await task
