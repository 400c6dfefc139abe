"""One validated model input → that model's answer, chosen by its task, then fitted to its output schema."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import generate_text as text
from .conform import conform
from .envelope import JsonObj, as_list, as_obj
from .forms import ModelInput
from .generate_vectors import embed_many, rerank
from .media_answers import media_answer
from .model_spec import ModelSpec
from .openai_format import chat_completion, response_object
from .results import Binary, Ids
from .tool_use import thinks, tool_call


def openai_calls(payload: JsonObj, ids: Ids) -> list[JsonObj] | None:
    """The request's tool call in OpenAI's form, if it makes one."""
    call = tool_call(payload)
    return [call.openai(0, ids.ident)] if call is not None else None


def _text_list(value: Any) -> list[str]:
    items = as_list(value)
    if items is not None:
        return [str(v) for v in items] or [""]
    return [str(value)] if value is not None else [""]


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def classic_text(spec: ModelSpec, payload: JsonObj, ids: Ids) -> JsonObj:
    """`{response, usage}`; with JSON Mode, `response` is an object; a tool call is `tool_calls`."""
    completion = replace(text.complete(spec.name, payload), cached=ids.cached_tokens)
    if (call := tool_call(payload)) is not None:
        return {"response": "", "tool_calls": [call.native()], "usage": completion.run_usage()}
    if as_obj(payload.get("response_format")) is not None:
        response = text.json_mode_object(spec.name, payload)
        tokens = text.count_tokens(text.dumps_compact(response))
        usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + tokens
        return {"response": response, "usage": usage}
    return {"response": completion.text, "usage": completion.run_usage() if ids.cached_tokens else completion.usage()}


def chat_answer(spec: ModelSpec, payload: JsonObj, ids: Ids) -> JsonObj:
    """An OpenAI `chat.completion` (JSON Mode content is a JSON string), reasoning where the model reasons."""
    limit = payload.get("max_completion_tokens", payload.get("max_tokens", 256))
    completion = replace(text.complete(spec.name, {**payload, "max_tokens": limit}), cached=ids.cached_tokens)
    body = chat_completion(
        spec.name,
        completion,
        ident=ids.ident,
        created=ids.created,
        reasoning=thinks(spec.reasoning, payload),
        tool_calls=openai_calls(payload, ids),
    )
    response_format = as_obj(payload.get("response_format")) or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        body["choices"][0]["message"]["content"] = text.dumps_compact(text.json_mode_object(spec.name, payload))
    return body


def _text_generation(spec: ModelSpec, payload: JsonObj, ids: Ids) -> list[Any]:
    if spec.responses_api and "input" in payload:
        completion = text.complete(spec.name, payload, limit_key="max_output_tokens", default_limit=512)
        return [response_object(spec.name, completion, ident=ids.ident, created=ids.created, request=payload)]
    if spec.openai_chat or spec.responses_api:
        return [chat_answer(spec, payload, ids)]
    return [classic_text(spec, payload, ids)]


def _language(spec: ModelSpec, payload: JsonObj, ids: Ids) -> list[Any]:
    task = spec.task.name
    if task == "Text Generation":
        return _text_generation(spec, payload, ids)
    if task == "Text Embeddings":
        texts = _text_list(payload.get("text", payload.get("input", payload.get("query"))))
        return [embed_many(texts, spec.dimensions, str(payload.get("pooling", "mean")))]
    if task == "Text Classification":
        if "query" in payload or "contexts" in payload:
            contexts = [str((as_obj(c) or {}).get("text", c)) for c in as_list(payload.get("contexts")) or []]
            ranked = rerank(str(payload.get("query", "")), contexts, _int(payload.get("top_k"), 0) or None)
            return [{"response": ranked}]
        return [text.sentiment(" ".join(_text_list(payload.get("text"))))]
    if task == "Translation":
        source, target = str(payload.get("source_lang", "en")), str(payload.get("target_lang", ""))
        translated = [text.translate(t, source, target) for t in _text_list(payload.get("text"))]
        return [{"translated_text": translated[0]}, {"translations": translated}]
    if task == "Summarization":
        summary = text.summarize(str(payload.get("input_text", "")), _int(payload.get("max_length"), 1024))
        return [{"summary": summary}]
    return []


def answer(spec: ModelSpec, inp: ModelInput, ids: Ids) -> Any:
    """The model's result (JSON-able, fitted to its output schema), or a Binary for raw-media answers."""
    payload = inp.payload
    candidates = _language(spec, payload, ids)
    if spec.task.name == "Text Generation" and not spec.openai_chat and as_obj(payload.get("response_format")):
        return candidates[0]  # JSON Mode: `response` is an object although the published schema says string
    if not candidates:
        result = media_answer(spec, inp)
        if isinstance(result, Binary):
            return result
        candidates = result
    _, echo = text.conversation(payload)
    return conform(spec.relaxed_output, candidates, echo)
