"""`POST .../ai/v1/{chat/completions,completions,embeddings,responses}`: OpenAI-shaped bodies, not wrapped."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import generate_text as text
from .checks import check
from .context import busy, emulator_state, new_ids, parse_json_object
from .dispatch import chat_answer, openai_calls
from .envelope import JsonObj, bad_input, no_such_model
from .generate_vectors import embed
from .model_spec import ModelSpec
from .openai_format import (
    chat_chunks,
    embedding_list,
    response_object,
    text_completion,
    text_completion_chunks,
)
from .registry import find
from .streaming import events_of, sse_response
from .tool_use import thinks
from .validation import validate

_TEXT_LIST = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
    ]
}
_COMMON = {
    "model": {"type": "string", "minLength": 1},
    "stream": {"type": "boolean"},
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 5},
    "top_p": {"type": "number", "minimum": 0, "maximum": 2},
    "seed": {"type": "integer"},
}
CHAT: JsonObj = {
    "type": "object",
    "properties": {
        **_COMMON,
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "properties": {"role": {"type": "string"}}, "required": ["role"]},
        },
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "response_format": {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]},
    },
    "required": ["model", "messages"],
}
COMPLETIONS: JsonObj = {
    "type": "object",
    "properties": {**_COMMON, "prompt": _TEXT_LIST},
    "required": ["model", "prompt"],
}
EMBEDDINGS: JsonObj = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": _TEXT_LIST,
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
    },
    "required": ["model", "input"],
}
RESPONSES: JsonObj = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {"anyOf": [{"type": "string"}, {"type": "array"}]},
        "instructions": {"type": "string"},
        "max_output_tokens": {"type": "integer", "minimum": 1},
        "stream": {"type": "boolean"},
    },
    "required": ["model", "input"],
}


async def _body(request: Request, schema: JsonObj, task: str) -> tuple[JsonObj, ModelSpec]:
    payload = parse_json_object(await request.body())
    validate(schema, payload)
    name = str(payload["model"])
    spec = find(name)
    if spec is None or spec.task.name != task:
        raise no_such_model(name)
    return payload, spec


def _model_input(spec: ModelSpec, payload: JsonObj) -> JsonObj:
    """The body without `model` (and the route's own `options`), checked against the model's published input."""
    model_input = {k: v for k, v in payload.items() if k not in ("model", "options")}
    validate(spec.relaxed_input, model_input)
    check(spec, model_input)
    return model_input


async def chat_completions(request: Request) -> Response:
    payload, spec = await _body(request, CHAT, "Text Generation")
    model_input = _model_input(spec, payload)
    await busy(request, spec.name, payload)
    ids = new_ids(emulator_state(request), request, spec.name, model_input)
    if payload.get("stream") is True:
        limit = payload.get("max_completion_tokens", payload.get("max_tokens", 256))
        completion = replace(text.complete(spec.name, {**model_input, "max_tokens": limit}), cached=ids.cached_tokens)
        chunks = chat_chunks(
            spec.name,
            completion,
            ident=ids.ident,
            created=ids.created,
            reasoning=thinks(spec.reasoning, model_input),
            tool_calls=openai_calls(model_input, ids),
        )
        return sse_response(events_of(chunks), emulator_state(request).token_delay)
    return JSONResponse(chat_answer(spec, model_input, ids))


async def completions(request: Request) -> Response:
    payload, spec = await _body(request, COMPLETIONS, "Text Generation")
    ids = new_ids(emulator_state(request))
    prompt = payload["prompt"]
    completion = text.complete(spec.name, {**payload, "prompt": prompt if isinstance(prompt, str) else prompt[0]})
    if payload.get("stream") is True:
        chunks = text_completion_chunks(spec.name, completion, ident=ids.ident, created=ids.created)
        return sse_response(events_of(chunks), emulator_state(request).token_delay)
    return JSONResponse(text_completion(spec.name, completion, ident=ids.ident, created=ids.created))


async def embeddings(request: Request) -> Response:
    payload, spec = await _body(request, EMBEDDINGS, "Text Embeddings")
    raw = payload["input"]
    texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
    vectors = [embed(t, spec.dimensions) for t in texts]
    tokens = sum(text.count_tokens(t) for t in texts)
    return JSONResponse(embedding_list(spec.name, vectors, tokens, str(payload.get("encoding_format", "float"))))


async def responses(request: Request) -> Response:
    payload = parse_json_object(await request.body())
    validate(RESPONSES, payload)
    name = str(payload["model"])
    spec = find(name)
    if spec is None:
        raise no_such_model(name)
    if not spec.responses_api:
        raise bad_input(f"model {name} does not support the Responses API (only gpt-oss models do) at '/model'")
    if payload.get("stream") is True:
        raise bad_input("the Responses API does not stream on Workers AI at '/stream'")
    _model_input(spec, payload)
    ids = new_ids(emulator_state(request))
    completion = text.complete(spec.name, payload, limit_key="max_output_tokens", default_limit=512)
    return JSONResponse(response_object(spec.name, completion, ident=ids.ident, created=ids.created, request=payload))
