"""Streamable HTTP: in process over ASGI (stateless + JSON), and once over a real 127.0.0.1 socket (SSE streams)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from support.http import INBOUND_TOKEN, AppFactory, asgi_client, mcp_over
from support.loopback import serving
from support.transports import CountingTransport, LineWatcher, Watched, model_runs, server_command, server_env, spawned
from workers_ai_mcp import __version__
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.transports.http.server import SHUTDOWN_GRACE

TRANSLATE = {"text": "hello", "target_lang": "fr"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http_serves_the_tools_in_process_to_a_client_with_the_token(
    make_app: AppFactory, emulator_state: EmulatorState, mode: str
) -> None:
    app = make_app(stateless=True, json_response=True)
    async with app.router.lifespan_context(app), mcp_over(asgi_client(app), mode=mode) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("translate", TRANSLATE)
    assert "translate" in names
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["translated_text"].endswith("hello")
    assert model_runs(emulator_state) == 1


async def test_the_workers_ai_client_is_opened_once_for_many_streamable_http_clients(
    make_app: AppFactory, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    upstream = CountingTransport(httpx2.ASGITransport(app=emulator_app))
    app = make_app(upstream=upstream, stateless=True, json_response=True)
    async with app.router.lifespan_context(app):
        for mode in ("legacy", "auto", "legacy"):
            async with mcp_over(asgi_client(app), mode=mode) as client:
                await client.call_tool("translate", TRANSLATE)
        assert (upstream.opened, upstream.closed) == (1, 0)
    assert (upstream.opened, upstream.closed) == (1, 1)
    assert model_runs(emulator_state) == 3


async def test_health_answers_without_a_token_and_names_only_the_server_and_version(make_app: AppFactory) -> None:
    app = make_app()
    async with app.router.lifespan_context(app), asgi_client(app, token=None) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "name": "workers-ai-mcp", "version": __version__}


async def test_over_a_real_socket_sessions_stream_progress_as_sse_and_share_one_workers_ai_client(
    make_app: AppFactory, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    upstream = CountingTransport(httpx2.ASGITransport(app=emulator_app))
    app = make_app(upstream=upstream)  # stateful sessions, SSE responses: the defaults
    content_types: list[str] = []

    async def record(response: httpx2.Response) -> None:
        if response.request.method == "POST":
            content_types.append(response.headers.get("content-type", ""))

    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    async with serving(app) as url:
        for _ in range(2):
            http = httpx2.AsyncClient(
                headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}, event_hooks={"response": [record]}
            )
            async with mcp_over(http, f"{url}/mcp", mode="legacy") as client:
                result = await client.call_tool("chat", {"prompt": "Count to five"}, progress_callback=on_progress)
                assert not result.is_error
        assert (upstream.opened, upstream.closed) == (1, 0)
    assert (upstream.opened, upstream.closed) == (1, 1)
    assert len(updates) > 1  # progress notifications arrived on the call's SSE stream
    assert any(kind.startswith("text/event-stream") for kind in content_types)
    assert model_runs(emulator_state, "@cf/meta/llama-3.3-70b-instruct-fp8-fast") == 2


async def test_sigterm_ends_an_http_server_during_a_call_within_the_grace_period(tmp_path: Path) -> None:
    state = EmulatorState()
    state.inject(Fault.HANG)
    emulator = Watched(create_emulator_app(state))
    async with serving(emulator) as upstream_url:
        env = server_env(
            tmp_path,
            CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
            CLOUDFLARE_ACCOUNT_ID="test-account",
            WORKERS_AI_BASE_URL=f"{upstream_url}/client/v4",
            WORKERS_AI_MCP_AUTH_TOKEN=INBOUND_TOKEN,
            WORKERS_AI_MCP_MAX_RETRIES="0",
        )
        command = server_command("--transport", "streamable-http", "--port", "0", "-v")
        async with spawned(command, env, tmp_path, subprocess.PIPE) as process, anyio.create_task_group() as group:
            assert process.stderr is not None
            log = LineWatcher(process.stderr)
            group.start_soon(log.run)
            with anyio.fail_after(20):  # a cold start on a loaded machine
                url = (await log.wait_for(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")).group(1)

            async def call() -> None:
                http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"})
                with pytest.raises(Exception):  # noqa: B017 - the server goes away under the call
                    async with mcp_over(http, f"{url}/mcp") as client:
                        await client.call_tool("translate", TRANSLATE)

            group.start_soon(call)
            with anyio.fail_after(10):
                await emulator.arrived.wait()
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(SHUTDOWN_GRACE + 7):
                await process.wait()
                await emulator.ended.wait()
    assert process.returncode == 0
    assert "Traceback" not in log.text
    assert "Cancel 1 running task(s)" in log.text  # the call outlived the grace period and was cut
    assert '"POST /mcp' not in log.text  # no access log, even at INFO
    assert INBOUND_TOKEN not in log.text
    assert [request.status for request in state.requests if "/ai/run/" in request.path] == [None]
