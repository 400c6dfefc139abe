"""What the text tools share: shaping the client's `Answer` for their results.

Answers are read in `client/answers.py` (every form, whole or streamed); here they are only
refused in words that name tools and bounded. Progress while streaming: `../host/progress.py`.
"""

from __future__ import annotations

import json
from typing import Any, cast

from pydantic import Field

from ...client import BinaryResult, RunResult
from ...client.answers import Answer
from ...client.errors import InvalidRequestError, ResponseDecodeError
from ...jsonvalues import as_dict, as_list, dicts

# `respond` returns the raw output items, with long strings cut and at most this many items.
OUTPUT_ITEMS = 20
OUTPUT_STRING = 1000
# Reasoning returned beside the answer is cut to this many characters.
REASONING_CHARS = 4000


def usage_field() -> Any:
    """`Field` of an optional `usage` result member."""
    return Field(default=None, description="prompt_tokens, completion_tokens, total_tokens[, cached_tokens]")


def nothing_returned(model: str, reasoning: str = "", cost_usd: float | None = None) -> ResponseDecodeError:
    """The error for an answer with no text at all (never an empty success); one that only reasoned
    says what that cost and how to get an answer."""
    if reasoning:
        cost = f" (estimated cost ${cost_usd:.6f})" if cost_usd is not None else ""
        return ResponseDecodeError(
            f"{model} spent its tokens on reasoning and gave no answer{cost}; "
            'pass thinking="off" or a larger max_tokens.'
        )
    return ResponseDecodeError(
        f"{model} returned nothing: its answer had no text; try again, or check it is a text-generation model."
    )


def bounded(text: str, limit: int = REASONING_CHARS) -> str | None:
    """`text` cut to `limit` characters (with a marker), or None when empty."""
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_answer(result: RunResult, model: str) -> Answer:
    """The model's answer, read by the client's one reader; an answer that is binary or in no answer
    form is refused in words that say what this tool needs."""
    if isinstance(result, BinaryResult):
        raise ResponseDecodeError(
            f"{model} answered with binary data; this tool needs a Text Generation model "
            "(list_models with task 'Text Generation')."
        )
    answer = result.answer()
    if answer is None:
        raise nothing_returned(model)
    return answer


def json_value(answer: Answer, *, want_json: bool) -> Any:
    """The answer as JSON: a native JSON `response`, else (when JSON was asked for) the text parsed."""
    if answer.json is not None or not want_json:
        return answer.json
    return _parse_json(answer.text)


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


def _trim(value: object) -> object:
    if isinstance(value, str):
        return value if len(value) <= OUTPUT_STRING else value[: OUTPUT_STRING - 1] + "…"
    if mapping := as_dict(value):
        return {key: _trim(item) for key, item in mapping.items()}
    if items := as_list(value):
        return [_trim(item) for item in items]
    return value
