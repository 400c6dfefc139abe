"""Contract checks against Cloudflare's published per-model schemas (read from ../shared, never copied).

(a) each request our client would send fits Cloudflare's input schema, fits our own, and the emulator
accepts it; (b) each answer fits Cloudflare's output schema (the envelope's `result` for JSON, the
schema's `contentType` for raw and streamed bodies) and our own.

Cloudflare's schemas use `oneOf` with overlapping branches (an "Async Batch" input branch and an
"Async response" output branch that lack `required`), so under a standard validator no plain
llama-3.3 request and no embedding answer could ever match exactly one branch; the real API accepts
and sends them. The checks against Cloudflare's files therefore read `oneOf` as `anyOf`. Our own
schemas keep `oneOf` and are checked strictly.
"""
# ruff: noqa: F811  (the fixtures imported from emulator_support are requested as parameters)

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from emulator_support import AI, app, client, make_png, make_wav, state  # noqa: F401
from jsonschema import Draft202012Validator

from workers_ai_mcp.emulator.registry import MODELS, find

REAL_MODELS = Path(__file__).resolve().parents[3] / "shared" / "workers-ai-models"  # beside the checkout
pytestmark = pytest.mark.skipif(
    not REAL_MODELS.is_dir(),
    reason=f"Cloudflare's model schemas are not at {REAL_MODELS} (they sit beside the checkout, not in it)",
)
PNG = make_png(96, 64)
WAV = make_wav(1.0)
HELLO = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hello there"}]


@dataclass(frozen=True)
class Case:
    file: str
    label: str
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    media_type: str = "application/octet-stream"
    # Why a check against Cloudflare's file is skipped for this case, if it is.
    input_note: str = ""
    output_note: str = ""


SAMPLING = {"max_tokens": 64, "temperature": 0.6, "top_p": 0.9, "seed": 42}
CASES = [
    Case("llama-3.3-70b-instruct-fp8-fast.json", "messages", {"messages": HELLO, **SAMPLING}),
    Case("llama-3.3-70b-instruct-fp8-fast.json", "prompt-raw", {"prompt": "Hello", "raw": True, "max_tokens": 16}),
    Case("llama-3.3-70b-instruct-fp8-fast.json", "stream", {"messages": HELLO, "stream": True}),
    Case(
        "llama-3.3-70b-instruct-fp8-fast.json",
        "json-mode",
        {
            "messages": HELLO,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
        },
        output_note="JSON Mode answers `response` as an object; the published output schema says string",
    ),
    Case("llama-3.1-8b-instruct-fp8.json", "messages", {"messages": HELLO, "max_tokens": 32}),
    Case("llama-3.1-8b-instruct-fp8.json", "prompt", {"prompt": "Once upon a time", "max_tokens": 32}),
    Case("llama-3.1-8b-instruct.json", "messages", {"messages": HELLO, "frequency_penalty": 0.5}),
    Case(
        "llama-3.2-11b-vision-instruct.json",
        "prompt-image",
        {"prompt": "What is in the image?", "image": list(PNG), "max_tokens": 64},
    ),
    Case("gpt-oss-120b.json", "responses", {"input": "Hello", "reasoning": {"effort": "low", "summary": "auto"}}),
    Case(
        "gpt-oss-120b.json",
        "messages-parts",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_tokens": 64},
    ),
    Case("gpt-oss-120b.json", "stream", {"messages": HELLO, "stream": True}),
    Case("bge-base-en-v1.5.json", "batch-of-texts", {"text": ["first text", "second text"]}),
    Case("bge-small-en-v1.5.json", "one-text-cls", {"text": "one text", "pooling": "cls"}),
    Case("bge-large-en-v1.5.json", "one-text", {"text": "one text"}),
    Case(
        "bge-reranker-base.json",
        "query-contexts",
        {"query": "otters", "contexts": [{"text": "otters swim"}, {"text": "stocks fell"}], "top_k": 2},
    ),
    Case("m2m100-1.2b.json", "translate", {"text": "Good morning", "source_lang": "en", "target_lang": "fr"}),
    Case("bart-large-cnn.json", "summarize", {"input_text": "A long article about otters. " * 10, "max_length": 64}),
    Case("distilbert-sst-2-int8.json", "classify", {"text": "I love this"}),
    Case("resnet-50.json", "raw-image", raw=PNG, media_type="image/png"),
    Case("resnet-50.json", "image-ints", {"image": list(PNG)}),
    Case("detr-resnet-50.json", "raw-image", raw=PNG, media_type="image/png"),
    Case("llava-1.5-7b-hf.json", "image-prompt", {"image": list(PNG), "prompt": "Describe it", "max_tokens": 64}),
    Case("llava-1.5-7b-hf.json", "raw-image", raw=PNG, media_type="image/png"),
    Case(
        "whisper-large-v3-turbo.json",
        "base64-audio",
        {"audio": base64.b64encode(WAV).decode(), "language": "en", "task": "transcribe", "vad_filter": False},
    ),
    Case("whisper.json", "raw-audio", raw=WAV, media_type="audio/wav"),
    Case("whisper-tiny-en.json", "raw-audio", raw=WAV, media_type="audio/wav"),
    Case("whisper-tiny-en.json", "audio-ints", {"audio": list(WAV[:2000])}),
    Case(
        "nova-3.json",
        "raw-audio",
        raw=WAV,
        media_type="audio/wav",
        input_note="over REST nova-3 takes raw audio bytes (reference §1); the schema shows the binding's form",
    ),
    Case("smart-turn-v2.json", "base64-audio", {"audio": base64.b64encode(WAV).decode(), "dtype": "uint8"}),
    Case("flux-1-schnell.json", "prompt", {"prompt": "a lighthouse at dusk", "steps": 4}),
    Case(
        "stable-diffusion-xl-base-1.0.json",
        "prompt-size",
        {"prompt": "a lighthouse", "width": 512, "height": 384, "num_steps": 20, "guidance": 7.5},
    ),
    Case("aura-1.json", "text", {"text": "Hello from the emulator", "speaker": "angus"}),
    Case("melotts.json", "prompt", {"prompt": "Hello from the emulator", "lang": "en"}),
]


