"""`POST .../ai/run/{model}`: body parsing, validation, batch, streaming, and the answer's form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import batch
from .context import emulator_state, new_ids, parse_json_object
from .dispatch import Binary, Ids, answer
from .envelope import CloudflareError, JsonObj, bad_input, no_such_model, ok
from .generate_text import complete
from .model_spec import ModelSpec
from .openai_format import chat_chunks
from .registry import find
from .streaming import events_of, sse_response, workers_ai_events
from .validation import validate


def parse_body(spec: ModelSpec, body: bytes, content_type: str) -> JsonObj | bytes:
    """JSON object, or raw bytes for models that take a binary body and were not sent JSON."""
    if spec.binary_input and "json" not in content_type.lower():
        if not body.lstrip().startswith(b"{"):
            return body
        try:  # JSON sent without a JSON content type (curl -d does this)
            return parse_json_object(body)
        except CloudflareError:
            return body
    return parse_json_object(body)


def _stream(spec: ModelSpec, payload: JsonObj, ids: Ids, delay: float) -> Response:
    if spec.kind == "openai-chat":
        completion = complete(spec.name, payload)
        chunks = chat_chunks(spec.name, completion, ident=ids.ident, created=ids.created, reasoning=True)
        return sse_response(events_of(chunks), delay)
    if payload.get("response_format") is not None:
        raise bad_input("JSON Mode does not support streaming at '/stream'")
    return sse_response(workers_ai_events(complete(spec.name, payload)), delay)


def respond(result: object) -> Response:
    if isinstance(result, Binary):
        return Response(result.data, media_type=result.media_type)
    return ok(result)


async def run_model(request: Request) -> Response:
    state = emulator_state(request)
    name = str(request.path_params["model"])
    spec = find(name)
    if spec is None:
        raise no_such_model(name)
    payload = parse_body(spec, await request.body(), request.headers.get("content-type", ""))
    ids = new_ids(state)
    if isinstance(payload, dict):
        request_id = payload.get("request_id")
        if isinstance(request_id, str) and len(payload) == 1:
            return ok(batch.poll(state, request_id))
        queued = request.query_params.get("queueRequest", "").lower() == "true"
        if (queued or "requests" in payload) and not spec.async_queue:
            raise bad_input(f"model {spec.name} does not take async batch requests (queueRequest)")
        validate(spec.input_schema, payload)
        if queued or "requests" in payload:
            return ok(batch.enqueue(state, spec, payload, ids.created))
        streams = spec.kind == "text-generation" or (spec.kind == "openai-chat" and "input" not in payload)
        if payload.get("stream") is True and streams:
            return _stream(spec, payload, ids, state.token_delay)
    return respond(answer(spec, payload, ids))
