"""The emulator under uvicorn on a real loopback socket: connections, a dropped connection, a hang."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest

from support.emulator import AI, AUTH, LLAMA
from support.loopback import serving as serve_app
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app


@asynccontextmanager
async def serving(state: EmulatorState) -> AsyncIterator[str]:
    """The emulator on 127.0.0.1 and a free port, in this event loop; yields the base URL."""
    async with serve_app(create_emulator_app(state)) as base:
        yield base


async def test_loopback_requests_share_one_counted_connection() -> None:
    state = EmulatorState()
    async with serving(state) as base:
        async with httpx2.AsyncClient(base_url=base, headers=AUTH) as client:
            with anyio.fail_after(10):
                first = await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "over a socket"})
                second = await client.get("/client/v4/user/tokens/verify")
        assert first.status_code == second.status_code == 200
        assert first.json()["result"]["response"].startswith("[emulator] You said: over a socket")
        assert len(state.connections) == 1
        (host, port), *_ = state.connections
        assert host == "127.0.0.1" and port > 0
        async with httpx2.AsyncClient(base_url=base, headers=AUTH) as other:
            with anyio.fail_after(10):
                await other.get("/client/v4/user/tokens/verify")
        assert len(state.connections) == 2
        assert state.request_count == 3


async def test_connection_reset_drops_the_socket_mid_answer() -> None:
    state = EmulatorState()
    state.inject(Fault.CONNECTION_RESET)
    async with serving(state) as base, httpx2.AsyncClient(base_url=base, headers=AUTH) as client:
        with anyio.fail_after(10), pytest.raises(httpx2.RemoteProtocolError):
            await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "hi"})
        with anyio.fail_after(10):
            assert (await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "hi"})).status_code == 200


async def test_hang_ends_with_the_client_read_timeout_and_then_on_disconnect() -> None:
    state = EmulatorState()
    state.inject(Fault.HANG)
    async with serving(state) as base:
        timeout = httpx2.Timeout(10.0, read=0.2)
        async with httpx2.AsyncClient(base_url=base, headers=AUTH, timeout=timeout) as client:
            with anyio.fail_after(10), pytest.raises(httpx2.ReadTimeout):
                await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "hi"})
        # Leaving `serving` waits for every request task to end: the hang must stop once the client has gone.
    assert state.requests[-1].status is None
