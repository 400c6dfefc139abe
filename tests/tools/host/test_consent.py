"""Spending consent, through real MCP sessions on both protocol eras: a call estimated above
WORKERS_AI_MCP_CONFIRM_ABOVE_USD is put to the person before anything is sent to Workers AI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, TextContent
from starlette.applications import Starlette

from support.emulated import model_calls
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

EMBED = {"texts": ["a short text to embed"]}
MODES = ("legacy", "auto")  # 2025-11-25 (elicitation/create) and 2026-07-28 (input-required results)


class Person:
    """The client's elicitation callback: records what it is asked and answers as told."""

    def __init__(self, action: str = "accept", remember: bool = False) -> None:
        self.action = action
        self.remember = remember
        self.asked: list[ElicitRequestFormParams] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.asked.append(params)
        if self.action != "accept":
            return ElicitResult(action=self.action)  # pyright: ignore[reportArgumentType]
        content: dict[str, Any] = {"remember": True} if self.remember else {}
        return ElicitResult(action="accept", content=content)


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.fixture
def confirm_settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path, confirm_above_usd=0.0)


@pytest.mark.parametrize("mode", MODES)
async def test_an_accepted_call_above_the_threshold_is_sent_once_after_the_person_is_asked(
    mode: str, confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("accept")
    async with open_session(
        confirm_settings,
        upstream=emulator_app,
        mode=mode,
        elicitation_callback=person,  # pyright: ignore[reportArgumentType]
    ) as client:
        result = await client.call_tool("embed", EMBED)
    assert not result.is_error, text_of(result)
    assert len(person.asked) == 1
    message = person.asked[0].message
    assert "@cf/baai/bge-base-en-v1.5" in message and "Embed" in message and "$" in message
    assert "WORKERS_AI_MCP_CONFIRM_ABOVE_USD=0" in message
    assert len(model_calls(emulator_state)) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_call_sends_nothing_upstream_and_says_so(
    mode: str, action: str, confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person(action)
    async with open_session(
        confirm_settings,
        upstream=emulator_app,
        mode=mode,
        elicitation_callback=person,  # pyright: ignore[reportArgumentType]
    ) as client:
        result = await client.call_tool("embed", EMBED)
    assert result.is_error
    assert "nothing was sent" in text_of(result) and "@cf/baai/bge-base-en-v1.5" in text_of(result)
    assert len(person.asked) == 1
    assert model_calls(emulator_state) == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_cannot_elicit_gets_a_sentence_naming_the_setting_and_the_estimate(
    mode: str, confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(confirm_settings, upstream=emulator_app, mode=mode) as client:
        result = await client.call_tool("embed", EMBED)
    assert result.is_error
    text = text_of(result)
    assert "WORKERS_AI_MCP_CONFIRM_ABOVE_USD=0" in text and "estimated at about $" in text
    assert "cannot ask" in text and "nothing was sent" in text
    assert model_calls(emulator_state) == []


@pytest.mark.parametrize("mode", MODES)
async def test_accepting_for_the_session_asks_no_more_in_that_session(
    mode: str, confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("accept", remember=True)
    async with open_session(
        confirm_settings,
        upstream=emulator_app,
        mode=mode,
        elicitation_callback=person,  # pyright: ignore[reportArgumentType]
    ) as client:
        first = await client.call_tool("embed", EMBED)
        second = await client.call_tool("embed", {"texts": ["another text"]})
    assert not first.is_error and not second.is_error
    assert len(person.asked) == 1
    assert len(model_calls(emulator_state)) == 2


async def test_accepting_once_asks_again_for_the_next_call(
    confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("accept")
    async with open_session(
        confirm_settings,
        upstream=emulator_app,
        mode="legacy",
        elicitation_callback=person,  # pyright: ignore[reportArgumentType]
    ) as client:
        await client.call_tool("embed", EMBED)
        await client.call_tool("embed", EMBED)
    assert len(person.asked) == 2
    assert len(model_calls(emulator_state)) == 2


async def test_calls_below_the_threshold_are_not_asked_about(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("decline")
    settings = make_settings(tmp_path, confirm_above_usd=5.0)
    async with open_session(settings, upstream=emulator_app, elicitation_callback=person) as client:  # pyright: ignore[reportArgumentType]
        result = await client.call_tool("embed", EMBED)
    assert not result.is_error
    assert person.asked == []
    assert len(model_calls(emulator_state)) == 1


async def test_without_the_setting_nobody_is_asked(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("decline")
    async with open_session(make_settings(tmp_path), upstream=emulator_app, elicitation_callback=person) as client:  # pyright: ignore[reportArgumentType]
        result = await client.call_tool("embed", EMBED)
    assert not result.is_error and person.asked == []
    assert len(model_calls(emulator_state)) == 1


async def test_estimate_cost_tells_a_calls_cost_and_sends_nothing(
    confirm_settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    person = Person("accept")
    async with open_session(confirm_settings, upstream=emulator_app, elicitation_callback=person) as client:  # pyright: ignore[reportArgumentType]
        result = await client.call_tool("estimate_cost", {"tool": "embed", "arguments": EMBED})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data is not None
    assert data["model"] == "@cf/baai/bge-base-en-v1.5" and data["price_known"] is True
    assert 0 < data["estimate_usd"] < 0.001
    assert data["would_ask_first"] is True and "nothing was sent" in data["summary"]
    assert person.asked == []  # a dry run asks nobody
    assert model_calls(emulator_state) == []


async def test_estimate_cost_refuses_free_tools_and_says_why_a_call_would_fail(
    settings: Any, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        free = await client.call_tool("estimate_cost", {"tool": "list_models"})
        bad = await client.call_tool("estimate_cost", {"tool": "embed", "arguments": {"texts": []}})
        unknown = await client.call_tool("estimate_cost", {"tool": "no_such_tool"})
    assert free.is_error and "list_models is free" in text_of(free)
    assert bad.is_error and "would not be sent" in text_of(bad) and "texts" in text_of(bad)
    assert unknown.is_error and "not a billed tool" in text_of(unknown)
    assert model_calls(emulator_state) == []
