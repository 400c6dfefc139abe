"""No configured secret (API token, gateway token, inbound HTTP token) ever leaves the process.

Every tool, every injected upstream failure, a refused token, an upstream error text that echoes
the request's credentials, and every transport (in memory, streamable HTTP in process, a stdio
subprocess): results, notifications, progress, HTTP bodies and headers, exception texts, the
/health body and the DEBUG logs are all searched for each secret in every form it could take.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr
from starlette.applications import Starlette

from support.loopback import serving
from support.settings import make_settings
from support.transports import Pipes, server_command, server_env, spawned
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.selftest.samples import sample_arguments
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.app import create_http_app

from .leaks import (
    API_TOKEN,
    GATEWAY_TOKEN,
    INBOUND_TOKEN,
    EchoingUpstream,
    Outbound,
    as_text,
    call_quietly,
    drive_every_tool,
)

LOGGERS = ("", "workers_ai_mcp", "mcp", "httpx2", "httpcore2", "uvicorn", "uvicorn.error", "starlette")
TRANSLATE = {"text": "hello", "target_lang": "fr"}
# These take the whole deadline (a hang) or a Retry-After wait; one tool is enough for them.
SLOW_FAULTS = (Fault.HANG, Fault.RATE_LIMIT_3040_RETRY_AFTER)
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def out(caplog: pytest.LogCaptureFixture) -> Outbound:
    """The collector; its final check also reads every log record of the test, captured at DEBUG."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return Outbound(caplog)


def secret_settings(tmp_path: Path, *, gateway: bool = False, **overrides: Any) -> Settings:
    extra: dict[str, Any] = {"gateway_id": "hygiene-gw"} if gateway else {}
    return make_settings(
        tmp_path,
        api_token=SecretStr(API_TOKEN),
        gateway_token=SecretStr(GATEWAY_TOKEN),
        http_auth_token=SecretStr(INBOUND_TOKEN),
        **(extra | overrides),
    )


def secret_emulator(state: EmulatorState) -> Starlette:
    state.gateway_token = GATEWAY_TOKEN
    return create_emulator_app(state, token=API_TOKEN)


def client_on(settings: Settings, upstream: Any, out: Outbound) -> Client:
    server = create_server(settings, transport=httpx2.ASGITransport(app=upstream))
    return Client(server, mode="legacy", message_handler=out.on_message, logging_callback=out.on_log)


@pytest.mark.parametrize("gateway", [False, True], ids=["direct", "ai-gateway"])
async def test_every_tool_in_memory_keeps_every_secret_in(
    tmp_path: Path, out: Outbound, emulator_state: EmulatorState, gateway: bool
) -> None:
    async with client_on(secret_settings(tmp_path, gateway=gateway), secret_emulator(emulator_state), out) as client:
        called = await drive_every_tool(client, out, tmp_path)
    assert {"translate", "chat", "run_model"} <= set(called)
    assert any("/workers-ai/" in request.path for request in emulator_state.requests) is gateway
    out.assert_no_leaks(minimum_items=len(called))


async def test_every_injected_upstream_failure_keeps_every_secret_in(
    tmp_path: Path, out: Outbound, emulator_state: EmulatorState
) -> None:
    settings = secret_settings(tmp_path, max_retries=1, timeout=1.0)
    async with client_on(settings, secret_emulator(emulator_state), out) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        tools = list(listed.values())  # every tool the registry builds, whatever request it makes
        for fault in Fault:
            for tool in tools if fault not in SLOW_FAULTS else [listed["translate"]]:
                emulator_state.faults.clear()
                emulator_state.inject(fault, fault)  # the first attempt and its one retry
                arguments = sample_arguments(tool.name, tool.input_schema, tmp_path)
                with anyio.fail_after(10):
                    result = await call_quietly(client, out, tool.name, arguments, label=f"{tool.name} {fault.name}")
                if tool.name == "translate":  # the JSON run route always meets the fault and fails
                    assert len(emulator_state.faults) < 2, fault
                    assert result is not None and result.is_error, fault
    assert {"translate", "chat", "generate_image", "list_models"} <= {tool.name for tool in tools}
    out.assert_no_leaks(minimum_items=len(Fault) * 2)


async def test_a_refused_api_token_keeps_every_secret_in(tmp_path: Path, out: Outbound) -> None:
    wrong_upstream = create_emulator_app(EmulatorState(), token=EMULATOR_TOKEN)  # expects another token: 401s
    async with client_on(secret_settings(tmp_path), wrong_upstream, out) as client:
        await drive_every_tool(client, out, tmp_path, must_succeed=False)
    assert any("Cloudflare refused the API token" in text for _, text in out.items)
    out.assert_no_leaks()


@pytest.mark.parametrize("gateway", [False, True], ids=["direct", "ai-gateway"])
async def test_an_upstream_error_text_echoing_the_credentials_is_redacted(
    tmp_path: Path, out: Outbound, emulator_state: EmulatorState, gateway: bool
) -> None:
    upstream = EchoingUpstream(secret_emulator(emulator_state))
    upstream.echo = True
    async with client_on(secret_settings(tmp_path, gateway=gateway), upstream, out) as client:
        result = await call_quietly(client, out, "translate", TRANSLATE)
        await drive_every_tool(client, out, tmp_path, must_succeed=False)
    assert upstream.echoed > 1
    assert result is not None and result.is_error
    assert "[redacted]" in as_text(result)  # the echo reached the assistant, scrubbed
    out.assert_no_leaks()


