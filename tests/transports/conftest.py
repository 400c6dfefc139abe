"""Fixtures for the HTTP transports: settings with an inbound token, and apps built from them."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr
from starlette.applications import Starlette

from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.app import create_http_app

INBOUND_TOKEN = "inbound-token-for-tests-0123456789"
BASE = "http://127.0.0.1:8000"

AppFactory = Callable[..., Starlette]


@pytest.fixture
def http_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_auth_token": SecretStr(INBOUND_TOKEN)})


@pytest.fixture
def make_app(http_settings: Settings, emulator_app: Starlette) -> AppFactory:
    """`make_app(transport="streamable-http", settings=None, upstream=None, **options)` -> the HTTP app."""

    def build(
        transport: str = "streamable-http",
        *,
        settings: Settings | None = None,
        upstream: httpx2.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> Starlette:
        chosen = settings or http_settings
        server = create_server(chosen, transport=upstream or httpx2.ASGITransport(app=emulator_app))
        return create_http_app(server, chosen, transport=transport, **options)  # pyright: ignore[reportArgumentType]

    return build


def asgi_client(app: Starlette | httpx2.AsyncBaseTransport, token: str | None = INBOUND_TOKEN) -> httpx2.AsyncClient:
    """An HTTP client that reaches `app` in process, with a loopback Host (the SDK refuses others)."""
    transport = app if isinstance(app, httpx2.AsyncBaseTransport) else httpx2.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(transport=transport, base_url=BASE, headers=headers)


@asynccontextmanager
async def mcp_over(http: httpx2.AsyncClient, url: str = f"{BASE}/mcp", **client_options: Any) -> AsyncGenerator[Client]:
    async with http, Client(streamable_http_client(url, http_client=http), **client_options) as client:
        yield client


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`cli.main` configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
