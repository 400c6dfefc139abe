"""list_finetunes through a real MCP client session, and the catalog look-up of an adapter's base model."""

from __future__ import annotations

import json

import httpx2
from starlette.applications import Starlette

from support.results import text_of
from support.text_tools import Call, Wire
from workers_ai_mcp.catalog.finetunes import adapter_base_model
from workers_ai_mcp.client import WorkersAIClient
from workers_ai_mcp.emulator.finetunes import PUBLIC as EMULATED_PUBLIC
from workers_ai_mcp.settings import Settings

LORA_BASE = "@cf/mistral/mistral-7b-instruct-v0.2-lora"


async def test_list_finetunes_lists_the_public_adapter_with_its_base_model(call: Call, wire: Wire) -> None:
    result = await call("list_finetunes", {})

    rows = json.loads(text_of(result))["finetunes"]
    assert [(r["name"], r["base_model"], r["public"]) for r in rows] == [
        ("cf-public-emulator-summaries", LORA_BASE, True)
    ]
    paths = [r.url.path for r in wire.requests]
    assert paths == [
        "/client/v4/accounts/test-account/ai/finetunes",
        "/client/v4/accounts/test-account/ai/finetunes/public",
    ]


async def test_list_finetunes_filters_by_base_model(call: Call) -> None:
    result = await call("list_finetunes", {"base_model": "@cf/meta/llama-3.1-8b-instruct-fp8"})

    assert json.loads(text_of(result)) == {"finetunes": []}


async def test_the_base_model_of_an_adapter_is_found_by_id_or_name_and_cached(
    settings: Settings, emulator_app: Starlette, wire: Wire
) -> None:
    adapter_id = str(EMULATED_PUBLIC[0]["id"])
    http = httpx2.AsyncClient(transport=wire.transport(emulator_app))
    client = WorkersAIClient(settings, http)
    try:
        assert await adapter_base_model(client, settings, "cf-public-emulator-summaries") == LORA_BASE
        assert await adapter_base_model(client, settings, adapter_id) == LORA_BASE
        assert await adapter_base_model(client, settings, "no-such-adapter") is None
    finally:
        await http.aclose()
    assert len(wire.requests) == 2  # one listing of each kind, then the cache