async def test_a_token_echoed_across_the_length_cut_of_upstream_text_is_redacted(
    tmp_path: Path, out: Outbound, emulator_state: EmulatorState
) -> None:
    upstream = EchoingUpstream(secret_emulator(emulator_state))
    upstream.echo, upstream.offset = True, 380
    async with client_on(secret_settings(tmp_path), upstream, out) as client:
        result = await call_quietly(client, out, "translate", TRANSLATE)
    assert result is not None and result.is_error
    out.assert_no_leaks()


async def test_streamable_http_responses_health_and_refusals_keep_every_secret_in(
    tmp_path: Path, out: Outbound, emulator_state: EmulatorState
) -> None:
    settings = secret_settings(tmp_path)
    upstream = EchoingUpstream(secret_emulator(emulator_state))
    server = create_server(settings, transport=httpx2.ASGITransport(app=upstream))
    app = create_http_app(server, settings, transport="streamable-http", stateless=True, json_response=True)

    async def record(response: httpx2.Response) -> None:
        body = await response.aread()
        out.add(f"HTTP {response.request.method} {response.url.path} -> {response.status_code}", body)
        out.add(f"HTTP headers of {response.url.path}", dict(response.headers))

    async with app.router.lifespan_context(app):
        auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=BASE, headers=auth, event_hooks={"response": [record]}
        )
        async with http:
            async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as client:
                called = await drive_every_tool(client, out, tmp_path)
                emulator_state.inject(*[Fault.BAD_GATEWAY_HTML_502] * 3)
                failed = await call_quietly(client, out, "translate", TRANSLATE, label="502")
                upstream.echo = True
                echoed = await call_quietly(client, out, "translate", TRANSLATE, label="echo")
            health = await http.get("/health", headers={"Authorization": ""})
            near_miss = await http.post("/mcp", json={}, headers={"Authorization": f"Bearer {INBOUND_TOKEN[:-1]}x"})
            missing = await http.post("/mcp", json={}, headers={"Authorization": ""})
    assert health.status_code == 200
    assert (near_miss.status_code, missing.status_code) == (401, 401)
    assert failed is not None and failed.is_error
    assert echoed is not None and echoed.is_error
    assert "[redacted]" in as_text(echoed)
    out.assert_no_leaks(minimum_items=len(called))


async def test_a_stdio_subprocess_at_debug_level_keeps_every_secret_in(tmp_path: Path, out: Outbound) -> None:
    state = EmulatorState()
    upstream = EchoingUpstream(secret_emulator(state))
    async with serving(upstream, log_level="DEBUG") as url:
        env = server_env(
            tmp_path,
            CLOUDFLARE_API_TOKEN=API_TOKEN,
            CLOUDFLARE_ACCOUNT_ID="hygiene-account",
            WORKERS_AI_BASE_URL=f"{url}/client/v4",
            CLOUDFLARE_AI_GATEWAY_ID="hygiene-gw",
            CLOUDFLARE_AI_GATEWAY_URL=url,
            CLOUDFLARE_AI_GATEWAY_TOKEN=GATEWAY_TOKEN,
            WORKERS_AI_MCP_AUTH_TOKEN=INBOUND_TOKEN,
            WORKERS_AI_MCP_MAX_RETRIES="1",
        )
        stderr_path = tmp_path / "stderr.log"
        with stderr_path.open("wb") as stderr:
            async with spawned(server_command("--log-level", "DEBUG"), env, tmp_path, stderr) as process:
                pipes = Pipes(process)
                async with Client(pipes.transport(), mode="legacy", message_handler=out.on_message) as client:
                    called = await drive_every_tool(client, out, tmp_path)
                    for fault in (Fault.RATE_LIMIT_3040, Fault.BAD_GATEWAY_HTML_502, Fault.MALFORMED_JSON):
                        state.faults.clear()
                        state.inject(fault, fault)
                        failed = await call_quietly(client, out, "translate", TRANSLATE, label=fault.name)
                        assert failed is not None and failed.is_error, fault
                    state.faults.clear()
                    upstream.echo = True
                    echoed = await call_quietly(client, out, "translate", TRANSLATE, label="echo")
                assert process.stdin is not None
                await process.stdin.aclose()
                with anyio.fail_after(10):
                    await process.wait()
        out.add("stdout", b"\n".join(pipes.stdout_lines))
        out.add("stderr", stderr_path.read_bytes())
    assert echoed is not None and echoed.is_error
    assert "[redacted]" in as_text(echoed)
    assert "DEBUG" in stderr_path.read_text()  # the logs really were at DEBUG
    assert process.returncode == 0
    assert any("/workers-ai/" in request.path for request in state.requests)
    out.assert_no_leaks(minimum_items=len(called))
