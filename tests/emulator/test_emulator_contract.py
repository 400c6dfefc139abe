"""Every model of Cloudflare's published catalog (../shared/workers-ai-models/index.json) against the emulator.

For each model: a request valid per its published input schema is accepted in each wire form the
model takes (JSON, raw bytes, raw audio, multipart), an invalid one is refused with 5006, and every
answer fits its published output schema (the envelope's `result` for JSON, the schema's
`contentType` for raw and streamed bodies). `oneOf` is read as `anyOf` (see published_catalog.py).
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx2
import pytest
from PIL import Image

from emulator.published_catalog import (
    ABSENT_REASON,
    PNG,
    PRESENT,
    WAV,
    content_types,
    errors,
    index,
    invalid_request,
    load,
    valid_request,
)
from support.emulator import AI, mp3_frames
from workers_ai_mcp.emulator.registry import find
from workers_ai_mcp.emulator.skill_stream import answers_only_streamed

pytestmark = pytest.mark.skipif(not PRESENT, reason=ABSENT_REASON)
ENTRIES = index()


def _id(entry: dict[str, Any]) -> str:
    return str(entry["file"]).removesuffix(".json")


each_model = pytest.mark.parametrize("entry", ENTRIES, ids=_id)


def check_answer(entry: dict[str, Any], response: httpx2.Response) -> None:
    """The answer fits the published output schema, whatever its form."""
    assert response.status_code == 200, response.text[:500]
    output = load(entry["file"])["schema"]["output"]
    declared = content_types(output)
    media_type = response.headers["content-type"].split(";")[0]
    if media_type == "application/json":
        result = response.json()["result"]
        assert errors(output, result) == [], json.dumps(result)[:500]
    elif media_type == "text/event-stream":
        assert not declared or media_type in declared, declared
        events = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        assert "usage" in json.loads(events[-2])
    else:
        assert media_type in declared, (media_type, declared)
        if media_type.startswith("image/"):
            with Image.open(io.BytesIO(response.content)) as image:
                assert image.format == media_type.removeprefix("image/").upper()
        else:
            assert mp3_frames(response.content)


def test_every_published_model_is_served() -> None:
    served = {entry["name"] for entry in ENTRIES if find(entry["name"]) is not None}
    assert served == {entry["name"] for entry in ENTRIES}
    tasks = {entry["task"] for entry in ENTRIES}
    assert {find(name).task.name for name in served if find(name)} == tasks  # pyright: ignore[reportOptionalMemberAccess]


@each_model
def test_catalog_row_matches_the_published_one(entry: dict[str, Any]) -> None:
    real, spec = load(entry["file"]), find(entry["name"])
    assert spec is not None
    assert (spec.task.id, spec.task.name, spec.source) == (real["task"]["id"], real["task"]["name"], real["source"])
    if spec.file == entry["file"]:
        assert [dict(p) for p in spec.properties] == real["properties"]


# Over REST, multipart models (FLUX.2) and audio-stream models take another body: test_raw_and_multipart_forms.
# smart-turn's schema also has a base64 JSON form, so it is in both.
JSON_MODELS = [
    e for e in ENTRIES if not {"multipart", "stream"} & set(e["input_body"]) or e["task"] == "Voice Activity Detection"
]


@pytest.mark.parametrize("entry", JSON_MODELS, ids=_id)
async def test_valid_json_request_is_accepted_and_answer_fits(
    client: httpx2.AsyncClient, entry: dict[str, Any]
) -> None:
    spec = find(entry["name"])
    assert spec is not None
    if "schema" not in load(entry["file"]):
        response = await client.post(f"{AI}/run/{entry['name']}", json={"prompt": "Hello"})
        assert response.status_code == 200 and response.json()["result"]["response"]
        return
    if (
        "multipart" in entry["input_body"]
        or "stream" in entry["input_body"]
        and entry["task"] != "Voice Activity Detection"
    ):
        return  # these take another body over REST: test_raw_and_multipart_forms
    body = valid_request(entry)
    assert body is not None, "no candidate request fits the published input schema"
    response = await client.post(f"{AI}/run/{entry['name']}", json=body)
    if entry["task"] == "Automatic Speech Recognition" and "audio" not in body:
        assert response.status_code == 400  # deepgram/flux: its audio goes over a WebSocket, not /ai/run
        assert "WebSocket" in response.json()["errors"][0]["message"]
        return
    if answers_only_streamed(spec) and body.get("stream") is not True:
        # As the live API does (tests/recorded/responses/moondream_run_empty_result.json), outside the schema.
        assert response.status_code == 200 and response.json()["result"] == {}
        return
    check_answer(entry, response)


WITH_SCHEMA = [e for e in ENTRIES if "schema" in load(e["file"])]  # two models publish none


@pytest.mark.parametrize("entry", WITH_SCHEMA, ids=_id)
async def test_invalid_request_is_refused_with_5006(client: httpx2.AsyncClient, entry: dict[str, Any]) -> None:
    body = invalid_request(entry)
    assert body is not None, "no invalid candidate: extend published_catalog.INVALID"
    response = await client.post(f"{AI}/run/{entry['name']}", json=body)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"][0]["code"] == 5006


RAW_MODELS = [e for e in ENTRIES if {"binary", "stream", "multipart"} & set(e["input_body"])]


@pytest.mark.parametrize("entry", RAW_MODELS, ids=_id)
async def test_raw_and_multipart_forms(client: httpx2.AsyncClient, entry: dict[str, Any]) -> None:
    url = f"{AI}/run/{entry['name']}"
    forms = entry["input_body"]
    if "multipart" in forms:
        response = await client.post(url, files={"prompt": (None, "a lighthouse"), "width": (None, "256")})
        check_answer(entry, response)
        refused = await client.post(url, json={"prompt": "a lighthouse"})
        assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == 5006
        return
    is_image = entry["task"] in ("Image Classification", "Object Detection", "Image-to-Text")
    raw, media_type = (PNG, "image/png") if is_image else (WAV, "audio/wav")
    check_answer(entry, await client.post(url, content=raw, headers={"content-type": media_type}))


TEXT_MODELS = [e for e in ENTRIES if e["task"] == "Text Generation" and "schema" in load(e["file"])]


@pytest.mark.parametrize("entry", TEXT_MODELS, ids=_id)
async def test_stream_true_on_run_answers_sse_or_one_json_body(
    client: httpx2.AsyncClient, entry: dict[str, Any]
) -> None:
    body = valid_request(entry)
    assert body is not None
    body = {**body, "stream": True}
    if errors(load(entry["file"])["schema"]["input"], body):
        pytest.skip("the published input schema takes no `stream`")
    response = await client.post(f"{AI}/run/{entry['name']}", json=body)
    spec = find(entry["name"])
    assert spec is not None
    if spec.responses_api:
        # As the live API does (tests/recorded/streams/gpt_oss_run_stream_empty_json.json), outside the schema.
        assert response.status_code == 200 and response.json()["result"] == {}
        return
    check_answer(entry, response)
    streamed = response.headers["content-type"].startswith("text/event-stream")
    assert streamed == spec.streams_on_run


CHAT_MODELS = [e for e in TEXT_MODELS if (valid_request(e) or {}).get("messages")]


@pytest.mark.parametrize("entry", CHAT_MODELS, ids=_id)
async def test_v1_chat_completions(client: httpx2.AsyncClient, entry: dict[str, Any]) -> None:
    url = f"{AI}/v1/chat/completions"
    body = {"model": entry["name"], "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 32}
    answer = await client.post(url, json=body)
    assert answer.status_code == 200, answer.text[:300]
    completion = answer.json()
    assert completion["object"] == "chat.completion" and completion["choices"][0]["message"]["content"]
    spec = find(entry["name"])
    assert spec is not None
    if spec.openai_chat:
        output = load(entry["file"])["schema"]["output"]
        assert errors(output, completion) == []
    assert ("reasoning_content" in completion["choices"][0]["message"]) == spec.reasoning
    streamed = await client.post(url, json={**body, "stream": True})
    events = [line[6:] for line in streamed.text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["usage"]["completion_tokens"] > 0
