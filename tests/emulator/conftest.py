"""Fixtures of the emulator's tests: a fresh emulator state, its app, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from starlette.applications import Starlette

from support.emulator import AUTH
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
def app(state: EmulatorState) -> Starlette:
    return create_emulator_app(state)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """An httpx2 client on the in-process app, sending the emulator's token."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH) as c:
        yield c
