"""For the media input tests: small real files, a loopback HTTP server of odd answers, a recording transport.

The loopback server runs in a thread with its own event loop (`support.loopback.serving_in_thread`), so
that a module-scoped fixture can hold it open.
"""

from __future__ import annotations

import io
import ssl
import struct
import wave
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from support.loopback import serving_in_thread

HUGE_CHUNK = 64 * 1024
HUGE_TOTAL = 8 * 1024 * 1024


def make_png(width: int = 3, height: int = 2) -> bytes:
    """A real, decodable RGB PNG built with the standard library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xc8\x28\x28" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def make_wav(frames: int = 800) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(b"\x00\x01" * frames)
    return out.getvalue()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]


@dataclass
class Loopback:
    """The loopback server: its address and every request it received."""

    port: int
    hits: list[Hit] = field(default_factory=list[Hit])
    huge_bytes_sent: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _loopback_app(loopback: Loopback, png: bytes, wav: bytes) -> ASGIApp:
    async def cat(request: Request) -> Response:
        return Response(png, media_type="image/png")

    async def voice(request: Request) -> Response:
        return Response(wav, media_type="audio/wav")

    async def notes(request: Request) -> Response:
        return Response(b"just some notes, not an image\n", media_type="text/plain")

    async def disguised(request: Request) -> Response:
        return Response(b"plain text served as a PNG\n", media_type="image/png")

    async def missing(request: Request) -> Response:
        return Response(b"no such thing", status_code=404)

    async def declared_big(request: Request) -> Response:
        return Response(png + b"\x00" * 300_000, media_type="image/png")

    async def huge(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield png
            while loopback.huge_bytes_sent < HUGE_TOTAL:
                loopback.huge_bytes_sent += HUGE_CHUNK
                yield b"\x00" * HUGE_CHUNK

        return StreamingResponse(body(), media_type="image/png")

    async def stalled(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield png[:8]
            await anyio.Event().wait()  # never set: the client's deadline must end the download
            yield png[8:]

        return StreamingResponse(body(), media_type="image/png")

    def redirect(target: Callable[[], str]) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> RedirectResponse:
            return RedirectResponse(target(), status_code=302)

        return endpoint

    app = Starlette(
        routes=[
            Route("/cat.png", cat),
            Route("/voice.wav", voice),
            Route("/notes.txt", notes),
            Route("/disguised.png", disguised),
            Route("/missing.png", missing),
            Route("/declared-big.png", declared_big),
            Route("/huge.png", huge),
            Route("/stalled.png", stalled),
            Route("/to-private", redirect(lambda: "http://10.0.0.1/x")),
            Route("/to-metadata", redirect(lambda: "http://169.254.169.254/latest/meta-data")),
            Route("/to-cat", redirect(lambda: f"{loopback.base}/cat.png")),
            Route("/to-ftp", redirect(lambda: "ftp://127.0.0.1/cat.png")),
            Route("/loop", redirect(lambda: "/loop")),
        ]
    )

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
            loopback.hits.append(Hit(path=scope["path"], headers=headers))
        await app(scope, receive, send)

    return counting


@contextmanager
def serve_loopback() -> Iterator[Loopback]:
    """The loopback server on a free 127.0.0.1 port, in a thread with its own event loop, until the block ends."""
    state = Loopback(port=0)
    with serving_in_thread(_loopback_app(state, make_png(), make_wav())) as base:
        state.port = httpx2.URL(base).port or 0
        yield state


class _CountingStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, recorder: RecordingTransport) -> None:
        self.inner = inner
        self.recorder = recorder

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.recorder.body_bytes += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """The real network transport, noting every request it is asked to send and the body bytes read."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.inner = httpx2.AsyncHTTPTransport(verify=ssl_context)
        self.requests: list[httpx2.Request] = []
        self.body_bytes = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _CountingStream(response.stream, self)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
