"""An upstream that fails the test if a model is called: catalog reads go to the emulator, and any
request that would run a model (and cost money) fails the test at once and again at its end."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette

_MODEL_PATHS = ("/ai/run/", "/ai/v1/", "/workers-ai/", "/compat/")


class Forbidden:
    """`transport()` for `open_session`; `sent` lists the model calls that reached it (none, in a passing test)."""

    def __init__(self, emulator_app: Starlette) -> None:
        self.emulator_app = emulator_app
        self.sent: list[str] = []

    def transport(self) -> httpx2.MockTransport:
        forward = httpx2.ASGITransport(app=self.emulator_app)

        async def handler(request: httpx2.Request) -> httpx2.Response:
            path = request.url.path
            if any(part in path for part in _MODEL_PATHS) and "/ai/models/" not in path:
                self.sent.append(f"{request.method} {path}")
                pytest.fail(f"a model was called although the call is refused before sending: {path}")
            response = await forward.handle_async_request(request)
            return httpx2.Response(response.status_code, headers=response.headers, content=await response.aread())

        return httpx2.MockTransport(handler)
