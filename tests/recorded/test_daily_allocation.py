"""A spent daily free allocation (HTTP 429, code 4006, as the live API sends it) through a real MCP session:
sent once, never retried, and the sentence says what happened and what to do."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette

from recorded.replay import Replay
from support.emulated import model_calls
from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, Fault

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def says_the_allocation_is_spent(text: str) -> None:
    assert "daily free Workers AI allocation" in text and "used up" in text
    assert "00:00 UTC" in text and "Workers Paid" in text and "WORKERS_AI_MCP_MAX_COST_USD" in text
    assert "rate limit" not in text.lower()
    assert "Gave up after" not in text


async def test_a_recorded_4006_is_sent_once_and_says_the_daily_free_allocation_is_used_up(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "errors/4006_daily_free_allocation")
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport()) as client:
            result = await client.call_tool("chat", {"prompt": "hello", "model": LLAMA})
    assert result.is_error
    says_the_allocation_is_spent(text_of(result))
    assert "code 4006" in text_of(result)
    assert len(replay.requests) == 1 and not replay.unexpected


async def test_the_documented_3036_is_understood_the_same_way(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "errors/3036_account_limited_documented")
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport()) as client:
            result = await client.call_tool("chat", {"prompt": "hello", "model": LLAMA})
    assert result.is_error
    says_the_allocation_is_spent(text_of(result))
    assert len(replay.requests) == 1


@pytest.mark.parametrize("fault", [Fault.DAILY_LIMIT_4006, Fault.DAILY_LIMIT_3036])
async def test_the_emulators_allocation_fault_is_answered_once(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, fault: Fault
) -> None:
    emulator_state.inject(fault)
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
    assert result.is_error
    says_the_allocation_is_spent(text_of(result))
    assert len(model_calls(emulator_state)) == 1


async def test_the_emulator_answers_4006_once_its_free_allocation_is_spent(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    emulator_state.free_neurons = 1.0
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            first = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
            second = await client.call_tool("translate", {"text": "hello again", "target_lang": "fr"})
    assert not first.is_error, text_of(first)
    assert second.is_error
    says_the_allocation_is_spent(text_of(second))
    assert "code 4006" in text_of(second)
    assert len(model_calls(emulator_state)) == 2
