"""Shared by the text tools' tests: a wire that records what our server sends, and the one-call signature.

`tests/tools/conftest.py` makes the `wire` and `call` fixtures of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import httpx2
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import CallToolResult
from starlette.applications import Starlette

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
