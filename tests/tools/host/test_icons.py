"""Icons on the wire: the server's and the tool families', only for sessions on 2025-11-25 or newer."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import httpx2
import pytest
from mcp.types import Icon, Implementation
from pydantic import SecretStr
from starlette.applications import Starlette

from support.session import open_session
from workers_ai_mcp.app import create_server
from workers_ai_mcp.selftest.registered import tool_families
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.tools.host.budgets import TEXT_FAMILIES
from workers_ai_mcp.transports.http.app import create_http_app

TOKEN = "inbound-token-for-icon-tests-0123456"


@asynccontextmanager
async def raw_session(version: str, settings: Settings, emulator_app: Starlette) -> AsyncGenerator[Any]:
    """JSON-RPC over the streamable HTTP app, `initialize` offering `version`: yields (initialize result, rpc)."""
    settings = settings.model_copy(update={"http_auth_token": SecretStr(TOKEN)})
    server = create_server(settings, transport=httpx2.ASGITransport(app=emulator_app))
    app = create_http_app(server, settings, transport="streamable-http", json_response=True)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000", headers=headers
        ) as http,
    ):
        hello = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "a-host", "version": "1"}}
        answer = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        http.headers["mcp-session-id"] = answer.headers["mcp-session-id"]
        http.headers["mcp-protocol-version"] = version
        await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})

        async def rpc(method: str) -> dict[str, Any]:
            reply = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": {}})
            return reply.json()["result"]

        yield answer.json()["result"], rpc


def svg_of(icon: Icon | dict[str, Any]) -> ElementTree.Element:
    src = icon.src if isinstance(icon, Icon) else icon["src"]
    head, _, data = src.partition(",")
    assert head.startswith("data:image/svg+xml")
    text = base64.b64decode(data).decode() if head.endswith(";base64") else unquote(data)
    return ElementTree.fromstring(text)  # well-formed SVG, or this raises


async def test_a_2025_11_25_session_gets_the_server_icon_and_each_non_text_familys_icon(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with raw_session("2025-11-25", settings, emulator_app) as (hello, rpc):
        tools = (await rpc("tools/list"))["tools"]
    server_icons = hello["serverInfo"]["icons"]
    assert server_icons and svg_of(server_icons[0]).tag.endswith("svg")
    families = tool_families()
    for tool in tools:
        if families[tool["name"]] in TEXT_FAMILIES:
            assert "icons" not in tool, tool["name"]
        else:
            assert tool["icons"] and svg_of(tool["icons"][0]).tag.endswith("svg"), tool["name"]
            assert tool["title"]
    by_family = {families[t["name"]]: t["icons"][0]["src"] for t in tools if "icons" in t}
    assert len(by_family) >= 6 and len(set(by_family.values())) >= 5  # usage and estimate share a drawing


@pytest.mark.parametrize("version", ["2025-06-18", "2025-03-26"])
async def test_sessions_before_2025_11_25_get_no_icons_anywhere(
    version: str, settings: Settings, emulator_app: Starlette
) -> None:
    async with raw_session(version, settings, emulator_app) as (hello, rpc):
        tools = (await rpc("tools/list"))["tools"]
    assert "icons" not in hello["serverInfo"]
    assert tools and not any("icons" in tool for tool in tools)


async def test_a_2026_07_28_client_sees_the_icons_and_every_tool_has_a_title(
    settings: Settings, emulator_app: Starlette
) -> None:
    who = Implementation(name="x", version="1")
    async with open_session(settings, upstream=emulator_app, client_info=who) as client:
        tools = (await client.list_tools()).tools
        used = await client.call_tool("usage", {})
        server = client.server_info
    assert all(tool.title for tool in tools)
    assert any(tool.icons for tool in tools)
    assert server is not None and server.icons  # from server/discover
    stamp = (used.meta or {})["io.modelcontextprotocol/serverInfo"]
    assert stamp["name"] == "workers-ai-mcp" and "icons" not in stamp  # not repeated in every result
