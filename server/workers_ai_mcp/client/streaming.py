"""Server-sent events from Workers AI, decoded into text events.

Chunks come in the answer forms `answers.py` reads: the native `/ai/run` one (`{"response": "...",
"p": "<padding>"}`, a late chunk with `usage`, tool calls), the OpenAI one (`choices[0].delta.content`),
which `/ai/v1/chat/completions` and newer models on `/ai/run` use, and whole Responses objects.
Streams end with `data: [DONE]`; a stream that ends without it was cut off and is an error, not a
short answer. Lines are split from the bytes as they come, and a line longer than its cap stops the
reading.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, cast

from ..redact import Redactor
from .answers import Answer, read_answer
from .errors import ResponseDecodeError, too_large_error
from .results import StreamResult
from .tool_calls import merge_tool_calls
from .usage_totals import UsageTotals

_NEWLINE = re.compile(rb"\r\n|\r|\n")
LINE_SETTING = "WORKERS_AI_MCP_MAX_STREAM_LINE_BYTES"


# One decoded chunk: the piece of the answer it carried (new text, possibly empty, and whatever else).
StreamEvent = Answer


async def sse_lines(chunks: AsyncIterable[bytes], *, max_line: int, setting: str) -> AsyncIterator[str]:
    """The lines of an event stream (`\\n`, `\\r\\n` or `\\r` ended); a line over `max_line` bytes is an error."""
    pending = bytearray()
    after_cr = False
    async for chunk in chunks:
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the second half of a CRLF split between chunks
        after_cr = chunk.endswith(b"\r")
        pieces = _NEWLINE.split(chunk)
        for piece in pieces[:-1]:
            pending += piece
            yield _line(pending, max_line, setting)
            pending.clear()
        pending += pieces[-1]
        if len(pending) > max_line:
            raise too_large_error("an event-stream line", max_line, setting)
    if pending:
        yield _line(pending, max_line, setting)


def _line(raw: bytearray, max_line: int, setting: str) -> str:
    if len(raw) > max_line:
        raise too_large_error("an event-stream line", max_line, setting)
    return raw.decode("utf-8", "replace")


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
    """Decode an event stream into `StreamEvent`s; raise `ResponseDecodeError` if it is cut off.

    A stream is complete at `data: [DONE]`, or when it ends after a chunk with a `finish_reason`: the
    model said it had finished, and Cloudflare's own client accepts that (workers-ai-provider
    src/streaming.ts). One that ends with neither was cut off.
    """
    finished = False
    async for data in sse_data(lines):
        if data.strip() == "[DONE]":
            return
        try:
            chunk: Any = json.loads(data)
        except ValueError:
            raise ResponseDecodeError("Workers AI sent a stream chunk that is not JSON; try again.") from None
        if isinstance(chunk, dict):
            event = decode_chunk(cast(dict[str, Any], chunk))
            finished = finished or event.finish_reason is not None
            yield event
    if not finished:
        raise ResponseDecodeError("The Workers AI stream ended before it was complete; try again.")


def decode_chunk(chunk: dict[str, Any]) -> StreamEvent:
    """One JSON chunk in any answer form (`answers.py` reads it)."""
    return cast(Answer, read_answer(chunk, chunk=True))


OnEvent = Callable[[StreamEvent], Awaitable[None]]


async def _ignore(_: StreamEvent) -> None:
    return None


class Gatherer:
    """Gathers stream events into a `StreamResult`, redacting every string before the caller sees it.

    Text and reasoning go through incremental redactors, which hold back a secret's length at most
    (so a token split across chunks is still caught); `finish` passes on what was held back.
    """

    def __init__(self, redact: Redactor, on_event: OnEvent = _ignore) -> None:
        self.result = StreamResult()
        self._redact = redact
        self._on_event = on_event
        self._text = redact.stream()
        self._reasoning = redact.stream()
        self._usage = UsageTotals()
        self._whole = ""  # the answer so far, for events that carry it whole (cumulative)

    async def add(self, event: StreamEvent) -> None:
        redact = self._redact
        await self._deliver(
            StreamEvent(
                text=self._text.feed(self._new_text(event)),
                usage=redact.json(event.usage),
                finish_reason=redact(event.finish_reason) if event.finish_reason else None,
                tool_calls=redact.json(event.tool_calls),
                reasoning=self._reasoning.feed(event.reasoning),
                usage_is_total=event.usage_is_total,
            )
        )

    def _new_text(self, event: StreamEvent) -> str:
        """The text the event adds: all of it, or for a cumulative event what goes beyond the answer so far."""
        if not event.cumulative:
            self._whole += event.text
            return event.text
        if not event.text.startswith(self._whole):
            return ""  # an answer that went back on itself: what was delivered stands
        added, self._whole = event.text[len(self._whole) :], event.text
        return added

    async def finish(self) -> StreamResult:
        text, reasoning = self._text.flush(), self._reasoning.flush()
        if text or reasoning:
            await self._deliver(StreamEvent(text=text, reasoning=reasoning))
        return self.result

    async def _deliver(self, event: StreamEvent) -> None:
        result = self.result
        result.delivered = True
        result.text += event.text
        result.reasoning += event.reasoning
        self._usage.add(event.usage, total=event.usage_is_total)
        result.usage = self._usage.value
        result.finish_reason = event.finish_reason or result.finish_reason
        merge_tool_calls(result.tool_calls, event.tool_calls)
        await self._on_event(event)


def is_empty_result(content: bytes) -> bool:
    """Whether a JSON answer to a stream request holds nothing: `{}` or a null result, in the envelope or not.

    gpt-oss (and, per Cloudflare's changelog, Kimi) answer `stream: true` on /ai/run that way; their
    answer comes only without `stream` (tests/recorded/streams/gpt_oss_run_stream_empty_json.json).
    """
    try:
        data: Any = json.loads(content)
    except ValueError:
        return False
    data = _unenveloped(data)
    return data is None or data == {}


_ENVELOPE = frozenset({"result", "success", "errors", "messages"})


def _unenveloped(data: Any) -> Any:
    """The `result` of Cloudflare's envelope (whole, or `result` alone as Cloudflare's own test doubles send it)."""
    if isinstance(data, dict):
        envelope = cast(dict[str, Any], data)
        if "result" in envelope and set(envelope) <= _ENVELOPE:
            return envelope["result"]
    return cast(Any, data)


def event_from_json(content: bytes) -> StreamEvent:
    """The one event of a JSON answer to a streamed request (some models ignore `stream`)."""
    try:
        data: Any = json.loads(content)
    except ValueError:
        raise ResponseDecodeError("Workers AI sent an answer that is not valid JSON; try again.") from None
    data = _unenveloped(data)
    if not isinstance(data, dict):
        raise ResponseDecodeError("Workers AI sent an unexpected answer to a streamed request.")
    return decode_chunk(cast(dict[str, Any], data))


async def gather_sse(content: bytes, redact: Redactor, *, max_line: int) -> Answer:
    """A whole event stream already read (an answer to a call that did not ask for one), gathered, redacted."""

    async def whole() -> AsyncIterator[bytes]:
        yield content

    gatherer = Gatherer(redact)
    async for event in decode_events(sse_lines(whole(), max_line=max_line, setting=LINE_SETTING)):
        await gatherer.add(event)
    return (await gatherer.finish()).answer()


def native_body(answer: Answer) -> dict[str, Any]:
    """A gathered answer in the native JSON form, for callers that show an answer's JSON (`run_model`)."""
    body: dict[str, Any] = {"response": answer.text}
    if answer.usage:
        body["usage"] = answer.usage
    if answer.tool_calls:
        body["tool_calls"] = answer.tool_calls
    return body
