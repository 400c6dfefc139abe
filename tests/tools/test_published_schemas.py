"""The schemas kept in `tools/host/published.json` are exactly what the tools' signatures give.

A start serves `tools/list` from that file and builds a tool's argument model on its first call
(`tools/host/registry.py`). After changing a tool's parameters or result, rewrite the file with
`UPDATE_SNAPSHOTS=1 uv run pytest tests/tools/test_published_schemas.py`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from mcp import Client
from mcp.server import MCPServer

from workers_ai_mcp.app import TOOL_MODULES
from workers_ai_mcp.tools.host.registry import Registry
from workers_ai_mcp.tools.host.schemas import PUBLISHED_FILE, Published, dump_published, published_of
from workers_ai_mcp.tools.host.tool import PublishedHostTool


def built_now() -> dict[str, Published]:
    registry = registry_with({})
    kept = {tool.name: published_of(tool) for tool in registry.tools}
    return {name: entry for name, entry in kept.items() if entry is not None}


def test_the_kept_schemas_are_those_the_tool_signatures_give() -> None:
    expected = dump_published(built_now())
    if os.environ.get("UPDATE_SNAPSHOTS"):
        PUBLISHED_FILE.write_text(expected, encoding="utf-8")
    assert PUBLISHED_FILE.read_text(encoding="utf-8") == expected, (
        "tools/host/published.json is out of date: run UPDATE_SNAPSHOTS=1 uv run pytest "
        "tests/tools/test_published_schemas.py"
    )


def registry_with(published: dict[str, Published] | None) -> Registry:
    registry = Registry(published=published)
    for module in TOOL_MODULES:
        module.register(registry)
    return registry


async def listed(registry: Registry) -> list[dict[str, Any]]:
    async with Client(MCPServer[Any]("listed", tools=registry.tools), mode="legacy") as client:
        result = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]


async def test_tools_list_from_kept_schemas_is_the_one_built_from_signatures() -> None:
    kept, built = await listed(registry_with(None)), await listed(registry_with({}))
    assert json.dumps(kept) == json.dumps(built)  # key order too: hosts show parameters in it


async def test_a_tool_made_from_kept_schemas_builds_its_argument_model_only_when_first_called() -> None:
    registry = registry_with(None)
    server = MCPServer[Any]("lazy", tools=registry.tools)
    tools = {tool.name: tool for tool in registry.tools}
    translate = tools["translate"]
    assert isinstance(translate, PublishedHostTool) and "fn_metadata" not in translate.__dict__
    async with Client(server, mode="legacy") as client:
        await client.list_tools()
        assert "fn_metadata" not in translate.__dict__
        refused = await client.call_tool("translate", {"text": "hi", "target_lang": "x"})
    assert refused.is_error and "target_lang" in str(refused.content)
    assert "fn_metadata" in translate.__dict__ and "fn_metadata" not in tools["chat"].__dict__
