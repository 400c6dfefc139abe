"""Helpers for the media tool tests: sample media, a loopback file server, and an upstream for
`open_session` whose emulator records request bodies and whose URL fetches reach the real loopback network.

The server's one HTTP client normally has the emulator as its only transport, which would also
answer the URL fetches of `image`/`audio` inputs; `SplitTransport` sends only the emulator's host
there. Helpers, not fixtures: each test module wraps them in the fixtures it needs.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import random
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from support.loopback import serving
from support.session import held_open
from support.settings import EMULATOR_URL, SHARED_MODELS


@functools.lru_cache(maxsize=8)
def noise_png(width: int, height: int, seed: int = 1) -> bytes:
    """A PNG of random pixels: it does not compress, so its size is about width * height * 3."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def photo_jpeg(width: int, height: int) -> bytes:
    """A smooth JPEG, like a photograph."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def small_png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def real_input_schema(file_name: str) -> dict[str, Any]:
    """The input schema Cloudflare publishes for a model (shared copy, never in the project)."""
    import pytest

    path = SHARED_MODELS / file_name
    if not path.exists():
        pytest.skip(f"Cloudflare's schema {file_name} is not available at {SHARED_MODELS}")
    return json.loads(path.read_text())["schema"]["input"]


def assert_valid(instance: object, schema: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.validate(instance, schema)


def decoded_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@dataclass
class Captured:
    """Bodies of the requests that reached the emulator, in order, by path."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list[tuple[str, bytes]])

    def runs(self) -> list[tuple[str, bytes]]:
        return [(path, body) for path, body in self.bodies if "/ai/run/" in path]

    def last_json(self) -> Any:
        path, body = self.runs()[-1]
        return json.loads(body)


def capturing(app: ASGIApp, captured: Captured) -> ASGIApp:
    """The emulator app, keeping a copy of each request body."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    captured.bodies.append((scope["path"], b"".join(chunks)))
            return message

        await app(scope, recording, send)

    return wrapper


class SplitTransport(httpx2.AsyncBaseTransport):
    """The emulator for its own host, the real network (loopback in tests) for everything else."""

    def __init__(self, emulator: ASGIApp) -> None:
        self.emulator = httpx2.ASGITransport(app=emulator)
        self.network = httpx2.AsyncHTTPTransport()
        self.emulator_host = httpx2.URL(EMULATOR_URL).host

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host == self.emulator_host:
            return await self.emulator.handle_async_request(request)
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def recording_upstream(emulator_app: ASGIApp, captured: Captured) -> SplitTransport:
    """The upstream for `open_session`: the emulator, keeping each request body in `captured`; other hosts
    (URL inputs) over the real network."""
    return SplitTransport(capturing(emulator_app, captured))


@asynccontextmanager
async def serve_files(files: dict[str, tuple[bytes, str]]) -> AsyncIterator[str]:
    """Serve `files` by path on 127.0.0.1 (a free port); yields the base URL.

    Held open in a task of its own, so that a fixture may yield inside it (pytest-asyncio sets a fixture
    up and tears it down in different tasks)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    def endpoint(body: bytes, media_type: str) -> Any:
        async def serve(request: Request) -> Response:
            return Response(body, media_type=media_type)

        return serve

    app = Starlette(routes=[Route(path, endpoint(*item)) for path, item in files.items()])
    async with held_open(serving(app)) as base:
        yield base


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
