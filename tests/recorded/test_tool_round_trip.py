"""A tool round trip through `chat`: assistant turns carry `tool_calls`, `role: "tool"` turns carry
`tool_call_id` (and `name`), sent as Cloudflare's own client sends them (tests/recorded/tools)."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.applications import Starlette

from recorded.corpus import load
from support.results import structured
from support.session import open_session
from support.settings import make_settings
from support.text_tools import Wire

KIMI = "@cf/moonshotai/kimi-k2.6"  # an OpenAI-shaped model


async def test_a_tool_round_trip_reaches_an_openai_shaped_model_as_recorded(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    messages = load("tools/round_trip_messages").request["messages"]
    wire = Wire()
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=wire.transport(emulator_app)) as client:
            data = structured(await client.call_tool("chat", {"messages": messages, "model": KIMI}))
    assert data["text"]
    (body,) = wire.bodies()
    assistant, tool = body["messages"][1], body["messages"][2]
    assert assistant["tool_calls"] == messages[1]["tool_calls"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "chatcmpl-tool-8a89c35582d60474"
    assert tool["name"] == "get_weather"
    assert "tool_call_id" not in body["messages"][0]  # fields a turn lacks are not sent as null
