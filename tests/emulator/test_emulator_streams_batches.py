"""Server-sent event streams (Workers AI and OpenAI formats) and the async batch queue."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from support.emulator import AI, LLAMA


def sse_data(text: str) -> list[str]:
    """The `data:` payloads of a stream, asserting every event is one `data:` line and a blank line."""
    events = text.split("\n\n")
    assert events[-1] == "", "stream must end with a blank line"
    payloads = []
    for event in events[:-1]:
        assert event.startswith("data: ") and "\n" not in event, event
        payloads.append(event.removeprefix("data: "))
    return payloads


async def test_stream_sends_tokens_then_usage_then_done(client: httpx2.AsyncClient) -> None:
    body = {"prompt": "Stream this please", "stream": True, "max_tokens": 6}
    response = await client.post(f"{AI}/run/{LLAMA}", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    tokens = chunks[:-1]
    assert all(set(c) == {"response", "p"} and c["p"] for c in tokens)
    assert "".join(c["response"] for c in tokens) == "[emulator] You said: Stream this please"
    assert chunks[-1] == {
        "response": "",
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 6,
            "total_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 0},
            "neurons": pytest.approx(0.21),
        },
    }
    whole = await client.post(f"{AI}/run/{LLAMA}", json={**body, "stream": False})
    assert whole.json()["result"]["response"] == "".join(c["response"] for c in tokens)


async def test_json_mode_refuses_to_stream(client: httpx2.AsyncClient) -> None:
    body = {"prompt": "x", "stream": True, "response_format": {"type": "json_object"}}
    response = await client.post(f"{AI}/run/{LLAMA}", json=body)
    assert response.status_code == 400
    assert "'/stream'" in response.json()["errors"][0]["message"]


def openai_chunks(text: str) -> list[dict[str, Any]]:
    payloads = sse_data(text)
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


async def test_gpt_oss_answers_stream_true_on_ai_run_with_an_empty_json_result_and_unstreamed_with_the_answer(
    client: httpx2.AsyncClient,
) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "stream": True, "max_tokens": 4}
    response = await client.post(f"{AI}/run/@cf/openai/gpt-oss-120b", json=body)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"result": {}, "success": True, "errors": [], "messages": []}
    response = await client.post(f"{AI}/run/@cf/openai/gpt-oss-120b", json={**body, "stream": False})
    completion = response.json()["result"]
    assert completion["object"] == "chat.completion"
    message = completion["choices"][0]["message"]
    assert message["content"] == "[emulator] You said: Hi" and message["reasoning_content"]
    assert completion["usage"]["completion_tokens"] == 4


async def test_kimi_streams_openai_chunks_on_ai_run_with_reasoning_and_usage_as_recorded(
    client: httpx2.AsyncClient,
) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "stream": True, "max_tokens": 4}
    response = await client.post(f"{AI}/run/@cf/moonshotai/kimi-k2.6", json=body)
    *chunks, native = openai_chunks(response.text)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert any("reasoning_content" in d for d in deltas)
    assert "".join(d.get("content", "") for d in deltas) == "[emulator] You said: Hi"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    # As recorded (tests/recorded/streams/gemma4_*, glm_*): increments per chunk, zero-filled finish and
    # trailing `choices: []` chunks, then a native event with the totals.
    increments = [c["usage"]["completion_tokens"] for c in chunks]
    assert sum(increments) == 4 and max(increments) == 1
    assert chunks[0]["usage"]["prompt_tokens"] > 0 and chunks[1]["usage"]["prompt_tokens"] == 0
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 0
    assert native["response"] == "" and native["usage"]["completion_tokens"] == 4
    assert native["usage"]["neurons"] > 0 and native["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}


async def test_chat_completions_stream_ends_with_finish_usage_and_done(client: httpx2.AsyncClient) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "Hello you"}], "stream": True}
    response = await client.post(f"{AI}/v1/chat/completions", json=body)
    chunks = openai_chunks(response.text)
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    usage = chunks[-1]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert not any("reasoning_content" in c["choices"][0]["delta"] for c in chunks if c["choices"])


async def test_completions_stream_text_chunks(client: httpx2.AsyncClient) -> None:
    body = {"model": LLAMA, "prompt": "Once", "stream": True, "max_tokens": 3}
    chunks = openai_chunks((await client.post(f"{AI}/v1/completions", json=body)).text)
    assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"]) == "[emulator] You said:"


async def test_batch_is_queued_then_running_then_done(client: httpx2.AsyncClient) -> None:
    url = f"{AI}/run/{LLAMA}"
    requests = [{"prompt": "first", "external_reference": "ref-1"}, {"prompt": "second", "max_tokens": 2}]
    queued = await client.post(url, params={"queueRequest": "true"}, json={"requests": requests})
    assert queued.status_code == 200
    ticket = queued.json()["result"]
    assert ticket["status"] == "queued"
    assert ticket["model"] == LLAMA
    request_id = ticket["request_id"]
    running = (await client.post(url, json={"request_id": request_id})).json()["result"]
    assert running == {"status": "running", "request_id": request_id, "model": LLAMA}
    done = (await client.post(url, json={"request_id": request_id})).json()["result"]
    responses = done["responses"]
    assert [r["id"] for r in responses] == [0, 1]
    assert [r["external_reference"] for r in responses] == ["ref-1", None]
    assert all(r["success"] for r in responses)
    assert responses[0]["result"]["response"].startswith("[emulator] You said: first")
    assert responses[1]["result"]["response"] == "[emulator] You"
    usage = done["usage"]
    assert usage["completion_tokens"] == sum(r["result"]["usage"]["completion_tokens"] for r in responses)
    again = (await client.post(url, json={"request_id": request_id})).json()["result"]
    assert again == done


async def test_batch_works_for_embedding_models(client: httpx2.AsyncClient) -> None:
    for model, item in (
        ("@cf/baai/bge-base-en-v1.5", {"text": "a"}),
        ("@cf/baai/bge-large-en-v1.5", {"text": ["a", "b"]}),
    ):
        url = f"{AI}/run/{model}"
        ticket = (await client.post(url, params={"queueRequest": "true"}, json={"requests": [item]})).json()
        request_id = ticket["result"]["request_id"]
        await client.post(url, json={"request_id": request_id})
        done = (await client.post(url, json={"request_id": request_id})).json()["result"]
        assert done["responses"][0]["success"] is True


async def test_batch_is_refused_for_models_without_async_queue(client: httpx2.AsyncClient) -> None:
    url = f"{AI}/run/@cf/meta/llama-3.1-8b-instruct-fp8"
    response = await client.post(url, params={"queueRequest": "true"}, json={"requests": [{"prompt": "x"}]})
    assert response.status_code == 400
    assert "queueRequest" in response.json()["errors"][0]["message"]


async def test_queue_request_without_requests_and_unknown_ids_are_bad_input(client: httpx2.AsyncClient) -> None:
    url = f"{AI}/run/{LLAMA}"
    no_list = await client.post(url, params={"queueRequest": "true"}, json={"prompt": "x"})
    unknown = await client.post(url, json={"request_id": "00000000-0000-0000-0000-000000000000"})
    assert no_list.status_code == unknown.status_code == 400
    assert "'requests'" in no_list.json()["errors"][0]["message"]
    assert "'/request_id'" in unknown.json()["errors"][0]["message"]
