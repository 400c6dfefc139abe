"""The complete and respond tools through a real MCP session against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from support.results import structured, text_of
from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from support.text_tools import Call, Wire
from workers_ai_mcp.emulator import EmulatorState, Fault

LLAMA_31 = "@cf/meta/llama-3.1-8b-instruct-fp8"
GPT_OSS = "@cf/openai/gpt-oss-120b"
API = "/client/v4/accounts/test-account/ai"


def cloudflare_404(code: int | None, status: int = 404) -> httpx2.Response:
    errors = [{"code": code, "message": "No route for that URI"}] if code else []
    body = {"result": None, "success": False, "errors": errors, "messages": []}
    return httpx2.Response(status, json=body)


async def test_complete_posts_an_openai_text_completion(call: Call, wire: Wire) -> None:
    data = structured(await call("complete", {"prompt": "Once upon a time", "temperature": 0.3}))
    assert data["model"] == LLAMA_31
    assert data["text"].startswith("[emulator] You said: Once upon a time")
    assert data["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] > 0
    assert wire.paths() == [f"{API}/v1/completions"]
    assert wire.bodies() == [{"model": LLAMA_31, "prompt": "Once upon a time", "max_tokens": 256, "temperature": 0.3}]


@pytest.mark.parametrize(
    ("status", "code"), [(404, 7000), (404, None), (405, None), (405, 7003), (400, 7000), (400, 7003)]
)
async def test_complete_falls_back_to_a_raw_run_where_v1_completions_is_missing(
    call: Call, wire: Wire, status: int, code: int | None
) -> None:
    def missing_completions(request: httpx2.Request) -> httpx2.Response | None:
        return cloudflare_404(code, status) if request.url.path.endswith("/v1/completions") else None

    wire.intercept = missing_completions
    data = structured(await call("complete", {"prompt": "The otter said", "max_tokens": 30}))
    assert data["text"].startswith("[emulator] You said: The otter said")
    assert data["usage"]["prompt_tokens"] == 3
    assert wire.paths() == [f"{API}/v1/completions", f"{API}/run/{LLAMA_31}"]
    assert wire.bodies()[1] == {"prompt": "The otter said", "raw": True, "max_tokens": 30}


async def test_complete_does_not_fall_back_on_other_refusals(call: Call, wire: Wire) -> None:
    wire.intercept = lambda request: cloudflare_404(5006, 400) if request.url.path.endswith("/v1/completions") else None
    result = await call("complete", {"prompt": "hi"})
    assert result.is_error
    assert wire.paths() == [f"{API}/v1/completions"]


async def test_complete_does_not_fall_back_for_an_unknown_model(call: Call, wire: Wire) -> None:
    result = await call("complete", {"prompt": "hi", "model": "@cf/nobody/no-such-model"})
    assert result.is_error
    assert "list_models" in text_of(result)
    assert wire.paths() == [f"{API}/v1/completions"]


async def test_respond_uses_the_responses_api_and_returns_text_reasoning_and_items(call: Call, wire: Wire) -> None:
    arguments = {"input": "Why is the sky blue?", "instructions": "Answer briefly.", "max_output_tokens": 300}
    data = structured(await call("respond", arguments))
    assert data["model"] == GPT_OSS
    assert data["text"].startswith("[emulator] You said: Why is the sky blue?")
    assert data["reasoning"]
    assert [item["type"] for item in data["output"]] == ["reasoning", "message"]
    assert data["output"][1]["content"][0]["text"] == data["text"]
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
    assert wire.paths() == [f"{API}/v1/responses"]
    assert wire.bodies() == [{"model": GPT_OSS, **arguments}]


async def test_respond_sends_only_what_was_given(call: Call, wire: Wire) -> None:
    structured(await call("respond", {"input": "Hi"}))
    assert wire.bodies() == [{"model": GPT_OSS, "input": "Hi"}]


async def test_respond_cuts_long_strings_in_output_items_but_keeps_the_whole_text(call: Call, wire: Wire) -> None:
    long_text = "otter " * 1000
    answer = {
        "object": "response",
        "output": [
            {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "think " * 500}], "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": long_text}]},
        ],
        "usage": {"input_tokens": 3, "output_tokens": 1500, "total_tokens": 1503},
    }
    wire.intercept = lambda request: httpx2.Response(200, json=answer)
    data = structured(await call("respond", {"input": "Talk about otters"}))
    assert data["text"] == long_text
    assert data["reasoning"] == "think " * 500
    assert data["usage"] == {"prompt_tokens": 3, "completion_tokens": 1500, "total_tokens": 1503}
    message_text = data["output"][1]["content"][0]["text"]
    assert len(message_text) == 1000 and message_text.endswith("…")


async def test_respond_refuses_a_model_without_the_responses_api(call: Call) -> None:
    result = await call("respond", {"input": "Hi", "model": LLAMA_31})
    assert result.is_error
    assert "get_model_schema" in text_of(result)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        pytest.param("complete", {"prompt": ""}, id="complete-empty-prompt"),
        pytest.param("complete", {"prompt": "hi", "max_tokens": 9000}, id="complete-max_tokens"),
        pytest.param("complete", {"prompt": "hi", "temperature": -1}, id="complete-temperature"),
        pytest.param("respond", {"input": ""}, id="respond-empty-input"),
        pytest.param("respond", {"input": "hi", "max_output_tokens": 0}, id="respond-max_output_tokens"),
        pytest.param("respond", {"input": "hi", "model": "@cf/../../tokens"}, id="respond-crafted-model"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(tool, arguments)
    assert result.is_error
    assert emulator_state.requests == []


CALLS = [
    pytest.param("complete", {"prompt": "hi"}, id="complete"),
    pytest.param("respond", {"input": "hi"}, id="respond"),
]


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_an_unknown_model_points_to_list_models(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(tool, {**arguments, "model": "@cf/nobody/no-such-model"})
    assert result.is_error
    assert "list_models" in text_of(result)
    assert len(model_calls(emulator_state)) == 1


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_a_refused_token_names_cloudflare_api_token(
    tmp_path: Path, emulator_app: Starlette, tool: str, arguments: dict[str, Any]
) -> None:
    settings = make_settings(tmp_path, api_token=SecretStr("not-the-token"))
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert "CLOUDFLARE_API_TOKEN" in text_of(result)


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_capacity_errors_are_retried_then_reported(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040)
    result = await call(tool, arguments)
    assert result.is_error
    assert "capacity" in text_of(result) and "3 attempts" in text_of(result)
    assert len(model_calls(emulator_state)) == 3


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_one_unavailable_answer_is_retried_and_the_call_succeeds(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.UNAVAILABLE_503)
    assert structured(await call(tool, arguments))["text"].startswith("[emulator]")
    assert len(model_calls(emulator_state)) == 2


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_a_hanging_model_ends_at_the_deadline(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.HANG)
    settings = make_settings(tmp_path, timeout=0.5)
    with anyio.fail_after(5):
        async with open_session(settings, upstream=emulator_app) as client:
            result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert "0.5 s" in text_of(result)


def _real_branch(model_file: str, title: str) -> dict[str, Any]:
    path = SHARED_MODELS / model_file
    if not path.exists():
        pytest.skip(f"Cloudflare's schemas are not at {SHARED_MODELS}")
    schema = json.loads(path.read_text())["schema"]["input"]
    # Cloudflare's async-batch branches lack `required`, so every body matches one of them and a
    # top-level oneOf never holds; check against the branch the body is meant for.
    branches = [branch for branch in _branches(schema) if branch.get("title") == title]
    assert len(branches) == 1
    return branches[0]


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for branch in schema.get("oneOf", []):
        found += [branch, *_branches(branch)]
    return found


async def test_the_complete_fallback_body_validates_against_cloudflares_prompt_schema(call: Call, wire: Wire) -> None:
    branch = _real_branch("llama-3.1-8b-instruct-fp8.json", "Prompt")
    wire.intercept = lambda request: cloudflare_404(7000) if request.url.path.endswith("/completions") else None
    structured(await call("complete", {"prompt": "Roses are", "max_tokens": 8192, "temperature": 5}))
    assert schema_errors(branch, wire.bodies()[1]) == []


async def test_the_respond_input_validates_against_cloudflares_responses_schema(call: Call, wire: Wire) -> None:
    # /v1/responses has no published schema; the model's own Responses input form is the closest check.
    branch = _real_branch("gpt-oss-120b.json", "Responses")
    structured(await call("respond", {"input": "Hi", "instructions": "Be brief.", "max_output_tokens": 64}))
    assert schema_errors(branch, wire.bodies()[0]) == []


def schema_errors(schema: dict[str, Any], body: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(body)  # pyright: ignore[reportUnknownMemberType]
    return [str(error.message) for error in errors]


def model_calls(state: EmulatorState) -> list[str]:
    """Paths of the requests that ran a model (the client's own catalog look-ups for pricing left out)."""
    return [request.path for request in state.requests if "/ai/models/" not in request.path]
