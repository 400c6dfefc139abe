"""The MCP Apps viewer: linked from the media tools for sessions that declare Apps, invisible to the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.types import TextResourceContents
from starlette.applications import Starlette

from support.apps import AppsClient
from support.media import data_uri, small_png
from support.session import open_session
from workers_ai_mcp.app import tool_modules
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.tools.host.apps import VIEWED_TOOLS, VIEWER_URI
from workers_ai_mcp.tools.host.registry import Registry

APP_MIME = "text/html;profile=mcp-app"


def wire(result: Any) -> str:
    return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)


def test_every_tool_the_viewer_shows_is_a_tool_of_ours() -> None:
    registry = Registry(published={})
    for module in tool_modules():
        module.register(registry)
    assert set(registry.names) >= VIEWED_TOOLS


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_client_that_declares_apps_sees_the_viewer_link_on_the_media_tools_only(
    settings: Settings, emulator_app: Starlette, mode: str
) -> None:
    async with open_session(settings, upstream=emulator_app, mode=mode, extensions=[AppsClient()]) as client:  # type: ignore[arg-type]
        tools = (await client.list_tools()).tools
    linked = {tool.name for tool in tools if (tool.meta or {}).get("ui") == {"resourceUri": VIEWER_URI}}
    assert linked == VIEWED_TOOLS
    assert all("ui" not in (tool.meta or {}) for tool in tools if tool.name not in VIEWED_TOOLS)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_client_without_apps_gets_the_tools_list_of_a_server_without_apps(
    settings: Settings, emulator_app: Starlette, mode: str
) -> None:
    async with open_session(settings, upstream=emulator_app, mode=mode) as client:  # type: ignore[arg-type]
        with_apps = await client.list_tools()
    without = settings.model_copy(update={"apps": False})
    async with open_session(without, upstream=emulator_app, mode=mode) as client:  # type: ignore[arg-type]
        apps_off = await client.list_tools()
    assert wire(with_apps) == wire(apps_off)


async def test_the_viewer_is_listed_and_read_as_an_app_page_that_names_no_origin(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app, extensions=[AppsClient()]) as client:
        listed = {str(resource.uri): resource for resource in (await client.list_resources()).resources}
        read = await client.read_resource(VIEWER_URI)
    assert listed[VIEWER_URI].mime_type == APP_MIME
    (page,) = read.contents
    assert isinstance(page, TextResourceContents)
    assert page.mime_type == APP_MIME
    assert page.meta == {"ui": {"csp": {}, "prefersBorder": True}}
    assert "<script>" in page.text and "src=" not in page.text.split("<script>")[0]
    assert "default-src 'none'" in page.text


async def test_a_tool_result_is_the_same_whether_or_not_the_client_declares_apps(
    settings: Settings, emulator_app: Starlette
) -> None:
    arguments = {"image": data_uri(small_png(), "image/png")}
    async with open_session(settings, upstream=emulator_app, extensions=[AppsClient()]) as client:
        seen_by_app_host = await client.call_tool("describe_image", arguments)
    async with open_session(settings, upstream=emulator_app) as client:
        seen_by_plain_host = await client.call_tool("describe_image", arguments)
    assert not seen_by_app_host.is_error
    assert wire(seen_by_app_host) == wire(seen_by_plain_host)


async def test_with_apps_turned_off_nothing_of_the_viewer_is_offered(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(
        settings.model_copy(update={"apps": False}), upstream=emulator_app, extensions=[AppsClient()]
    ) as client:
        tools = (await client.list_tools()).tools
        resources = (await client.list_resources()).resources
    assert all("ui" not in (tool.meta or {}) for tool in tools)
    assert VIEWER_URI not in {str(resource.uri) for resource in resources}
