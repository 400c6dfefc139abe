"""The one place that reaches into the MCP SDK's private attributes; nothing else in the package may.

`MCPServer` has no public way to serve a connection over streams a caller brings (the SDK's own
in-memory `Client` reaches `_lowlevel_server` the same way); stdio needs it to hand the server
messages parsed once (`stdio.py`). tests/transports/test_sdk_private.py fails as soon as an SDK
release changes what this module, or the tool host (`tools/host/tool.py`, `tools/host/listed.py`:
the SDK's `Tool` made from kept entries with `model_construct`, its `fn_metadata` built later),
relies on.
"""

from __future__ import annotations

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
