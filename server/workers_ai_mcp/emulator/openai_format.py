"""OpenAI-shaped objects: chat.completion(.chunk), text_completion, embedding lists, Responses."""

from __future__ import annotations

import base64
import struct
from typing import Any

from .envelope import JsonObj
from .generate_text import MARK, PROMPT_NEURONS, TOKEN_NEURONS, Completion

REASONING = f"{MARK} No reasoning happens here; this is a local test double."


def chat_completion(
    model: str,
    completion: Completion,
    *,
    ident: str,
    created: int,
    reasoning: bool,
    tool_calls: list[JsonObj] | None = None,
) -> JsonObj:
    message: JsonObj = {"role": "assistant", "content": completion.text, "refusal": None}
    if reasoning:
        message["reasoning_content"] = REASONING
    finish = completion.finish_reason
    if tool_calls:
        message["content"], message["tool_calls"], finish = None, tool_calls, "tool_calls"
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": completion.usage(),
    }


def chat_chunks(
    model: str,
    completion: Completion,
    *,
    ident: str,
    created: int,
    reasoning: bool,
    tool_calls: list[JsonObj] | None = None,
) -> list[JsonObj]:
    """Role chunk, optional reasoning chunk, one chunk per token (or tool-call fragments by index: the
    name, then the arguments in two pieces), finish chunk, usage-only chunk."""

    def chunk(delta: JsonObj, finish: str | None = None) -> JsonObj:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [choice],
        }

    chunks = [chunk({"role": "assistant", "content": ""})]
    if reasoning:
        chunks.append(chunk({"reasoning_content": REASONING}))
    if tool_calls:
        chunks += _call_fragments(chunk, tool_calls)
    else:
        chunks += [chunk({"content": token}) for token in completion.tokens]
    chunks.append(chunk({}, "tool_calls" if tool_calls else completion.finish_reason))
    usage = chunk({})
    usage["choices"], usage["usage"] = [], completion.usage()
    chunks.append(usage)
    return chunks


def _call_fragments(chunk: Any, tool_calls: list[JsonObj]) -> list[JsonObj]:
    fragments: list[JsonObj] = []
    for index, call in enumerate(tool_calls):
        arguments = str(call["function"]["arguments"])
        half = len(arguments) // 2
        function: JsonObj = {"name": call["function"]["name"], "arguments": arguments[:half]}
        first: JsonObj = {"index": index, "id": call["id"], "type": "function", "function": function}
        fragments.append(chunk({"tool_calls": [first]}))
        fragments.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}))
    return fragments


def run_chunks(
    model: str,
    completion: Completion,
    *,
    ident: str,
    created: int,
    reasoning: bool,
    tool_calls: list[JsonObj] | None = None,
) -> list[JsonObj]:
    """An OpenAI-format stream on `/ai/run` as recorded live (tests/recorded/streams/gemma4_run_stream_usage_*,
    glm_run_stream_incremental_usage_zero_chunk): each chunk's usage is its *increment* (the prompt on the
    first, one token per token chunk, neurons on each), the finish chunk and a trailing `choices: []` chunk
    are zero-filled, and a native `{"response": "", "usage"}` event ends with the call's totals."""
    chunks = chat_chunks(model, completion, ident=ident, created=created, reasoning=reasoning, tool_calls=tool_calls)
    chunks = chunks[:-1]
    zero = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}

    def usage(prompt: int, tokens: int, neurons: float) -> JsonObj:
        counts = {"prompt_tokens": prompt, "completion_tokens": tokens, "total_tokens": prompt + tokens}
        cached = completion.cached if prompt else 0
        return {**counts, "prompt_tokens_details": {"cached_tokens": cached}, "neurons": neurons}

    first, prompt_neurons = chunks[0], completion.prompt_tokens * PROMPT_NEURONS
    first["usage"] = usage(completion.prompt_tokens, 0, prompt_neurons)
    for chunk in chunks[1:-1]:
        delta = chunk["choices"][0]["delta"]
        tokens = 1 if delta.get("content") else 0
        chunk["usage"] = usage(0, tokens, tokens * TOKEN_NEURONS)
    chunks[-1]["usage"] = usage(0, 0, 0.0)
    trailing: JsonObj = dict(chunks[-1])
    trailing["choices"] = []
    trailing["usage"] = {**zero, "prompt_tokens_details": {"cached_tokens": 0}, "neurons": 0}
    return [*chunks, trailing, {"response": "", "usage": completion.run_usage()}]


def text_completion(model: str, completion: Completion, *, ident: str, created: int) -> JsonObj:
    choice = {"index": 0, "text": completion.text, "logprobs": None, "finish_reason": completion.finish_reason}
    return {
        "id": f"cmpl-{ident}",
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": completion.usage(),
    }


def text_completion_chunks(model: str, completion: Completion, *, ident: str, created: int) -> list[JsonObj]:
    def chunk(text: str, finish: str | None) -> JsonObj:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        return {
            "id": f"cmpl-{ident}",
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [choice],
        }

    chunks = [chunk(token, None) for token in completion.tokens]
    chunks.append(chunk("", completion.finish_reason))
    last = chunk("", None)
    last["choices"], last["usage"] = [], completion.usage()
    chunks.append(last)
    return chunks


def embedding_list(model: str, vectors: list[list[float]], prompt_tokens: int, encoding: str) -> JsonObj:
    def encode(vector: list[float]) -> Any:
        if encoding == "base64":  # what the OpenAI SDKs ask for by default: little-endian float32
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return vector

    data = [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)]
    usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}


def response_object(model: str, completion: Completion, *, ident: str, created: int, request: JsonObj) -> JsonObj:
    """A completed Responses API object with a reasoning item and one output message."""
    reasoning_tokens = len(REASONING.split())
    output: list[JsonObj] = [
        {
            "type": "reasoning",
            "id": f"rs_{ident}",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": REASONING}],
        },
        {
            "type": "message",
            "id": f"msg_{ident}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": completion.text, "annotations": []}],
        },
    ]
    incomplete = completion.finish_reason == "length"
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": model,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "output": output,
        "parallel_tool_calls": True,
        "reasoning": request.get("reasoning") or {"effort": "medium", "summary": None},
        "temperature": request.get("temperature", 1.0),
        "top_p": request.get("top_p", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": completion.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion.completion_tokens + reasoning_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": completion.prompt_tokens + completion.completion_tokens + reasoning_tokens,
        },
    }
