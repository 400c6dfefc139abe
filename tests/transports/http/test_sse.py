"""Legacy SSE transport: one smoke test over 127.0.0.1 (token, tools, one Workers AI client for all connections)."""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.types import CallToolResult
from starlette.applications import Starlette

from support.http import INBOUND_TOKEN, AppFactory
from support.loopback import serving
from support.transports import CountingTransport, model_runs
from workers_ai_mcp.emulator import EmulatorState


async def test_sse_serves_tools_to_clients_with_the_token_over_one_workers_ai_client(
    make_app: AppFactory, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    upstream = CountingTransport(httpx2.ASGITransport(app=emulator_app))
    app = make_app("sse", upstream=upstream)
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
    names: list[str] = []
    results: list[CallToolResult] = []
    async with serving(app) as url:
        async with httpx2.AsyncClient() as http:
            refused = await http.get(f"{url}/sse")
        for _ in range(2):
            async with Client(sse_client(f"{url}/sse", headers=auth), mode="legacy") as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                results.append(await client.call_tool("translate", {"text": "hello", "target_lang": "fr"}))
        assert (upstream.opened, upstream.closed) == (1, 0)
    assert (upstream.opened, upstream.closed) == (1, 1)
    assert refused.status_code == 401
    assert "translate" in names
    assert [result.is_error for result in results] == [False, False]
    assert results[0].structured_content is not None
    assert results[0].structured_content["target_lang"] == "fr"
    assert model_runs(emulator_state) == 2
