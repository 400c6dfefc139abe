"""Gateway caching per chat call, and deprecated defaults surfacing in list_models."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from starlette.applications import Starlette

from support.emulated import DEPRECATED, model_calls
from support.results import data_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState


async def test_chat_takes_a_per_call_gateway_cache_ttl_and_reports_the_cache_status(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    emulator_state.gateway_token = "gw-secret-token-1234"
    settings = make_settings(tmp_path, gateway_id="gw1", gateway_token=SecretStr("gw-secret-token-1234"))
    arguments = {"prompt": "Name a river", "max_tokens": 8, "cache_ttl": 600}
    async with open_session(settings, upstream=emulator_app) as client:
        first = data_of(await client.call_tool("chat", arguments))
        second = data_of(await client.call_tool("chat", arguments))
    calls = model_calls(emulator_state)
    assert [r.headers.get("cf-aig-cache-ttl") for r in calls] == ["600", "600"]
    assert (first["call"]["gateway_cache_status"], second["call"]["gateway_cache_status"]) == ("MISS", "HIT")
    assert second["text"] == first["text"] and second["call"]["gateway_log_id"]


async def test_list_models_warns_when_a_default_model_is_deprecated_and_names_a_replacement(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    settings = make_settings(tmp_path, chat_model=DEPRECATED)
    async with open_session(settings, upstream=emulator_app) as client:
        listing = data_of(await client.call_tool("list_models", {"task": "Text Generation"}))
    assert len(listing["warnings"]) == 1
    warning = listing["warnings"][0]
    assert DEPRECATED in warning and "WORKERS_AI_MCP_CHAT_MODEL" in warning and "@cf/" in warning


async def test_list_models_has_no_warnings_when_the_defaults_are_current(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
        listing = data_of(await client.call_tool("list_models", {}))
    assert listing["warnings"] == []
