"""The chat tool through a real MCP session against the emulator: bodies, formats, JSON mode, progress, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
import pytest
from mcp import Client
from pydantic import SecretStr
from starlette.applications import Starlette

from support.results import structured, text_of
from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from support.text_tools import Call, Wire
from workers_ai_mcp.client.streaming import sse_data
from workers_ai_mcp.emulator import EmulatorState, Fault
from workers_ai_mcp.settings import Settings

LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GPT_OSS = "@cf/openai/gpt-oss-120b"
RUN_PATH = f"/client/v4/accounts/test-account/ai/run/{LLAMA_33}"


async def test_a_prompt_becomes_one_user_message_on_the_native_run_route(call: Call, wire: Wire) -> None:
    result = await call("chat", {"prompt": "Say hello to the otters", "system": "Be brief."})
    data = structured(result)
    assert data["model"] == LLAMA_33
    assert data["text"].startswith("[emulator] You said: Say hello to the otters")
    assert data["usage"]["completion_tokens"] > 0
    assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
    assert data["json"] is None
    assert [request.url.path for request in wire.requests] == [RUN_PATH]
    assert wire.bodies() == [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say hello to the otters"},
            ],
            "max_tokens": 1024,
            "options": {"rejectIfBusy": True},  # WORKERS_AI_MCP_REJECT_IF_BUSY is on by default
        }
    ]


async def test_messages_and_sampling_options_are_sent_as_given(call: Call, wire: Wire) -> None:
    messages = [
        {"role": "user", "content": "What is an otter?"},
        {"role": "assistant", "content": "A mammal."},
        {"role": "user", "content": "Where do they live?"},
    ]
    options = {"max_tokens": 40, "temperature": 0.2, "top_p": 0.9, "top_k": 5, "seed": 7, "presence_penalty": 0.5}
    data = structured(await call("chat", {"messages": messages, **options}))
    assert "Where do they live?" in data["text"]
    assert wire.bodies() == [{"messages": messages, **options, "options": {"rejectIfBusy": True}}]


async def test_a_tiny_token_limit_stops_the_answer_with_finish_reason_length(call: Call) -> None:
    data = structured(await call("chat", {"prompt": "Tell me a long story", "max_tokens": 3}))
    assert data["text"] == "[emulator] You said:"
    assert data["usage"]["completion_tokens"] == 3


async def test_an_openai_format_answer_from_gpt_oss_is_read(call: Call, wire: Wire) -> None:
    data = structured(await call("chat", {"prompt": "Hello there", "model": GPT_OSS}))
    assert data["model"] == GPT_OSS
    assert data["text"].startswith("[emulator] You said: Hello there")
    assert data["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] > 0
    assert wire.requests[0].url.path.endswith(f"/ai/run/{GPT_OSS}")
    assert "choices" in json.loads(wire.answers[0])["result"]


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({}, id="neither"),
        pytest.param({"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}, id="both"),
    ],
)
async def test_exactly_one_of_prompt_and_messages_is_required_and_nothing_is_sent_otherwise(
    call: Call, emulator_state: EmulatorState, arguments: dict[str, Any]
) -> None:
    result = await call("chat", arguments)
    assert result.is_error
    assert "either prompt" in text_of(result)
    assert emulator_state.requests == []


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"prompt": "hi", "temperature": 5.5}, id="temperature"),
        pytest.param({"prompt": "hi", "top_p": 1.5}, id="top_p-above-the-llama-3.3-limit"),
        pytest.param({"prompt": "hi", "top_k": 0}, id="top_k"),
        pytest.param({"prompt": "hi", "frequency_penalty": -1}, id="negative-penalty"),
        pytest.param({"prompt": "hi", "max_tokens": 0}, id="max_tokens"),
        pytest.param({"prompt": ""}, id="empty-prompt"),
        pytest.param({"messages": []}, id="no-messages"),
        pytest.param({"messages": [{"role": "robot", "content": "beep"}]}, id="unknown-role"),
        pytest.param({"prompt": "hi", "json_schema": {"type": "nonsense"}}, id="invalid-json-schema"),
        pytest.param({"prompt": "hi", "model": "../../user/tokens"}, id="crafted-model-id"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    call: Call, emulator_state: EmulatorState, arguments: dict[str, Any]
) -> None:
    result = await call("chat", arguments)
    assert result.is_error, result
    assert emulator_state.requests == []


async def test_json_schema_asks_for_json_mode_and_returns_the_object(call: Call, wire: Wire) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 1}},
        "required": ["city", "population"],
    }
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    result = await call(
        "chat", {"prompt": "Largest city in Peru?", "json_schema": schema}, legacy=True, progress=on_progress
    )
    data = structured(result)
    answer = data["json"]
    assert isinstance(answer, dict)
    assert set(cast(dict[str, Any], answer)) == {"city", "population"}
    assert json.loads(data["text"]) == data["json"]
    assert json.loads(text_of(result))["json"] == data["json"]  # the text block uses the same names
    body = wire.bodies()[0]
    assert body["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert "stream" not in body  # JSON mode does not stream, progress token or not
    assert updates and updates == sorted(set(updates))  # answered once, still reported as progress


async def test_with_a_progress_token_the_answer_streams_as_growing_progress_notifications(
    call: Call, wire: Wire, emulator_state: EmulatorState
) -> None:
    emulator_state.token_delay = 0
    updates: list[tuple[float, float | None, str]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message or ""))

    prompt = " ".join(f"word{i}" for i in range(30))
    with anyio.fail_after(10):
        result = await call("chat", {"prompt": prompt, "max_tokens": 200}, legacy=True, progress=on_progress)
    data = structured(result)
    assert wire.bodies()[0]["stream"] is True
    streamed = ""
    async for payload in sse_data(_lines(wire.answers[0])):
        if payload != "[DONE]":
            streamed += json.loads(payload).get("response", "")
    assert data["text"] == streamed and len(streamed) > 200
    assert data["usage"]["completion_tokens"] > 16
    assert len(updates) >= 3
    progress = [update[0] for update in updates]
    assert progress == sorted(set(progress))  # in order, strictly increasing
    assert all(update[1] == 200 for update in updates)
    ends = [_end_in(streamed, update[2]) for update in updates]
    assert ends == sorted(ends)  # the text so far only grows
    assert ends[-1] == len(streamed)
    assert progress[-1] == data["usage"]["completion_tokens"]


async def test_gpt_oss_streams_openai_chunks_into_the_same_progress(call: Call, wire: Wire) -> None:
    updates: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message or "")

    result = await call("chat", {"prompt": "Hi", "model": GPT_OSS}, legacy=True, progress=on_progress)
    data = structured(result)
    assert wire.bodies()[0]["stream"] is True
    assert data["text"].startswith("[emulator] You said: Hi")
    assert updates
    assert data["text"].endswith(updates[-1].removeprefix("…"))


async def test_a_stream_cut_off_mid_answer_is_an_error_not_a_short_answer(
    warm: Warm, emulator_state: EmulatorState
) -> None:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    async with warm() as client:
        emulator_state.inject(Fault.TRUNCATED_SSE)
        result = await client.call_tool("chat", {"prompt": "hi"}, progress_callback=on_progress)
    assert result.is_error
    assert "ended before it was complete" in text_of(result)


async def test_without_a_progress_token_one_plain_request_is_made(call: Call, wire: Wire) -> None:
    structured(await call("chat", {"prompt": "hi"}, legacy=True))
    assert len(wire.requests) == 1
    assert "stream" not in wire.bodies()[0]


async def test_an_unknown_model_points_to_list_models(call: Call, emulator_state: EmulatorState) -> None:
    result = await call("chat", {"prompt": "hi", "model": "@cf/nobody/no-such-model"})
    assert result.is_error
    assert "list_models" in text_of(result)
    assert model_calls(emulator_state) == []  # its schema look-up already says it does not exist


async def test_a_refused_token_names_cloudflare_api_token(tmp_path: Path, emulator_app: Starlette) -> None:
    settings = make_settings(tmp_path, api_token=SecretStr("not-the-token"))
    async with open_session(settings, upstream=emulator_app, raise_exceptions=False) as client:
        result = await client.call_tool("chat", {"prompt": "hi"})
    assert result.is_error
    assert "CLOUDFLARE_API_TOKEN" in text_of(result)
    assert "not-the-token" not in text_of(result)


async def test_capacity_errors_are_retried_then_reported(warm: Warm, emulator_state: EmulatorState) -> None:
    async with warm() as client:
        emulator_state.inject(Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040)
        result = await client.call_tool("chat", {"prompt": "hi"})
    assert result.is_error
    assert "capacity" in text_of(result) and "3 attempts" in text_of(result)
    assert len(model_calls(emulator_state)) == 3


async def test_one_unavailable_answer_is_retried_and_the_call_succeeds(
    warm: Warm, emulator_state: EmulatorState
) -> None:
    async with warm() as client:
        emulator_state.inject(Fault.UNAVAILABLE_503)
        data = structured(await client.call_tool("chat", {"prompt": "hi"}))
    assert data["text"].startswith("[emulator]")
    assert len(model_calls(emulator_state)) == 2


Warm = Callable[[], AbstractAsyncContextManager[Client]]


@pytest.fixture
def warm(settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState) -> Warm:
    """A session whose first chat (reading the default model's schema and catalog entry) is done and forgotten."""

    @asynccontextmanager
    async def session() -> AsyncIterator[Client]:
        async with open_session(settings, upstream=emulator_app, mode="legacy") as client:
            structured(await client.call_tool("chat", {"prompt": "warm up"}))
            emulator_state.requests.clear()
            with anyio.fail_after(10):
                yield client

    return session


async def test_a_hanging_model_ends_at_the_deadline(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, timeout=0.5)
    async with open_session(settings, upstream=emulator_app, raise_exceptions=False) as client:
        await client.call_tool("chat", {"prompt": "warm up"})  # the model's schema is read and cached
        emulator_state.inject(Fault.HANG)
        with anyio.fail_after(5):
            result = await client.call_tool("chat", {"prompt": "hi"})
    assert result.is_error
    assert "0.5 s" in text_of(result)


def _real_branch(model_file: str, title: str) -> dict[str, Any]:
    path = SHARED_MODELS / model_file
    if not path.exists():
        pytest.skip(f"Cloudflare's schemas are not at {SHARED_MODELS}")
    schema = json.loads(path.read_text())["schema"]["input"]
    # Cloudflare's "Async Batch" branch has no `required`, so every body matches it and the
    # top-level oneOf can never hold; check against the branch the body is meant for.
    branches = [branch for branch in _branches(schema) if branch.get("title") == title]
    assert len(branches) == 1
    return branches[0]


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for branch in schema.get("oneOf", []):
        found += [branch, *_branches(branch)]
    return found


@pytest.mark.parametrize("model_file", ["llama-3.3-70b-instruct-fp8-fast.json", "llama-3.1-8b-instruct-fp8.json"])
async def test_chat_bodies_validate_against_cloudflares_own_schemas(call: Call, wire: Wire, model_file: str) -> None:
    branch = _real_branch(model_file, "Messages")
    edge = {"temperature": 5, "top_p": 0.001, "top_k": 50, "seed": 9_999_999_999, "repetition_penalty": 2}
    edge |= {"frequency_penalty": 0, "presence_penalty": 2, "max_tokens": 8192}
    calls: list[dict[str, Any]] = [
        {"prompt": "hi", "system": "Be brief.", **edge},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "42"}], "top_p": 1},
        {"prompt": "hi", "json_schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
    ]
    for arguments in calls:
        structured(await call("chat", arguments))
    assert len(wire.requests) == len(calls)
    for body in wire.bodies():
        assert schema_errors(branch, body) == []


