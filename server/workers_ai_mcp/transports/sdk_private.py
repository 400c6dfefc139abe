"""The one place that reaches into the MCP SDK's private attributes; nothing else in the package may.

`MCPServer` has no public way to serve a connection over streams a caller brings (the SDK's own
in-memory `Client` reaches `_lowlevel_server` the same way), and its SSE app enters the server
lifespan once per connection. tests/transports/test_sdk_private.py fails as soon as an SDK
release changes what this module relies on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.lowlevel.server import Server

T = TypeVar("T")


def lowlevel_server(server: MCPServer[T]) -> Server[T]:
    """The low-level `Server` behind `server`."""
    lowlevel: Server[T] = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]
    return lowlevel


async def serve_streams(
    server: MCPServer[Any],
    read: Any,
    write: Any,
) -> None:
    """Serve one connection over the streams of an SDK transport (its lifespan is entered for it)."""
    lowlevel = lowlevel_server(server)
    await lowlevel.run(read, write, lowlevel.create_initialization_options())


@asynccontextmanager
async def lifespan_shared_by_connections(server: MCPServer[Any]) -> AsyncGenerator[None]:
    """Enter the server lifespan once; every connection served meanwhile gets that one state.

    The SDK's SSE app enters the server lifespan per connection (for us: a new Workers AI client
    and a new spending tally each time).
    """
    lowlevel = lowlevel_server(server)
    own: Callable[[Server[Any]], AbstractAsyncContextManager[Any]] = lowlevel.lifespan
    async with own(lowlevel) as state:

        def shared(_server: object) -> AbstractAsyncContextManager[Any]:
            return nullcontext(state)

        lowlevel.lifespan = shared
        try:
            yield
        finally:
            lowlevel.lifespan = own
