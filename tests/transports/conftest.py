"""Fixtures for the HTTP transports: settings with an inbound token, and apps built from them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from support.http import INBOUND_TOKEN, AppFactory
from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.app import create_http_app


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


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`cli.main` configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
