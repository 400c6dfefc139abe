"""Results fitted to the protocol version a host negotiated, seen on the wire of a real session.

`mcp.Client` always offers the newest version, so these tests speak JSON-RPC themselves over the
server's streamable HTTP app (in process): `initialize` with the version an older host would
send, then `tools/call`, and the raw result is checked against what that revision defines.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.app import create_http_app

TOKEN = "inbound-token-for-protocol-tests-0123"
OLD = ["2024-11-05", "2025-03-26"]
CURRENT = ["2025-06-18", "2025-11-25"]
Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@asynccontextmanager
async def host_on(version: str, settings: Settings, emulator_app: Starlette) -> AsyncGenerator[Call]:
    """A session opened with `initialize` offering `version`; yields a function that calls a tool."""
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
        hello = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "old-host", "version": "1"}}
        answer = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        assert answer.json()["result"]["protocolVersion"] == version
        http.headers["mcp-session-id"] = answer.headers["mcp-session-id"]
        if version != "2024-11-05":
            http.headers["mcp-protocol-version"] = version
        await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        ids = iter(range(1, 1000))

        async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            request = {"jsonrpc": "2.0", "id": next(ids), "method": "tools/call"}
            with anyio.fail_after(20):
                reply = await http.post("/mcp", json={**request, "params": {"name": name, "arguments": arguments}})
            return reply.json()["result"]

        yield call


def types_in(result: dict[str, Any]) -> list[str]:
    return [block["type"] for block in result["content"]]


def texts_in(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


@pytest.mark.parametrize("version", OLD)
async def test_hosts_before_2025_06_18_get_a_line_with_path_and_uri_instead_of_a_resource_link(
    version: str, settings: Settings, emulator_app: Starlette
) -> None:
    async with host_on(version, settings, emulator_app) as call:
        result = await call("generate_image", {"prompt": "a red cube", "steps": 1})
    assert not result.get("isError")
    assert "resource_link" not in types_in(result) and "image" in types_in(result)
    line = next(line for line in texts_in(result).splitlines() if line.startswith("File "))
    path = Path(line.removeprefix("File ").split(" (", 1)[0])
    assert path.is_file() and path.suffix == ".png"
    assert line.endswith(f"resource workers-ai://outputs/{path.name}")


async def test_hosts_on_2024_11_05_get_a_line_naming_the_saved_audio_instead_of_an_audio_block(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with host_on("2024-11-05", settings, emulator_app) as call:
        result = await call("text_to_speech", {"text": "Hello."})
    assert not result.get("isError")
    assert set(types_in(result)) == {"text"}
    line = next(line for line in texts_in(result).splitlines() if line.startswith("Audio (audio/mpeg"))
    path = Path(re.findall(r"Play the saved file (\S+\.mp3)", line)[0])
    assert path.is_file()
    assert f"workers-ai://outputs/{path.name}" in line


async def test_hosts_on_2025_03_26_keep_the_audio_block(settings: Settings, emulator_app: Starlette) -> None:
    async with host_on("2025-03-26", settings, emulator_app) as call:
        result = await call("text_to_speech", {"text": "Hello."})
    assert "audio" in types_in(result) and "resource_link" not in types_in(result)


@pytest.mark.parametrize("version", OLD)
async def test_hosts_before_2025_06_18_get_no_structured_content_but_its_json_as_text(
    version: str, settings: Settings, emulator_app: Starlette, tmp_path: Path
) -> None:
    async with host_on(version, settings, emulator_app) as call:
        translated = await call("translate", {"text": "hello", "target_lang": "fr"})
        generated = await call("generate_image", {"prompt": "a red cube", "steps": 1})
        image = next(line for line in texts_in(generated).splitlines() if line.startswith("File "))
        detected = await call("detect_objects", {"image": image.removeprefix("File ").split(" (", 1)[0]})
    for result in (translated, detected):
        assert "structuredContent" not in result
    assert json.loads(texts_in(translated))["target_lang"] == "fr"
    carried = [json.loads(b["text"]) for b in detected["content"] if b["type"] == "text" and b["text"][:1] == "{"]
    assert carried and "objects" in carried[0] and carried[0]["annotated_image_path"]


@pytest.mark.parametrize("version", CURRENT)
async def test_hosts_on_2025_06_18_and_newer_get_links_audio_and_structured_content(
    version: str, settings: Settings, emulator_app: Starlette
) -> None:
    async with host_on(version, settings, emulator_app) as call:
        spoken = await call("text_to_speech", {"text": "Hello."})
        translated = await call("translate", {"text": "hello", "target_lang": "fr"})
    assert {"audio", "resource_link"} <= set(types_in(spoken))
    assert translated["structuredContent"]["target_lang"] == "fr"