def load(file: str) -> dict[str, Any]:
    return json.loads((REAL_MODELS / file).read_text(encoding="utf-8"))


def relaxed(schema: Any) -> Any:
    """The schema with every `oneOf` read as `anyOf` (see the module docstring for why)."""
    if isinstance(schema, dict):
        return {("anyOf" if k == "oneOf" else k): relaxed(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [relaxed(v) for v in schema]
    return schema


def errors(schema: Any, instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in Draft202012Validator(schema).iter_errors(instance)]


def content_types(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["contentType"]} if isinstance(schema.get("contentType"), str) else set()
        return own.union(*(content_types(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(content_types(v) for v in schema))
    return set()


def accepts_binary(schema: dict[str, Any]) -> bool:
    branches = schema.get("oneOf", [schema])
    return any(b.get("type") == "string" and b.get("format") == "binary" for b in branches)


async def send(client: httpx2.AsyncClient, name: str, case: Case) -> httpx2.Response:
    url = f"{AI}/run/{name}"
    if case.body is not None:
        return await client.post(url, json=case.body)
    return await client.post(url, content=case.raw, headers={"content-type": case.media_type})


def case_id(case: Case) -> str:
    return f"{case.file.removesuffix('.json')}:{case.label}"


def test_every_published_model_file_is_served_by_the_registry() -> None:
    names = {load(p.name)["name"] for p in REAL_MODELS.glob("*.json")}
    assert names <= set(MODELS), sorted(names - set(MODELS))
    assert {case.file for case in CASES} == {p.name for p in REAL_MODELS.glob("*.json")}


@pytest.mark.parametrize("file", sorted(p.name for p in REAL_MODELS.glob("*.json")) if REAL_MODELS.is_dir() else [])
def test_catalog_row_matches_the_published_task_and_dimensions(file: str) -> None:
    real = load(file)
    spec = find(real["name"])
    assert spec is not None
    assert spec.task.id == real["task"]["id"]
    assert spec.task.name == real["task"]["name"]
    assert spec.source == real["source"]
    real_props = {p["property_id"]: p["value"] for p in real["properties"]}
    for prop in ("output_dimensions", "max_input_tokens"):
        if prop in real_props:
            assert spec.prop(prop) == real_props[prop]


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_request_fits_cloudflare_schema_and_ours_and_is_accepted(client: httpx2.AsyncClient, case: Case) -> None:
    real = load(case.file)
    spec = find(real["name"])
    assert spec is not None
    real_input = real["schema"]["input"]
    if case.body is not None:
        assert errors(relaxed(real_input), case.body) == []
        assert errors(spec.input_schema, case.body) == []
    elif not case.input_note:
        assert accepts_binary(real_input), "Cloudflare's schema has no binary branch for a raw body"
        assert accepts_binary(spec.input_schema)
    response = await send(client, real["name"], case)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_answer_fits_cloudflare_output_schema_and_ours(client: httpx2.AsyncClient, case: Case) -> None:
    real = load(case.file)
    spec = find(real["name"])
    assert spec is not None
    response = await send(client, real["name"], case)
    media_type = response.headers["content-type"].split(";")[0]
    real_output = real["schema"]["output"]
    if media_type != "application/json":
        assert media_type in content_types(real_output)
        assert media_type in content_types(spec.output_schema)
        return
    result = response.json()["result"]
    assert errors(spec.output_schema, result) == []
    if case.output_note:
        pytest.skip(case.output_note)
    assert "application/json" in content_types(real_output)
    assert errors(relaxed(real_output), result) == []
