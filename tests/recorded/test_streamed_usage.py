"""Streamed usage as the live API sends it: increments per chunk, running totals, a native final event with
the call's totals, and zero-filled chunks after the real counts. `chat` with a progress token (so it streams)
reports the call's real totals whichever convention the stream used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
from starlette.applications import Starlette

from recorded.corpus import load
from recorded.replay import Replay
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings

GEMMA = "@cf/google/gemma-4-26b-a4b-it"
GLM = "@cf/zai-org/glm-5.3-flash"
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
KIMI = "@cf/moonshotai/kimi-k2.6"


async def streamed_chat(tmp_path: Path, upstream: Any, model: str) -> dict[str, Any]:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=upstream, mode="legacy") as client:
            result = await client.call_tool(
                "chat", {"prompt": "Say hi", "model": model, "max_tokens": 16}, progress_callback=on_progress
            )
    assert not result.is_error, text_of(result)
    return structured(result)


def counts(usage: dict[str, Any]) -> tuple[int, int, int]:
    return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]


async def test_increments_then_a_native_total_give_the_native_total(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(GEMMA, "streams/gemma4_run_stream_usage_increments")
    data = await streamed_chat(tmp_path, replay.transport(), GEMMA)
    assert data["text"] == "أهلاً بك"
    assert counts(data["usage"]) == (147, 16, 163)
    assert replay.model_bodies()[0]["stream"] is True


async def test_a_zero_filled_chunk_after_the_counts_does_not_erase_them(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    # glm spent its 16 tokens reasoning: `chat` says so, and the billed tokens are still recorded.
    replay = Replay(emulator_app).answer(GLM, "streams/glm_run_stream_incremental_usage_zero_chunk")

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport(), mode="legacy") as client:
            result = await client.call_tool(
                "chat", {"prompt": "Say hi", "model": GLM, "max_tokens": 16}, progress_callback=on_progress
            )
            usage = structured(await client.call_tool("usage", {}))
    assert result.is_error and "reasoning" in text_of(result)
    (glm,) = [row for row in usage["today"]["models"] if row["model"] == GLM]
    assert (glm["prompt_tokens"], glm["completion_tokens"]) == (14, 16)


async def test_running_totals_on_every_chunk_keep_the_largest(tmp_path: Path, emulator_app: Starlette) -> None:
    recording = load("streams/openai_chunks_cumulative_usage_run")
    assert recording.response is not None and recording.response.sse is not None
    # The source ends with a bare `[DONE]` line (see the recording's `unverified`); sent here as a data line.
    lines = [*recording.response.sse, "data: [DONE]"]
    content = "".join(f"{line}\n\n" for line in lines).encode()
    answer = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)
    replay = Replay(emulator_app).answer_with(LLAMA, answer)
    data = await streamed_chat(tmp_path, replay.transport(), LLAMA)
    assert counts(data["usage"]) == (13, 1022, 1035)


async def test_the_emulator_streams_usage_as_recorded_and_chat_reports_the_totals(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    data = await streamed_chat(tmp_path, emulator_app, KIMI)
    prompt, completion, total = counts(data["usage"])
    assert prompt > 0 and completion == 16 and total == prompt + completion
