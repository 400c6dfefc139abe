"""What the text tools share: reading answers in Cloudflare's and OpenAI's shapes (progress: ../host/progress.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import Field

from ...client.errors import InvalidRequestError, ResponseDecodeError
from ...jsonvalues import as_dict, as_list, dicts

# `respond` returns the raw output items, with long strings cut and at most this many items.
OUTPUT_ITEMS = 20
OUTPUT_STRING = 1000
# Reasoning returned beside the answer is cut to this many characters.
REASONING_CHARS = 4000


# Token counts: {prompt_tokens, completion_tokens, total_tokens} (a plain dict keeps tools/list small).
Usage = dict[str, int]


def usage_field() -> Any:
    """`Field` of an optional `usage` result member."""
    return Field(default=None, description="prompt_tokens, completion_tokens, total_tokens")


def nothing_returned(model: str, reasoning: str = "") -> ResponseDecodeError:
    """The error for an answer with no text at all (never an empty success)."""
    if reasoning:
        return ResponseDecodeError(f"{model} returned nothing but reasoning, no answer; raise max_tokens or try again.")
    return ResponseDecodeError(
        f"{model} returned nothing: its answer had no text; try again, or check it is a text-generation model."
    )


def bounded(text: str, limit: int = REASONING_CHARS) -> str | None:
    """`text` cut to `limit` characters (with a marker), or None when empty."""
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def usage_of(value: object) -> Usage | None:
    """Usage from `{prompt_tokens, completion_tokens}` or the Responses API's `{input_tokens, output_tokens}`."""
    data = as_dict(value)
    if not data:
        return None
    prompt = _int(data.get("prompt_tokens", data.get("input_tokens")))
    completion = _int(data.get("completion_tokens", data.get("output_tokens")))
    total = _int(data.get("total_tokens")) or prompt + completion
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    details = as_dict(data.get("completion_tokens_details")) or as_dict(data.get("output_tokens_details"))
    reasoning = _int(details.get("reasoning_tokens", data.get("reasoning_tokens")))
    return usage | {"reasoning_tokens": reasoning} if reasoning else usage


@dataclass
class Answer:
    """The text (and JSON, usage, tool calls) of one model answer, whatever its format."""

    text: str
    json: Any = None
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    reasoning: str = ""


def read_answer(data: object, model: str, *, want_json: bool = False) -> Answer:
    """Read `{"response": ...}` (native), `{"choices": [...]}` (OpenAI) or `{"output": [...]}` (Responses)."""
    body = as_dict(data)
    answer: Answer
    if isinstance(body.get("choices"), list):
        choices = dicts(body.get("choices"))
        choice = choices[0] if choices else {}
        message = as_dict(choice.get("message"))
        content = message.get("content")
        text = content if isinstance(content, str) else _parts_text(content) or _str(choice.get("text"))
        answer = Answer(text, finish_reason=_str(choice.get("finish_reason")) or None)
        answer.tool_calls = dicts(message.get("tool_calls"))
        answer.reasoning = _str(message.get("reasoning_content")) or _str(message.get("reasoning"))
    elif "response" in body:
        response = body["response"]
        if isinstance(response, dict | list):
            answer = Answer(json.dumps(response, ensure_ascii=False), json=response)
        else:
            answer = Answer(_str(response))
        answer.tool_calls = dicts(body.get("tool_calls"))
        answer.finish_reason = _str(body.get("finish_reason")) or None
    elif isinstance(body.get("output"), list) or isinstance(body.get("output_text"), str):
        answer = Answer(responses_text(body), reasoning=responses_reasoning(body) or "")
    else:
        raise nothing_returned(model)
    answer.usage = usage_of(body.get("usage"))
    if want_json and answer.json is None:
        answer.json = _parse_json(answer.text)
    return answer


def responses_text(body: dict[str, Any]) -> str:
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


def responses_reasoning(body: dict[str, Any]) -> str | None:
    """The reasoning text of a Responses API object (reasoning items' content and summaries), if any."""
    texts = [
        _str(part.get("text"))
        for item in dicts(body.get("output"))
        if item.get("type") == "reasoning"
        for part in dicts(item.get("content")) + dicts(item.get("summary"))
    ]
    joined = "\n".join(text for text in texts if text)
    return joined or None


def trimmed_output(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The raw `output` items, at most `OUTPUT_ITEMS`, with long strings cut."""
    return [as_dict(_trim(item)) for item in dicts(body.get("output"))[:OUTPUT_ITEMS]]


def check_json_schema(schema: dict[str, Any]) -> None:
    """Refuse (before sending) a `json_schema` that is not a JSON Schema."""
    from jsonschema import SchemaError, validators

    try:
        validators.validator_for(schema).check_schema(schema)  # pyright: ignore[reportUnknownMemberType]
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "the top level"
        detail = exc.message if len(exc.message) <= 200 else f"{exc.message[:200]}…"  # it may quote huge values
        raise InvalidRequestError(f"json_schema is not a valid JSON Schema at {where}: {detail}") from None


def _parse_json(text: str) -> Any:
    try:
        value: object = json.loads(text)
    except ValueError:
        return None
    return cast(Any, value) if isinstance(value, dict | list) else None


def _parts_text(content: object) -> str:
    return "".join(_str(part.get("text")) for part in dicts(content))


def _trim(value: object) -> object:
    if isinstance(value, str):
        return value if len(value) <= OUTPUT_STRING else value[: OUTPUT_STRING - 1] + "…"
    if mapping := as_dict(value):
        return {key: _trim(item) for key, item in mapping.items()}
    if items := as_list(value):
        return [_trim(item) for item in items]
    return value


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
