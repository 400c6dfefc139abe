"""For the HTTP transport tests: the inbound token, HTTP clients on an app in process, and MCP over them.

`mcp_over` is the one way tests open an MCP session over streamable HTTP (in process through ASGI, or
on a loopback socket served by `support.loopback.serving`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette

INBOUND_TOKEN = "inbound-token-for-tests-0123456789"
BASE = "http://127.0.0.1:8000"

AppFactory = Callable[..., Starlette]


def asgi_client(app: Starlette | httpx2.AsyncBaseTransport, token: str | None = INBOUND_TOKEN) -> httpx2.AsyncClient:
    """An HTTP client that reaches `app` in process, with a loopback Host (the SDK refuses others)."""
    transport = app if isinstance(app, httpx2.AsyncBaseTransport) else httpx2.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(transport=transport, base_url=BASE, headers=headers)


@asynccontextmanager
async def mcp_over(http: httpx2.AsyncClient, url: str = f"{BASE}/mcp", **client_options: Any) -> AsyncGenerator[Client]:
    """An MCP session over streamable HTTP at `url` through `http` (closed with the session)."""
    async with http, Client(streamable_http_client(url, http_client=http), **client_options) as client:
        yield client
