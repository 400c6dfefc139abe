"""moondream answers only when streamed: status events with the usage, `chunk` events with the answer so
far, a terminal `output` array, and a native event with the call's neurons. describe_image streams it and
reads the answer; run_model with `stream: true` gets the answer and its cost."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image
from starlette.applications import Starlette

from recorded.corpus import load
from recorded.replay import Replay
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

MOONDREAM = "@cf/moondream/moondream3.1-9B-A2B"
NEURONS = 45.76363754272461  # the recorded stream's last event


def recorded_answer() -> str:
    recording = load("streams/moondream_run_stream_status_events")
    assert recording.response is not None
    terminal = next(event for event in recording.response.events() if isinstance(event, dict) and "output" in event)
    return terminal["output"][-1]["answer"]


def png(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 60, 200)).save(buffer, "PNG")
    path = tmp_path / "screen.png"
    path.write_bytes(buffer.getvalue())
    return path


async def call(tmp_path: Path, upstream: Any, name: str, arguments: dict[str, Any]) -> Any:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=upstream) as client:
            return await client.call_tool(name, arguments)


async def test_describe_image_with_moondream_streams_and_reads_the_recorded_answer(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(MOONDREAM, "streams/moondream_run_stream_status_events", stream=True)
    arguments = {"image": str(png(tmp_path)), "prompt": "What does the screen say?", "model": MOONDREAM}
    data = structured(await call(tmp_path, replay.transport(), "describe_image", arguments))
    assert data["description"] == recorded_answer().strip()
    assert data["call"]["usage"]["prompt_tokens"] == 749 and data["call"]["usage"]["completion_tokens"] == 54
    assert data["call"]["cost_usd"] == pytest.approx(NEURONS * 0.011 / 1000, rel=1e-6)
    (body,) = replay.model_bodies()
    assert body["stream"] is True and body["task"] == "query" and body["question"] == "What does the screen say?"


async def test_run_model_with_stream_gets_moondreams_answer_and_its_cost(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(MOONDREAM, "streams/moondream_run_stream_status_events", stream=True)
    arguments = {"model": MOONDREAM, "input": {"task": "query", "question": "What is it?", "stream": True}}
    result = await call(tmp_path, replay.transport(), "run_model", arguments)
    assert not result.is_error, text_of(result)
    shown = json.loads(text_of(result).split("\n")[0])
    assert shown["result"]["response"] == recorded_answer()
    assert shown["call"]["cost_usd"] == pytest.approx(NEURONS * 0.011 / 1000, rel=1e-6)
    assert shown["call"]["price_known"] is True


async def test_the_emulated_moondream_answers_empty_unstreamed_and_describe_image_still_gets_an_answer(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    unstreamed = await call(tmp_path, emulator_app, "run_model", {"model": MOONDREAM, "input": {"question": "hi"}})
    assert json.loads(text_of(unstreamed).split("\n")[0])["result"] == {}
    arguments = {"image": str(png(tmp_path)), "model": MOONDREAM}
    data = structured(await call(tmp_path, emulator_app, "describe_image", arguments))
    assert "[emulator]" in data["description"]
    assert data["call"]["usage"]["completion_tokens"] > 0 and data["call"]["cost_usd"] > 0
