"""What `sdk_private` takes from the MCP SDK's internals is still there; and nothing else takes any.

If an SDK release moves `_lowlevel_server` or the low-level server's `lifespan`/`run`, these fail
first, naming what changed, before any transport test fails in a harder way to read.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from mcp.server import MCPServer
from mcp.server.lowlevel.server import Server

from workers_ai_mcp.transports import sdk_private

PACKAGE = Path(sdk_private.__file__).parent
# `_tool_manager` is app.py's and tools/schemas.py's own matter, not the transports'.
PRIVATE_USE = re.compile(r"\._lowlevel_server\b|\.router\.routes\b|\._custom_starlette_routes\b")


def test_the_sdk_still_keeps_its_low_level_server_where_sdk_private_reaches_it() -> None:
    server = MCPServer("probe")
    lowlevel = sdk_private.lowlevel_server(server)
    assert isinstance(lowlevel, Server), "MCPServer._lowlevel_server is gone or changed type"
    assert callable(lowlevel.lifespan), "Server.lifespan is no longer a settable callable"
    run = inspect.signature(lowlevel.run)
    assert list(run.parameters)[:3] == ["read_stream", "write_stream", "initialization_options"], run
    assert callable(lowlevel.create_initialization_options)


async def test_the_shared_lifespan_is_entered_once_and_restored() -> None:
    server = MCPServer("probe")
    lowlevel = sdk_private.lowlevel_server(server)
    own = lowlevel.lifespan
    async with (
        sdk_private.lifespan_shared_by_connections(server),
        lowlevel.lifespan(lowlevel) as first,
        lowlevel.lifespan(lowlevel) as second,
    ):
        assert first is second
    assert lowlevel.lifespan is own


def test_no_other_module_of_the_transports_reaches_into_the_sdk() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "sdk_private.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE_USE.search(line)
    ]
    assert offenders == []