async def _lines(data: bytes) -> AsyncIterator[str]:
    for line in data.decode().splitlines():
        yield line


def _end_in(text: str, message: str) -> int:
    """Where `message` (the text so far, or "…" and its tail) ends in `text`."""
    tail = message.removeprefix("…")
    assert message == tail or len(message) == 200
    assert text.startswith(tail) if message == tail else tail in text
    return len(tail) if message == tail else text.index(tail) + len(tail)


def schema_errors(schema: dict[str, Any], body: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(body)  # pyright: ignore[reportUnknownMemberType]
    return [str(error.message) for error in errors]


def model_calls(state: EmulatorState) -> list[str]:
    """Paths of the requests that ran a model (the client's own catalog look-ups for pricing left out)."""
    return [request.path for request in state.requests if "/ai/models/" not in request.path]


@pytest.mark.parametrize("progress", [False, True], ids=["plain", "streamed"])
async def test_an_answer_with_no_text_is_an_error_naming_the_model(call: Call, wire: Wire, progress: bool) -> None:
    def empty(request: httpx2.Request) -> httpx2.Response | None:
        if "/ai/run/" not in request.url.path:
            return None
        return httpx2.Response(200, json={"result": {}, "success": True, "errors": [], "messages": []})

    wire.intercept = empty

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    result = await call("chat", {"prompt": "hi"}, legacy=True, progress=on_progress if progress else None)
    assert result.is_error
    assert f"{LLAMA_33} returned nothing" in text_of(result)


async def test_a_responses_body_in_reply_to_stream_true_becomes_the_answer(call: Call, wire: Wire) -> None:
    answer = {
        "object": "response",
        "output": [
            {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "Think of otters."}]},
            {"type": "message", "content": [{"type": "output_text", "text": "Otters hold hands."}]},
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4, "output_tokens_details": {"reasoning_tokens": 2}},
    }

    def whole(request: httpx2.Request) -> httpx2.Response | None:
        if "/ai/run/" not in request.url.path:
            return None
        return httpx2.Response(200, json={"result": answer, "success": True, "errors": [], "messages": []})

    wire.intercept = whole
    updates: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message or "")

    result = await call("chat", {"prompt": "hi", "model": GPT_OSS}, legacy=True, progress=on_progress)
    data = structured(result)
    assert wire.bodies()[0]["stream"] is True
    assert data["text"] == "Otters hold hands." and updates[-1] == "Otters hold hands."
    assert data["reasoning"] == "Think of otters."
    assert "Think of otters." not in text_of(result)  # kept out of the text block by default
    assert data["usage"]["reasoning_tokens"] == 2


