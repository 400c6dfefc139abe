"""What `sdk_private` takes from the MCP SDK's internals is still there; and nothing else takes any.

If an SDK release moves `_lowlevel_server` or the low-level server's `run`, or changes the `Tool`
internals (`fn_metadata`, `FuncMetadata`, the `output_schema` cached property) that tools made from
kept schemas rely on, these fail first, naming what changed, before any other test fails in a harder
way to read.
"""

from __future__ import annotations

import functools
import inspect
import re
from pathlib import Path

from mcp.server import MCPServer
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

from workers_ai_mcp.transports import sdk_private

PACKAGE = Path(sdk_private.__file__).parent
# `_tool_manager` is app.py's and tools/schemas.py's own matter, not the transports'.
PRIVATE_USE = re.compile(r"\._lowlevel_server\b|\._connection\b|\.router\.routes\b|\._custom_starlette_routes\b")


def test_the_sdk_still_keeps_its_low_level_server_where_sdk_private_reaches_it() -> None:
    server = MCPServer("probe")
    lowlevel = sdk_private.lowlevel_server(server)
    assert isinstance(lowlevel, Server), "MCPServer._lowlevel_server is gone or changed type"
    run = inspect.signature(lowlevel.run)
    assert list(run.parameters)[:3] == ["read_stream", "write_stream", "initialization_options"], run
    assert callable(lowlevel.create_initialization_options)


def test_the_sdk_tool_still_has_what_tools_made_from_kept_schemas_rely_on() -> None:
    """`tools/host/tool.py` makes the SDK's `Tool` with `model_construct` and builds `fn_metadata` later."""

    async def probe(text: str) -> str:
        return text

    tool = Tool.from_function(probe)
    assert isinstance(tool.fn_metadata, FuncMetadata), "Tool.fn_metadata is gone or changed type"
    assert set(Tool.model_fields) >= {
        "fn", "name", "title", "description", "parameters", "fn_metadata", "is_async", "context_kwarg",
        "resolved_params", "resolver_plans", "annotations", "icons", "meta",
    }, sorted(Tool.model_fields)  # fmt: skip
    assert isinstance(inspect.getattr_static(Tool, "output_schema"), functools.cached_property), (
        "Tool.output_schema is no longer a cached property read from fn_metadata"
    )
    assert {"arg_model", "output_schema"} <= set(FuncMetadata.model_fields)
    assert "self.fn_metadata.validate_arguments" in inspect.getsource(Tool.run)


def test_no_other_module_of_the_transports_reaches_into_the_sdk() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "sdk_private.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE_USE.search(line)
    ]
    assert offenders == []


def test_the_sdk_session_proxy_still_keeps_its_connection_where_sdk_private_reaches_it() -> None:
    from mcp.server.session import ServerSession

    assert "self._connection = connection" in inspect.getsource(ServerSession.__init__), (
        "ServerSession no longer keeps its Connection as _connection"
    )


def test_advertised_resource_changes_reach_the_handshake_options() -> None:
    server = MCPServer("probe")

    @server.resource("probe://thing")
    def thing() -> str:
        return "x"

    lowlevel = sdk_private.lowlevel_server(server)
    resources = lowlevel.create_initialization_options().capabilities.resources
    assert resources is not None and not resources.list_changed
    sdk_private.advertise_resource_changes(lowlevel)
    resources = lowlevel.create_initialization_options().capabilities.resources
    assert resources is not None and resources.list_changed
