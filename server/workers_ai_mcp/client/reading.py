"""Reading Workers AI answers within caps, enforced on the decoded bytes as they arrive.

httpx2 inflates gzip and deflate bodies in pieces of at most 1 MiB, so counting what
`aiter_bytes` yields bounds memory by the cap plus one piece, whatever the compression ratio.
Each piece is a checkpoint, so the call's deadline also ends an endless or slow body.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

import anyio.lowlevel
import httpx2

from ..settings import Settings
from .errors import ResponseDecodeError, too_large_error


@dataclass(frozen=True)
class Cap:
    """A read cap: its size, the setting that sets it, and what it applies to (for the message)."""

    limit: int
    setting: str
    what: str


def media_type(response: httpx2.Response, default: str = "") -> str:
    """The bare, lower-case media type of a response."""
    return response.headers.get("content-type", default).split(";")[0].strip().lower() or default


def answer_cap(settings: Settings, kind: str) -> Cap:
    """The cap for a successful answer of media type `kind`."""
    if kind == "text/event-stream":
        return stream_cap(settings)
    if kind.endswith("json") or kind.startswith("text/"):
        return Cap(settings.max_answer_bytes, "WORKERS_AI_MCP_MAX_ANSWER_BYTES", "a JSON answer")
    if settings.max_media_answer_bytes is not None:
        return Cap(settings.max_media_answer_bytes, "WORKERS_AI_MCP_MAX_MEDIA_ANSWER_BYTES", "a media answer")
    return Cap(settings.max_input_bytes, "WORKERS_AI_MCP_MAX_INPUT_BYTES", "a media answer")


def stream_cap(settings: Settings) -> Cap:
    """The cap on a whole event stream."""
    return Cap(settings.max_stream_bytes, "WORKERS_AI_MCP_MAX_STREAM_BYTES", "an event stream")


async def capped_chunks(response: httpx2.Response, cap: Cap) -> AsyncGenerator[bytes]:
    """The decoded body in pieces; more than `cap.limit` bytes in all is an `AnswerTooLargeError`."""
    declared = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
    if declared.isdigit() and int(declared) > cap.limit and not encoded:
        raise too_large_error(cap.what, cap.limit, cap.setting)
    total = 0
    try:
        async with aclosing(response.aiter_bytes()) as pieces:
            async for piece in pieces:
                total += len(piece)
                if total > cap.limit:
                    raise too_large_error(cap.what, cap.limit, cap.setting)
                yield piece
                await anyio.lowlevel.checkpoint()
    except httpx2.DecodingError:
        raise ResponseDecodeError("Workers AI sent a compressed answer that could not be decompressed.") from None


async def read_capped(response: httpx2.Response, cap: Cap) -> bytes:
    """The whole decoded body, refused past `cap`."""
    body = bytearray()
    async with aclosing(capped_chunks(response, cap)) as pieces:
        async for piece in pieces:
            body += piece
    return bytes(body)


async def read_prefix(response: httpx2.Response, limit: int) -> bytes:
    """At most `limit` decoded bytes of the body (an error body: its start says enough); the rest is not read."""
    body = bytearray()
    try:
        async with aclosing(response.aiter_bytes()) as pieces:
            async for piece in pieces:
                body += piece[: limit - len(body)]
                if len(body) >= limit:
                    break
    except httpx2.DecodingError:
        pass  # the status still says what happened
    return bytes(body)
