"""A scriptable hostile Workers AI for client tests: model calls get the test's answer, everything else
(catalog, schemas) goes to the emulator; endless bodies count what the client pulled from them."""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client

from support.results import text_of as text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, create_emulator_app

Answer = Callable[[httpx2.Request, int], httpx2.Response | None]
SAFETY_STOP = 48 * 1024 * 1024  # an endless body ends here, so that a client without caps fails, not the machine


class Endless:
    """A body that repeats `piece` (after `first`) until `stop` bytes: far past any cap under test."""

    def __init__(self, piece: bytes, *, first: bytes = b"", stop: int = SAFETY_STOP) -> None:
        self.piece = piece
        self.first = first
        self.stop = stop
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.first:
            self.pulled += len(self.first)
            yield self.first
        while self.pulled < self.stop:
            self.pulled += len(self.piece)
            yield self.piece


class GzipBomb:
    """An endless gzip body of zeros: each piece is about 1 KiB on the wire and `inflate` bytes decoded."""

    def __init__(self, *, inflate: int = 1024 * 1024, stop: int = SAFETY_STOP) -> None:
        self.inflate = inflate
        self.stop = stop
        self.decoded = 0  # what the pieces sent so far inflate to
        self.sent = 0  # compressed bytes sent

    async def __aiter__(self) -> AsyncIterator[bytes]:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(self.inflate)
        while self.decoded < self.stop:
            piece = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
            self.decoded += self.inflate
            self.sent += len(piece)
            yield piece


class Upstream:
    """Answers model calls (`/ai/run/`, `/ai/v1/`, the gateway's `/workers-ai/`) with `answer(request, n)`,
    n counting from 1; forwards the rest, and model calls `answer` returns None for, to an emulator."""

    def __init__(self, answer: Answer, *, token: str = EMULATOR_TOKEN) -> None:
        self.answer = answer
        self.calls: list[httpx2.Request] = []
        self._emulator = httpx2.ASGITransport(app=create_emulator_app(EmulatorState(), token=token))

    def transport(self) -> httpx2.MockTransport:
        async def handler(request: httpx2.Request) -> httpx2.Response:
            path = request.url.path
            if "/ai/run/" in path or "/ai/v1/" in path or "/workers-ai/" in path:
                self.calls.append(request)
                answer = self.answer(request, len(self.calls))
                if answer is not None:
                    return answer
            return await self._emulator.handle_async_request(request)

        return httpx2.MockTransport(handler)


def always(content_type: str, body: Any, status: int = 200) -> Answer:
    """An answer that is the same for every model call (an endless body is shared: pulled from once)."""
    return lambda request, n: httpx2.Response(status, headers={"content-type": content_type}, content=body)


@asynccontextmanager
async def session(upstream: Upstream, tmp_path: Path, **overrides: Any) -> AsyncGenerator[Client]:
    """An MCP session on our server, in memory, whose Workers AI is `upstream`.

    Legacy mode puts the progress token in `_meta`, so that `chat` streams when given a progress callback.
    """
    settings = make_settings(tmp_path, **overrides)
    async with open_session(settings, upstream=upstream.transport(), mode="legacy") as client:
        yield client


def sse(*events: str, done: bool = True) -> bytes:
    """An event stream of `data:` events, ended by `[DONE]` unless told otherwise."""
    body = "".join(f"data: {event}\n\n" for event in events)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


def envelope(result: object) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}
