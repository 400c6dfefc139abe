"""Connections served at once share one lifespan state; the last to leave closes it (`app.SharedLifespan`)."""

from __future__ import annotations

import anyio
import httpx2
from mcp import Client
from starlette.applications import Starlette

from support.transports import CountingTransport
from workers_ai_mcp.app import WorkersAIServer, create_server
from workers_ai_mcp.settings import Settings


async def test_two_clients_at_once_share_one_workers_ai_client_closed_when_both_are_gone(
    settings: Settings, emulator_app: Starlette
) -> None:
    upstream = CountingTransport(httpx2.ASGITransport(app=emulator_app))
    server = create_server(settings, transport=upstream)
    assert isinstance(server, WorkersAIServer)
    first_in = anyio.Event()
    second_done = anyio.Event()
    answers: list[bool] = []

    async def first() -> None:
        async with Client(server, mode="legacy") as client:
            answers.append((await client.call_tool("translate", {"text": "hi", "target_lang": "fr"})).is_error)
            first_in.set()
            await second_done.wait()
            assert (upstream.opened, upstream.closed) == (1, 0)

    async def second() -> None:
        await first_in.wait()
        async with Client(server, mode="legacy") as client:
            answers.append((await client.call_tool("translate", {"text": "hi", "target_lang": "de"})).is_error)
        second_done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        group.start_soon(second)
    assert answers == [False, False]
    assert (upstream.opened, upstream.closed) == (1, 1)
