"""One reader for every answer form: a whole body and the stream of the same answer read alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from support.settings import make_settings
from workers_ai_mcp.client import JsonResult, WorkersAIClient, create_http_client
from workers_ai_mcp.client.answers import Answer, read_answer, token_usage
from workers_ai_mcp.client.streaming import Gatherer, decode_events
from workers_ai_mcp.redact import Redactor

USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}

# (form, the whole body, the chunks of the same answer streamed)
FORMS: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "native",
        {"response": "New York", "tool_calls": [CALL], "finish_reason": "stop", "usage": USAGE},
        [{"response": "New", "p": "ab"}, {"response": " York"}, {"tool_calls": [CALL]},
         {"finish_reason": "stop"}, {"response": "", "usage": USAGE}],
    ),
    (
        "OpenAI chat",
        {"choices": [{"message": {"content": "New York", "reasoning_content": "hmm", "tool_calls": [CALL]},
                      "finish_reason": "stop"}], "usage": USAGE},
        [{"choices": [{"delta": {"reasoning_content": "hmm"}}]}, {"choices": [{"delta": {"content": "New"}}]},
         {"choices": [{"delta": {"content": " York", "tool_calls": [CALL]}, "finish_reason": "stop"}]},
         {"choices": [], "usage": USAGE}],
    ),
    (
        "OpenAI completions",
        {"choices": [{"text": "New York", "finish_reason": "stop"}], "usage": USAGE},
        [{"choices": [{"text": "New"}]}, {"choices": [{"text": " York", "finish_reason": "stop"}]},
         {"choices": [], "usage": USAGE}],
    ),
    (
        "Responses",
        {"output": [{"type": "reasoning", "content": [{"type": "reasoning_text", "text": "hmm"}]},
                    {"type": "message", "content": [{"type": "output_text", "text": "New York"}]}], "usage": USAGE},
        [{"output": [{"type": "reasoning", "content": [{"type": "reasoning_text", "text": "hmm"}]},
                     {"type": "message", "content": [{"type": "output_text", "text": "New York"}]}],
          "usage": USAGE}],
    ),
]  # fmt: skip


def stream_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"


async def gathered(chunks: list[dict[str, Any]]) -> Answer:
    async def lines() -> AsyncIterator[str]:
        for line in stream_of(chunks).split("\n"):
            yield line

    gatherer = Gatherer(Redactor())
    async for event in decode_events(lines()):
        await gatherer.add(event)
    return (await gatherer.finish()).answer()


@pytest.mark.parametrize(("form", "body", "chunks"), FORMS, ids=[form for form, _, _ in FORMS])
async def test_a_whole_answer_and_its_stream_read_the_same_in_every_form(
    form: str, body: dict[str, Any], chunks: list[dict[str, Any]]
) -> None:
    whole = read_answer(body)
    streamed = await gathered(chunks)
    assert whole is not None and whole.text == streamed.text == "New York"
    assert whole.reasoning == streamed.reasoning
    assert whole.tool_calls == streamed.tool_calls
    assert whole.finish_reason == streamed.finish_reason
    assert whole.usage == streamed.usage == USAGE


def test_a_native_json_response_is_kept_as_json_and_serialised_as_text() -> None:
    answer = read_answer({"response": {"city": "Paris"}})
    assert answer is not None and answer.json == {"city": "Paris"} and answer.text == '{"city": "Paris"}'


def test_a_body_in_no_answer_form_is_not_an_answer() -> None:
    assert read_answer({"translated_text": "bonjour"}) is None
    assert read_answer({}) is None


def test_token_usage_reads_chat_and_responses_counts() -> None:
    assert token_usage({"input_tokens": 4, "output_tokens": 6, "output_tokens_details": {"reasoning_tokens": 2}}) == {
        "prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10, "reasoning_tokens": 2,
    }  # fmt: skip
    assert token_usage(None) is None


async def test_a_stream_sent_to_a_call_that_did_not_ask_for_one_is_gathered_once(tmp_path: Any) -> None:
    chunks = FORMS[0][2]

    def answer(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream_of(chunks))

    settings = make_settings(tmp_path)
    async with create_http_client(settings, httpx2.MockTransport(answer)) as http:
        result = await WorkersAIClient(settings, http).run("@cf/meta/llama-3.1-8b-instruct-fp8", {"prompt": "hi"})
    assert isinstance(result, JsonResult) and result.streamed is not None
    assert result.answer() is result.streamed and result.streamed.text == "New York"
    assert result.streamed.finish_reason == "stop"
    assert result.data == {"response": "New York", "usage": USAGE, "tool_calls": [CALL]}  # shown by run_model
