"""Tool annotations through a real MCP session: a billed tool is never read-only (a host that auto-approves
read-only tools must not spend without asking); the free look-ups are."""

from __future__ import annotations

from mcp import Client

from workers_ai_mcp.tools.host.common import COST_NOTE

FREE_READS = {"list_models", "get_model_schema", "list_batches", "usage"}


async def test_billed_tools_are_not_read_only_and_destroy_nothing(mcp_client: Client) -> None:
    billed = [tool for tool in (await mcp_client.list_tools()).tools if COST_NOTE in (tool.description or "")]
    assert len(billed) >= 15
    for tool in billed:
        hints = tool.annotations
        assert hints is not None, tool.name
        assert not hints.read_only_hint, tool.name  # absent means false (the spec's default)
        assert hints.destructive_hint is False, tool.name
        assert hints.open_world_hint in (None, True), tool.name  # absent means true


async def test_the_free_look_ups_stay_read_only(mcp_client: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp_client.list_tools()).tools}
    for name in FREE_READS:
        assert COST_NOTE not in (tools[name].description or "")
        hints = tools[name].annotations
        assert hints is not None and hints.read_only_hint is True, name
