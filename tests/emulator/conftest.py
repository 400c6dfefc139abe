"""Fixtures for the emulator's tests: an in-process app and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from emulator_support import AUTH
from starlette.applications import Starlette

from workers_ai_mcp.emulator import EmulatorState, create_emulator_app


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
def app(state: EmulatorState) -> Starlette:
    return create_emulator_app(state)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH) as c:
        yield c
