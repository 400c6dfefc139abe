"""What the text tools share: shaping the client's `Answer` for their results, and streaming progress.

Answers are read in `client/answers.py` (every form, whole or streamed); here they are only
refused in words that name tools, bounded, and turned into progress notifications.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, cast

from pydantic import Field

from ...client import BinaryResult, RunResult, StreamEvent
from ...client.answers import Answer, Usage
from ...client.errors import InvalidRequestError, ResponseDecodeError
from ...jsonvalues import as_dict, as_list, dicts
from ..host.common import AppContext

# Progress while streaming: at most one notification per interval, unless this many chunks arrived.
PROGRESS_INTERVAL = 0.1
PROGRESS_EVERY = 16
PROGRESS_TAIL = 200
# `respond` returns the raw output items, with long strings cut and at most this many items.
OUTPUT_ITEMS = 20
OUTPUT_STRING = 1000
# Reasoning returned beside the answer is cut to this many characters.
REASONING_CHARS = 4000


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


def progress_token(ctx: AppContext) -> str | int | None:
    """The progress token of this call, if the client asked for progress.

    Present over stdio and HTTP, and from an in-memory `mcp.Client(mode="legacy")`. The in-memory
    client's default "auto" (2026-07-28) mode reports progress through its callback without putting a
    token in `_meta`, so we cannot see that it wants progress and such calls are not streamed.
    """
    meta = ctx.request_context.meta
    token = meta.get("progress_token") if meta else None
    return token if isinstance(token, str | int) else None


class StreamProgress:
    """Turns stream events into throttled progress notifications: at most one per
    `PROGRESS_INTERVAL` seconds unless `PROGRESS_EVERY` chunks arrived since the last, and a final one."""

    def __init__(self, ctx: AppContext, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx = ctx
        self._total = total
        self._clock = clock
        self.text = ""
        self.chunks = 0
        self._sent_chunks = 0
        self._sent_progress = -1
        self._last = -math.inf

    async def on_event(self, event: StreamEvent) -> None:
        if not event.text:
            return
        self.text += event.text
        self.chunks += 1
        now = self._clock()
        if now - self._last >= PROGRESS_INTERVAL or self.chunks - self._sent_chunks >= PROGRESS_EVERY:
            await self._send(self.chunks, now)

    async def finish(self, usage: Usage | None) -> None:
        """The final notification (unless the last one already said everything)."""
        progress = max(self.chunks, usage.get("completion_tokens", 0) if usage else 0)
        if self._sent_progress < progress or self._sent_chunks < self.chunks:
            await self._send(max(progress, self._sent_progress + 1), self._clock())

    async def _send(self, progress: int, now: float) -> None:
        self._last = now
        self._sent_chunks = self.chunks
        self._sent_progress = progress
        text = self.text if len(self.text) <= PROGRESS_TAIL else "…" + self.text[-(PROGRESS_TAIL - 1) :]
        await self._ctx.report_progress(progress=progress, total=self._total, message=text)


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
