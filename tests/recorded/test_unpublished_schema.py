"""A model the catalog lists but that publishes no schema (apertus) works through `chat`, unchecked, with a
note saying so; a model the catalog does not list still fails before anything is sent."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.applications import Starlette

from support.emulated import model_calls
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

APERTUS = "@cf/swiss-ai/apertus-v1.5-8b"


async def test_chat_with_a_model_that_publishes_no_schema_is_sent_unchecked_with_a_note(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            result = await client.call_tool("chat", {"prompt": "Grüezi", "model": APERTUS})
    data = structured(result)
    assert "[emulator]" in data["text"]
    assert "publishes no input schema" in text_of(result) and "unchecked" in text_of(result)
    assert len(model_calls(emulator_state)) == 1


async def test_a_model_the_catalog_does_not_list_still_fails_before_sending(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            result = await client.call_tool("chat", {"prompt": "hi", "model": "@cf/nobody/apertus-v9"})
    assert result.is_error and "list_models" in text_of(result)
    assert model_calls(emulator_state) == []
