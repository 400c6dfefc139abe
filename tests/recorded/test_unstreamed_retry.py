"""gpt-oss (and Kimi) answer a stream request on /ai/run with an empty JSON result: the server asks once
more without streaming, as Cloudflare's own client does, and `chat` with a progress token gets the answer."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.applications import Starlette

from recorded.replay import Replay
from support.emulated import model_calls
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

GPT_OSS = "@cf/openai/gpt-oss-120b"
KIMI = "@cf/moonshotai/kimi-k2.6"


async def chat_with_progress(settings_path: Path, upstream: object, model: str) -> tuple[dict[str, object], list[str]]:
    updates: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message or "")

    with anyio.fail_after(10):
        async with open_session(make_settings(settings_path), upstream=upstream, mode="legacy") as client:  # type: ignore[arg-type]
            result = await client.call_tool("chat", {"prompt": "Hello", "model": model}, progress_callback=on_progress)
    assert not result.is_error, text_of(result)
    return structured(result), updates


async def test_chat_with_a_progress_token_on_gpt_oss_gets_the_answer_of_the_unstreamed_retry(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(GPT_OSS, "streams/gpt_oss_run_stream_empty_json")
    data, _ = await chat_with_progress(tmp_path, replay.transport(), GPT_OSS)
    assert data["text"] == "Hello from non-streaming fallback!"
    assert [body.get("stream") for body in replay.model_bodies()] == [True, False]
    first, second = replay.model_bodies()
    assert {k: v for k, v in first.items() if k != "stream"} == {k: v for k, v in second.items() if k != "stream"}
    assert not replay.unexpected


async def test_kimi_answering_the_same_way_is_retried_the_same_way(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(KIMI, "streams/gpt_oss_run_stream_empty_json")
    data, _ = await chat_with_progress(tmp_path, replay.transport(), KIMI)
    assert data["text"] == "Hello from non-streaming fallback!"
    assert len(replay.requests) == 2


async def test_the_emulator_answers_gpt_oss_streams_on_run_with_the_empty_result_and_chat_still_answers(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    data, updates = await chat_with_progress(tmp_path, emulator_app, GPT_OSS)
    assert str(data["text"]).startswith("[emulator] You said: Hello")
    assert updates and str(data["text"]).endswith(updates[-1].removeprefix("…"))
    assert len(model_calls(emulator_state)) == 2
