"""Shared by the text tools' tests: a wire that records what our server sends, and one-call sessions.

Loaded as a pytest plugin by `tests/conftest.py`, which makes the `wire` and `call` fixtures available.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import CallToolResult
from starlette.applications import Starlette

from results_support import text_of as text_of
from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings

Intercept = Callable[[httpx2.Request], httpx2.Response | None]


class Wire:
    """What our server sent to the emulator (bodies included) and the raw bytes it answered.

    `intercept` may answer a request in the emulator's place. The client's catalog look-ups for
    pricing pass through unrecorded.
    """

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self.answers: list[bytes] = []
        self.intercept: Intercept | None = None

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def transport(self, app: Starlette) -> httpx2.MockTransport:
        forward = httpx2.ASGITransport(app=app)

        async def handler(request: httpx2.Request) -> httpx2.Response:
            answer = self.intercept(request) if self.intercept else None
            if answer is None:
                response = await forward.handle_async_request(request)
                answer = httpx2.Response(response.status_code, headers=response.headers, content=await response.aread())
            if "/ai/models/" not in request.url.path:
                self.requests.append(request)
                self.answers.append(answer.read())
            return answer

        return httpx2.MockTransport(handler)


class Call(Protocol):
    async def __call__(
        self, name: str, arguments: dict[str, Any], *, legacy: bool = False, progress: ProgressFnT | None = None
    ) -> CallToolResult: ...


@asynccontextmanager
async def connect(
    settings: Settings, app: Starlette, wire: Wire | None = None, *, legacy: bool = False
) -> AsyncGenerator[Client]:
    """A real MCP session on our server backed by the emulator, opened in the test's own task.

    `legacy=True` puts the progress token in `_meta`, where the tool can see it.
    """
    transport = wire.transport(app) if wire else httpx2.ASGITransport(app=app)
    server = create_server(settings, transport=transport)
    async with Client(server, mode="legacy" if legacy else "auto", raise_exceptions=True) as client:
        yield client


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def call(settings: Settings, emulator_app: Starlette, wire: Wire) -> Call:
    """Call one tool in a fresh MCP session whose HTTP traffic `wire` records."""

    async def call_tool(
        name: str, arguments: dict[str, Any], *, legacy: bool = False, progress: ProgressFnT | None = None
    ) -> CallToolResult:
        with anyio.fail_after(10):
            async with connect(settings, emulator_app, wire, legacy=legacy) as client:
                return await client.call_tool(name, arguments, progress_callback=progress)

    return call_tool


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content
