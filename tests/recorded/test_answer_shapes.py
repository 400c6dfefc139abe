"""Answer shapes the live API (or Cloudflare's own client) shows, through `chat`: a numeric `response`,
OpenAI tool-call fragments joined by index (null finalisation fragments included), and a stream that ends
after its finish_reason without `data: [DONE]`."""

from __future__ import annotations

import json
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

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


async def chat(tmp_path: Path, replay: Replay, *, progress: bool) -> Any:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport(), mode="legacy") as client:
            return await client.call_tool(
                "chat", {"prompt": "Go", "model": LLAMA}, progress_callback=on_progress if progress else None
            )


def stream_of(name: str, *, done: bool = True) -> httpx2.Response:
    recording = load(name)
    assert recording.response is not None and recording.response.sse is not None
    lines = [line for line in recording.response.sse if done or line != "data: [DONE]"]
    content = "".join(f"{line}\n\n" for line in lines).encode()
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)


async def test_a_numeric_response_is_read_as_text(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "responses/numeric_response")
    data = structured(await chat(tmp_path, replay, progress=False))
    assert data["text"] == "42"


async def test_tool_call_fragments_are_joined_by_index(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "streams/tool_calls_fragments_by_index")
    data = structured(await chat(tmp_path, replay, progress=True))
    calls = data["tool_calls"]
    assert [call["id"] for call in calls] == ["call_a", "call_b", "call_c"]
    assert [json.loads(call["function"]["arguments"]) for call in calls] == [
        {"path": "a.txt"},
        {"path": "b.txt"},
        {"path": "c.txt"},
    ]
    assert data["finish_reason"] == "tool_calls"


async def test_null_finalisation_fragments_add_no_tool_call(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "streams/tool_calls_null_finalisation")
    data = structured(await chat(tmp_path, replay, progress=True))
    assert [(call["id"], call["function"]["name"]) for call in data["tool_calls"]] == [
        ("call_1", "read"),
        ("call_2", "read"),
    ]


async def test_a_stream_that_ends_after_its_finish_reason_without_done_is_complete(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    # No live capture of this is known (tests/recorded/README.md, "Not found"); Cloudflare's client accepts
    # it, so the recorded tool-call stream is replayed without its last line.
    replay = Replay(emulator_app).answer_with(LLAMA, stream_of("streams/tool_calls_fragments_by_index", done=False))
    data = structured(await chat(tmp_path, replay, progress=True))
    assert len(data["tool_calls"]) == 3


async def test_a_stream_that_ends_with_neither_finish_reason_nor_done_was_cut_off(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "streams/truncated_without_done")
    result = await chat(tmp_path, replay, progress=True)
    assert result.is_error and "ended before it was complete" in text_of(result)


async def test_a_7000_for_a_model_path_says_there_is_no_such_model_and_to_call_list_models(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "errors/7000_no_route_for_model_path")
    result = await chat(tmp_path, replay, progress=False)
    assert result.is_error
    text = text_of(result)
    assert f"no model named {LLAMA}" in text and "list_models" in text and "code 7000" in text
    assert len(replay.requests) == 1
