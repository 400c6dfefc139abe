"""Tasks over the real transports: streamable HTTP (a 2026-07-28 client that declares tasks) and stdio
(the server as a subprocess, a 2025-11-25 client speaking JSON-RPC lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from support.http import INBOUND_TOKEN, asgi_client, mcp_over
from support.settings import make_settings
from support.tasks import TaskHandle, TasksDeclared, poll
from support.transports import server_command, server_env, spawned
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app
from workers_ai_mcp.transports.http.app import create_http_app

FLUX2_DEV = "@cf/black-forest-labs/flux-2-dev"
SLOW_IMAGE = {"prompt": "a lighthouse at dusk", "model": FLUX2_DEV, "seed": 7}


async def test_a_task_over_streamable_http_is_polled_to_the_image(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, http_auth_token=SecretStr(INBOUND_TOKEN))
    server = create_server(settings, transport=httpx2.ASGITransport(app=create_emulator_app(EmulatorState())))
    app = create_http_app(server, settings, transport="streamable-http", stateless=True, json_response=True)
    async with app.router.lifespan_context(app), mcp_over(asgi_client(app), extensions=[TasksDeclared()]) as client:
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        task = await poll(client, handle.task_id)
    assert task["status"] == "completed", task
    assert any(block["type"] == "image" for block in task["result"]["content"])


async def test_a_2025_11_25_task_over_stdio_is_read_with_tasks_result(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    async with spawned(server_command("--emulator"), env, tmp_path, stderr=-3) as process:
        assert process.stdin is not None and process.stdout is not None
        lines = _Lines(process.stdout)

        async def ask(request_id: int, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}
            assert process.stdin is not None
            await process.stdin.send((json.dumps(message) + "\n").encode())
            return await lines.answer(request_id)

        with anyio.fail_after(60):
            init = await ask(1, "initialize", {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"},
            })  # fmt: skip
            await process.stdin.send(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
            created = await ask(2, "tools/call", {"name": "generate_image", "arguments": SLOW_IMAGE, "task": {}})
            task_id = created["result"]["task"]["taskId"]
            payload = await ask(3, "tasks/result", {"taskId": task_id})
            status = await ask(4, "tasks/get", {"taskId": task_id})
    assert init["result"]["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert any(block["type"] == "image" for block in payload["result"]["content"])
    assert status["result"]["status"] == "completed"


class _Lines:
    """JSON-RPC answers read from a subprocess's stdout, by id."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    async def answer(self, request_id: int) -> dict[str, Any]:
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                if message.get("id") == request_id:
                    return message
            self.buffer += await self.stream.receive()
