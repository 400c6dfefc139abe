"""The one place that reaches into the MCP SDK's private attributes; nothing else in the package may.

`MCPServer` has no public way to serve a connection over streams a caller brings (the SDK's own
in-memory `Client` reaches `_lowlevel_server` the same way); stdio needs it to hand the server
messages parsed once (`stdio.py`). Change notifications need the connection behind a request's
`ServerSession` (to notify it later, from another request) and initialization options that say the
resource list changes (`MCPServer` passes none, so `listChanged` would always be false before
2026-07-28). tests/transports/test_sdk_private.py fails as soon as an SDK
release changes what this module, or the tool host (`tools/host/tool.py`, `tools/host/listed.py`:
the SDK's `Tool` made from kept entries with `model_construct`, its `fn_metadata` built later),
relies on.
"""

from __future__ import annotations

from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.session import ServerSession

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


def connection_of(session: ServerSession) -> Connection:
    """The connection a request's session proxy belongs to (the same object for every request of it)."""
    connection: Connection = session._connection  # pyright: ignore[reportPrivateUsage]
    return connection


def advertise_resource_changes(lowlevel: Server[Any]) -> None:
    """Make every handshake (stdio, SSE, streamable HTTP) advertise `resources.listChanged`."""
    make = lowlevel.create_initialization_options

    def with_changes(notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any) -> Any:
        return make(notification_options or NotificationOptions(resources_changed=True), *args, **kwargs)

    lowlevel.create_initialization_options = with_changes  # pyright: ignore[reportAttributeAccessIssue]
