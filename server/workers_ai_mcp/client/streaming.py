"""Server-sent events from Workers AI, decoded into text events.

Two chunk formats reach us: the native `/ai/run` one (`{"response": "...", "p": "<padding>"}`,
a late chunk with `usage`, tool calls) and the OpenAI one (`choices[0].delta.content`), which
`/ai/v1/chat/completions` and newer models on `/ai/run` use. Both end with `data: [DONE]`; a
stream that ends without it was cut off and is an error, not a short answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from ..jsonvalues import as_dict, as_list, dicts
from .errors import ResponseDecodeError


@dataclass(frozen=True)
class StreamEvent:
    """One decoded chunk: new text (possibly empty) and whatever else it carried."""

    text: str = ""
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    tool_calls: list[Any] = field(default_factory=list[Any])
    reasoning: str = ""


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` payloads of an event stream, one per event, `[DONE]` included."""
    buffer: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if line == "":
            if buffer:
                yield "\n".join(buffer)
                buffer = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            buffer.append(value[1:] if value.startswith(" ") else value)
    if buffer:
        yield "\n".join(buffer)


async def decode_events(lines: AsyncIterator[str]) -> AsyncIterator[StreamEvent]:
    """Decode an event stream into `StreamEvent`s; raise `ResponseDecodeError` if it is cut off."""
    async for data in sse_data(lines):
        if data.strip() == "[DONE]":
            return
        try:
            chunk: Any = json.loads(data)
        except ValueError:
            raise ResponseDecodeError("Workers AI sent a stream chunk that is not JSON; try again.") from None
        if isinstance(chunk, dict):
            yield decode_chunk(cast(dict[str, Any], chunk))
    raise ResponseDecodeError("The Workers AI stream ended before it was complete; try again.")


def decode_chunk(chunk: dict[str, Any]) -> StreamEvent:
    """One JSON chunk in either format."""
    usage = chunk.get("usage")
    usage_dict = cast(dict[str, Any], usage) if isinstance(usage, dict) else None
    if isinstance(chunk.get("choices"), list):
        choices = as_list(chunk.get("choices"))
        text, reasoning, finish = "", "", None
        calls: list[Any] = []
        for item in dicts(choices):
            delta = as_dict(item.get("delta") or item.get("message"))
            text += _as_text(delta.get("content"))
            reasoning += _as_text(delta.get("reasoning_content") or delta.get("reasoning"))
            calls.extend(as_list(delta.get("tool_calls")))
            text += _as_text(item.get("text"))  # OpenAI completions chunks
            finish = _as_text(item.get("finish_reason")) or finish
        return StreamEvent(text, usage_dict, finish, calls, reasoning)
    if isinstance(chunk.get("output"), list) or isinstance(chunk.get("output_text"), str):
        return _responses_event(chunk, usage_dict)  # a Responses API object, sent whole
    tool_calls = chunk.get("tool_calls")
    response = chunk.get("response")
    return StreamEvent(
        text=json.dumps(response, ensure_ascii=False) if isinstance(response, dict | list) else _as_text(response),
        usage=usage_dict,
        finish_reason=chunk.get("finish_reason") if isinstance(chunk.get("finish_reason"), str) else None,
        tool_calls=cast(list[Any], tool_calls) if isinstance(tool_calls, list) else [],
    )


def _responses_event(body: dict[str, Any], usage: dict[str, Any] | None) -> StreamEvent:
    items = dicts(body.get("output"))
    parts = [p for item in items for p in dicts(item.get("content")) if p.get("type") == "output_text"]
    text = _as_text(body.get("output_text")) or "".join(_as_text(p.get("text")) for p in parts)
    thoughts = [
        _as_text(p.get("text"))
        for item in items
        if item.get("type") == "reasoning"
        for p in dicts(item.get("content")) + dicts(item.get("summary"))
    ]
    return StreamEvent(text, usage, None, [], "\n".join(t for t in thoughts if t))


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else ""
