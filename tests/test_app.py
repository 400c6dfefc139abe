"""The server as a whole: tool subsets, the unconfigured answer, the in-process emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.results import text_of
from support.session import open_session
from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings, SettingsError


async def test_the_tools_option_exposes_only_the_named_tools(tmp_path: Path) -> None:
    settings = Settings(emulator=True, tools=["translate"], output_dir=tmp_path)
    async with open_session(settings, raise_exceptions=False) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == ["translate"]


def test_unknown_tool_names_in_the_tools_option_fail_at_start_with_the_list_of_names(tmp_path: Path) -> None:
    settings = Settings(emulator=True, tools=["translate", "teleport"], output_dir=tmp_path)
    with pytest.raises(SettingsError, match="unknown tools: teleport") as caught:
        create_server(settings)
    assert "translate" in str(caught.value)


async def test_without_credentials_the_server_lists_its_tools_and_each_call_says_what_to_set(tmp_path: Path) -> None:
    async with open_session(Settings(output_dir=tmp_path), raise_exceptions=False) as client:
        tools = (await client.list_tools()).tools
        assert len(tools) > 1
        result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
    assert result.is_error
    message = text_of(result)
    assert "CLOUDFLARE_API_TOKEN" in message and "CLOUDFLARE_ACCOUNT_ID" in message and "--emulator" in message


async def test_emulator_mode_answers_from_the_built_in_emulator_without_an_account(tmp_path: Path) -> None:
    async with open_session(Settings(emulator=True, output_dir=tmp_path), raise_exceptions=False) as client:
        result = await client.call_tool("translate", {"text": "good morning", "target_lang": "fr"})
    assert not result.is_error
    assert result.structured_content is not None
    assert "emulator" in result.structured_content["translated_text"]


async def test_emulator_mode_fetches_image_urls_from_the_network_not_from_the_emulator(tmp_path: Path) -> None:
    from support.media import serve_files, small_png

    settings = Settings(emulator=True, output_dir=tmp_path, allowed_url_hosts=["127.0.0.1"])
    async with (
        serve_files({"/cat.png": (small_png(), "image/png")}) as base,
        open_session(settings, raise_exceptions=False) as client,
    ):
        result = await client.call_tool("classify_image", {"image": f"{base}/cat.png", "top_k": 2})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None and len(result.structured_content["labels"]) == 2


async def test_emulated_calls_keep_their_spending_apart_from_the_accounts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = Settings(emulator=True, output_dir=tmp_path / "out", state_dir=state, tools=["translate", "usage"])
    async with open_session(settings, raise_exceptions=False) as client:
        translated = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
        usage = await client.call_tool("usage", {})
    assert not translated.is_error and not usage.is_error
    assert (state / "emulator" / "state.sqlite3").is_file()
    assert not (state / "state.sqlite3").exists()  # the real account's store is untouched
