"""`chat`'s thinking control and function calling, through real MCP sessions against the emulator, with
every request checked against Cloudflare's own published input schema (the catalog's copy in
/work/shared/workers-ai-models) and the shapes of its function-calling docs."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx2
import pytest

from support.results import structured, text_of
from support.settings import SHARED_MODELS
from support.text_tools import Call, Wire
from tools.test_chat import model_calls, schema_errors
from workers_ai_mcp.emulator import EmulatorState

GEMMA_4 = "@cf/google/gemma-4-26b-a4b-it"  # OpenAI form on /ai/v1
DEEPSEEK_V4 = "@cf/deepseek-ai/deepseek-v4-flash-0731"
LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # native form on /ai/run
LLAMA_31 = "@cf/meta/llama-3.1-8b-instruct"  # declares tools, but its catalog entry has no function calling
GPT_OSS = "@cf/openai/gpt-oss-120b"
V1_CHAT = "/client/v4/accounts/test-account/ai/v1/chat/completions"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city's name."}},
        "required": ["city"],
    },
}


async def test_thinking_off_reaches_gemma_4_as_chat_template_kwargs_and_no_reasoning_comes_back(
    call: Call, wire: Wire
) -> None:
    data = structured(await call("chat", {"prompt": "Name a colour.", "model": GEMMA_4, "thinking": "off"}))
    (body,) = wire.bodies()
    assert wire.paths() == [V1_CHAT]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert schema_errors(_real_branch("gemma-4-26b-a4b-it.json", "Messages"), body) == []
    assert data["text"] and data.get("reasoning") is None


async def test_a_thinking_level_becomes_the_models_own_effort_and_reasoning_comes_back(call: Call, wire: Wire) -> None:
    data = structured(await call("chat", {"prompt": "Why?", "model": GEMMA_4, "thinking": "high"}))
    (body,) = wire.bodies()
    assert body["reasoning_effort"] == "high" and body["chat_template_kwargs"] == {"enable_thinking": True}
    assert data["reasoning"]


async def test_deepseek_v4_is_switched_off_by_effort_none_and_medium_goes_to_its_high(call: Call, wire: Wire) -> None:
    structured(await call("chat", {"prompt": "Hi", "model": DEEPSEEK_V4, "thinking": "off"}))
    structured(await call("chat", {"prompt": "Hi", "model": DEEPSEEK_V4, "thinking": "medium"}))
    off, medium = wire.bodies()
    assert off["reasoning_effort"] == "none" and medium["reasoning_effort"] == "high"
    branch = _real_branch("deepseek-v4-flash-0731.json", "Messages")
    assert schema_errors(branch, off) == [] and schema_errors(branch, medium) == []


async def test_gpt_oss_takes_a_level_but_cannot_stop_thinking_and_the_refusal_names_a_model_that_can(
    call: Call, wire: Wire, emulator_state: EmulatorState
) -> None:
    structured(await call("chat", {"prompt": "Why?", "model": GPT_OSS, "thinking": "max"}))
    assert wire.bodies()[0]["reasoning"] == {"effort": "high"}  # its highest
    result = await call("chat", {"prompt": "Why?", "model": GPT_OSS, "thinking": "off"})
    assert result.is_error
    assert f"{GPT_OSS} always thinks" in text_of(result)
    named = text_of(result).split("use model=")[1].split(",")[0]
    schema = await _schema_of(call, named)
    assert "enable_thinking" in json.dumps(schema)  # the model named can switch it
    assert len(model_calls(emulator_state)) == 1


async def test_a_model_without_thinking_control_is_refused_before_anything_is_sent(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("chat", {"prompt": "hi", "model": LLAMA_33, "thinking": "off"})
    assert result.is_error
    assert f"{LLAMA_33} has no thinking control" in text_of(result) and "which can switch thinking" in text_of(result)
    assert model_calls(emulator_state) == []


async def test_an_answer_of_reasoning_alone_says_what_it_cost_and_to_turn_thinking_off(call: Call, wire: Wire) -> None:
    def reasoning_only(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path != V1_CHAT:
            return None
        message = {"role": "assistant", "content": None, "reasoning_content": "Let me think. " * 50}
        usage = {"prompt_tokens": 5, "completion_tokens": 64, "total_tokens": 69}
        choice = {"index": 0, "message": message, "finish_reason": "length"}
        return httpx2.Response(200, json={"object": "chat.completion", "choices": [choice], "usage": usage})

    wire.intercept = reasoning_only
    result = await call("chat", {"prompt": "Why?", "model": GEMMA_4, "max_tokens": 64})
    assert result.is_error
    assert "spent its tokens on reasoning" in text_of(result) and 'thinking="off"' in text_of(result)
    assert "estimated cost $" in text_of(result)


async def test_a_tool_round_trip_on_a_native_model_uses_cloudflares_flat_form(call: Call, wire: Wire) -> None:
    asked = {"prompt": "Use get_weather for Paris.", "model": LLAMA_33, "tools": [WEATHER]}
    first = structured(await call("chat", asked))
    (called,) = first["tool_calls"]
    assert called["type"] == "function" and called["function"]["name"] == "get_weather"
    assert "city" in json.loads(called["function"]["arguments"])
    assert first["text"] == ""
    body = wire.bodies()[0]
    assert body["tools"] == [WEATHER]  # the traditional form: {name, description, parameters}
    assert "tool_choice" not in body
    branch = _real_branch("llama-3.3-70b-instruct-fp8-fast.json", "Messages")
    assert schema_errors(branch, body) == []

    messages = [
        {"role": "user", "content": "Use get_weather for Paris."},
        {"role": "assistant", "tool_calls": first["tool_calls"]},
        {"role": "tool", "tool_call_id": called["id"], "name": "get_weather", "content": '{"sky": "clear"}'},
    ]
    second = structured(await call("chat", {"messages": messages, "model": LLAMA_33, "tools": [WEATHER]}))
    assert "clear" in second["text"] and not second.get("tool_calls")
    sent = wire.bodies()[1]["messages"]
    assert sent[1] == {"role": "assistant", "content": "", "tool_calls": first["tool_calls"]}
    assert sent[2]["tool_call_id"] == called["id"]
    assert schema_errors(branch, wire.bodies()[1]) == []


async def test_a_tool_round_trip_on_an_openai_model_sends_openai_tools_and_tool_choice(call: Call, wire: Wire) -> None:
    openai_tool = {"type": "function", "function": WEATHER}
    asked = {
        "prompt": "What is it like in Oslo?",
        "model": GEMMA_4,
        "tools": [openai_tool],
        "tool_choice": "get_weather",
    }
    first = structured(await call("chat", asked))
    (called,) = first["tool_calls"]
    assert called["function"]["name"] == "get_weather" and first["finish_reason"] == "tool_calls"
    body = wire.bodies()[0]
    assert wire.paths()[0] == V1_CHAT
    assert body["tools"] == [openai_tool]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    branch = _real_branch("gemma-4-26b-a4b-it.json", "Messages")
    assert schema_errors(branch, body) == []

    messages = [
        {"role": "user", "content": "What is it like in Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": first["tool_calls"]},
        {"role": "tool", "tool_call_id": called["id"], "content": "snow"},
    ]
    second = structured(await call("chat", {"messages": messages, "model": GEMMA_4, "tools": [openai_tool]}))
    assert "snow" in second["text"]
    assert schema_errors(branch, wire.bodies()[1]) == []


async def test_a_streamed_tool_call_comes_back_merged(call: Call, wire: Wire) -> None:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    asked = {"prompt": "Call get_weather for Rome.", "model": GEMMA_4, "tools": [WEATHER]}
    data = structured(await call("chat", asked, legacy=True, progress=on_progress))
    assert wire.bodies()[0]["stream"] is True
    (called,) = data["tool_calls"]
    assert json.loads(called["function"]["arguments"])["city"]


async def test_a_model_without_function_calling_is_refused_with_one_that_has_it(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("chat", {"prompt": "get_weather?", "model": LLAMA_31, "tools": [WEATHER]})
    assert result.is_error
    assert f"{LLAMA_31} has no function calling" in text_of(result)
    assert "which has function calling" in text_of(result)
    assert model_calls(emulator_state) == []


async def test_bad_tools_and_a_tool_choice_without_tools_are_refused_in_one_sentence(
    call: Call, emulator_state: EmulatorState
) -> None:
    nameless = await call("chat", {"prompt": "x", "model": LLAMA_33, "tools": [{"description": "no name"}]})
    assert nameless.is_error and "tools[0] needs a name" in text_of(nameless)
    lonely = await call("chat", {"prompt": "x", "model": GEMMA_4, "tool_choice": "required"})
    assert lonely.is_error and "tool_choice needs tools" in text_of(lonely)
    native = await call("chat", {"prompt": "x", "model": LLAMA_33, "tools": [WEATHER], "tool_choice": "required"})
    assert native.is_error and "takes no tool_choice" in text_of(native)
    assert model_calls(emulator_state) == []


def _real_branch(model_file: str, title: str) -> dict[str, Any]:
    """The branch of Cloudflare's published input schema titled `title` (oneOf and anyOf arms alike)."""
    path = SHARED_MODELS / model_file
    if not path.exists():  # as for the catalog suites (conftest.py): CI has the files and must check them
        if os.environ.get("CI"):
            pytest.fail(f"Cloudflare's schemas are not at {SHARED_MODELS}, and CI must check against them")
        pytest.skip(f"Cloudflare's schemas are not at {SHARED_MODELS}")

    def arms(schema: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for arm in schema.get("oneOf", []) + schema.get("anyOf", []):
            found += [arm, *arms(arm)]
        return found

    (branch,) = [arm for arm in arms(json.loads(path.read_text())["schema"]["input"]) if arm.get("title") == title]
    return branch


async def _schema_of(call: Call, model: str) -> dict[str, Any]:
    return structured(await call("get_model_schema", {"model": model}))
