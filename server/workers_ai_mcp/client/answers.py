"""The one reader of model answers, whatever form they come in, whole or streamed.

Workers AI answers text generation in three forms: native (`{"response": ..., "tool_calls",
"usage"}`), OpenAI (`choices[]`, with a `message` when whole and a `delta` per streamed chunk,
or `text` for completions) and Responses (`output[]` items, `output_text`). A streamed chunk
has the shape of the whole answer it is part of, so one function reads both: a whole JSON body
gives the `Answer`, each stream chunk gives the piece of it that chunk carried (`streaming.py`
gathers the pieces). Tools shape the `Answer` for their results; nothing here knows of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from ..jsonvalues import as_dict, as_list, dicts

# Token counts: {prompt_tokens, completion_tokens, total_tokens[, reasoning_tokens]}.
Usage = dict[str, int]


@dataclass(frozen=True)
class Answer:
    """One model answer (or one streamed piece of it): text, reasoning, tool calls, usage, finish reason.

    `usage` is as the model reported it (metering prices it); `json` is the native `response` when
    it was JSON rather than text (`text` then holds it serialised).
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: list[Any] = field(default_factory=list[Any])
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    json: Any = None
    # The usage is the call's total (a native answer or final native stream event), not one chunk's
    # share of it: `usage_totals.py` tells them apart when gathering a stream.
    usage_is_total: bool = False
    # `text` is the whole answer so far, not a new piece (moondream's streamed `chunk.answer`, `output`).
    cumulative: bool = False


def read_answer(body: Mapping[str, Any], *, chunk: bool = False) -> Answer | None:
    """The answer a JSON body carries, in any form; None when it is in none of them.

    With `chunk`, `body` is one streamed chunk: whatever is neither OpenAI nor Responses is a native
    piece (a chunk may carry only tool calls, a finish reason or the late usage).
    """
    usage = body.get("usage")
    reported = cast(dict[str, Any], usage) if isinstance(usage, dict) else None
    skill = _skill_answer(body) if chunk else None
    if skill is not None:
        return Answer(skill, usage=reported, cumulative=True)
    choices = as_list(body.get("choices"))
    if isinstance(body.get("choices"), list):
        return _choice(as_dict(choices[0] if choices else None), reported)
    responses = isinstance(body.get("output"), list) or isinstance(body.get("output_text"), str)
    if "response" in body and not (chunk and responses) or chunk and not responses:
        return _native(body, reported)
    if responses:
        return Answer(responses_text(body), responses_reasoning(body), usage=reported)
    return None


def _skill_answer(chunk: Mapping[str, Any]) -> str | None:
    """The answer so far of a moondream stream event: `chunk.answer` (cumulative), or the last `answer`
    of the terminal `output` array (tests/recorded/streams/moondream_run_stream_status_events.json)."""
    piece = as_dict(chunk.get("chunk")).get("answer")
    if isinstance(piece, str):
        return piece
    items = dicts(chunk.get("output"))
    answers = [item["answer"] for item in items if isinstance(item.get("answer"), str)]
    return answers[-1] if answers and not any("type" in item for item in items) else None


def _native(body: Mapping[str, Any], usage: dict[str, Any] | None) -> Answer:
    response = body.get("response")
    finish = body.get("finish_reason")
    return Answer(
        text=json.dumps(response, ensure_ascii=False) if isinstance(response, dict | list) else _text(response),
        tool_calls=as_list(body.get("tool_calls")),
        usage=usage,
        finish_reason=finish if isinstance(finish, str) and finish else None,
        json=response if isinstance(response, dict | list) else None,
        usage_is_total=usage is not None,
    )


def _choice(choice: dict[str, Any], usage: dict[str, Any] | None) -> Answer:
    """The first choice of an OpenAI object: a chat `message` (whole), a `delta` (streamed) or completions' `text`."""
    message = as_dict(choice.get("delta") or choice.get("message"))
    content = message.get("content")
    text = content if isinstance(content, str) and content else _parts_text(content) or _str(choice.get("text"))
    return Answer(
        text=text,
        reasoning=_str(message.get("reasoning_content")) or _str(message.get("reasoning")),
        tool_calls=as_list(message.get("tool_calls")),
        usage=usage,
        finish_reason=_str(choice.get("finish_reason")) or None,
    )


def responses_text(body: Mapping[str, Any]) -> str:
    """The answer text of a Responses API object: `output_text`, else its `output_text` content parts."""
    top = body.get("output_text")
    if isinstance(top, str) and top:
        return top
    parts = [
        _str(part.get("text"))
        for item in dicts(body.get("output"))
        for part in dicts(item.get("content"))
        if part.get("type") == "output_text"
    ]
    return "".join(parts)


def responses_reasoning(body: Mapping[str, Any]) -> str:
    """The reasoning text of a Responses API object (reasoning items' content and summaries), or ''."""
    texts = [
        _str(part.get("text"))
        for item in dicts(body.get("output"))
        if item.get("type") == "reasoning"
        for part in dicts(item.get("content")) + dicts(item.get("summary"))
    ]
    return "\n".join(text for text in texts if text)


def token_usage(value: object) -> Usage | None:
    """Token counts from `{prompt_tokens, completion_tokens}` or the Responses API's `{input_tokens, output_tokens}`,
    with the reasoning and cached prompt tokens where the answer reports them."""
    data = as_dict(value)
    if not data:
        return None
    prompt = _int(data.get("prompt_tokens", data.get("input_tokens")))
    completion = _int(data.get("completion_tokens", data.get("output_tokens")))
    total = _int(data.get("total_tokens")) or prompt + completion
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    details = as_dict(data.get("completion_tokens_details")) or as_dict(data.get("output_tokens_details"))
    reasoning = _int(details.get("reasoning_tokens", data.get("reasoning_tokens")))
    if reasoning:
        usage["reasoning_tokens"] = reasoning
    prompt_details = as_dict(data.get("prompt_tokens_details")) or as_dict(data.get("input_tokens_details"))
    cached = _int(prompt_details.get("cached_tokens"))  # from the prefix cache, priced at their own rate
    if cached:
        usage["cached_tokens"] = cached
    return usage


def _parts_text(content: object) -> str:
    return "".join(_str(part.get("text")) for part in dicts(content))


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _text(value: object) -> str:
    """A native `response` as text: Workers AI sometimes answers a number (Cloudflare's CHANGELOG 3.0.5)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return _str(value)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