async def test_a_thinking_level_reaches_gpt_oss_and_the_reasoning_comes_apart(call: Call, wire: Wire) -> None:
    result = await call("chat", {"prompt": "Why is the sky blue?", "model": GPT_OSS, "thinking": "low"})
    data = structured(result)
    body = wire.bodies()[0]
    assert body["reasoning"] == {"effort": "low"}
    assert body["input"] == [{"role": "user", "content": "Why is the sky blue?"}]
    assert data["text"] and data["reasoning"]
    assert data["reasoning"] not in text_of(result)


async def test_thinking_is_refused_for_a_model_that_has_no_control_naming_one_that_has(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("chat", {"prompt": "hi", "thinking": "high"})
    assert result.is_error
    assert f"{LLAMA_33} has no thinking control" in text_of(result)
    assert "use model=@cf/" in text_of(result) and "which can switch thinking off and on" in text_of(result)
    assert model_calls(emulator_state) == []


async def test_images_are_refused_for_a_model_that_cannot_see(
    call: Call, emulator_state: EmulatorState, tmp_path: Path
) -> None:
    from PIL import Image

    path = tmp_path / "otter.png"
    Image.new("RGB", (4, 4)).save(path)
    result = await call("chat", {"prompt": "What is this?", "images": [str(path)]})
    assert result.is_error
    assert f"{LLAMA_33} cannot see images" in text_of(result)
    assert model_calls(emulator_state) == []


KIMI = "@cf/moonshotai/kimi-k2.6"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"


async def test_a_kimi_model_streams_openai_chunks_with_progress_and_a_non_empty_answer(call: Call, wire: Wire) -> None:
    updates: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message or "")

    result = await call("chat", {"prompt": "Name an otter", "model": KIMI}, legacy=True, progress=on_progress)
    data = structured(result)
    assert data["model"] == KIMI and data["text"].strip()
    assert updates and data["text"].endswith(updates[-1].removeprefix("…"))
    assert wire.bodies()[0]["stream"] is True


async def test_llama_4_scout_chats_about_an_image_given_by_its_file_path(
    call: Call, wire: Wire, tmp_path: Path
) -> None:
    from PIL import Image

    path = tmp_path / "otter.png"
    Image.new("RGB", (8, 8), "brown").save(path)
    result = await call("chat", {"prompt": "What colour is this?", "images": [str(path)], "model": SCOUT})
    data = structured(result)
    assert data["model"] == SCOUT and data["text"].strip()
    parts = [part for message in wire.bodies()[0]["messages"] for part in message["content"] if isinstance(part, dict)]
    images = [part["image_url"]["url"] for part in parts if part.get("type") == "image_url"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
