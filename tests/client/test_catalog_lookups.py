"""Catalog look-ups made for pricing are shared by concurrent calls."""

from __future__ import annotations

import anyio
import httpx2
from starlette.applications import Starlette

from workers_ai_mcp.client import WorkersAIClient, create_http_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings


async def test_concurrent_first_look_ups_of_one_model_send_one_catalog_request(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        client = WorkersAIClient(settings, http)
        rows: list[object] = []

        async def look_up() -> None:
            rows.append(await client.model_info("@cf/meta/m2m100-1.2b"))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(16):
                    group.start_soon(look_up)
    assert len(rows) == 16 and all(row == rows[0] for row in rows) and rows[0] is not None
    assert sum(1 for r in emulator_state.requests if r.path.endswith("/models/search")) == 1
