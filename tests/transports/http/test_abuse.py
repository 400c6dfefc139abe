"""The HTTP transports under abuse, through a real 127.0.0.1 socket: slow headers, too many connections,
refused requests (logged once per cause, escaped, without tracebacks), large bodies, a full session table."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr

from support.http import INBOUND_TOKEN, AppFactory
from support.loopback import serving
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.server import ConnectionLimits

WITHIN = 10.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
JSON_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _closed_by_server(stream: anyio.abc.SocketStream) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while True:
            received += await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
        return received


async def test_a_connection_that_never_finishes_its_headers_is_closed(make_app: AppFactory) -> None:
    limits = ConnectionLimits(header_timeout=0.5)
    async with serving(make_app(stateless=True, json_response=True), limits=limits) as url:
        async with await anyio.connect_tcp("127.0.0.1", _port(url)) as slow:
            await slow.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: 1\r\n")
            with anyio.fail_after(WITHIN):
                assert await _closed_by_server(slow) == b""
        async with httpx2.AsyncClient() as http:  # the server still answers a normal request
            assert (await http.get(f"{url}/health")).status_code == 200


async def test_a_keep_alive_connection_dripping_its_second_request_is_closed(make_app: AppFactory) -> None:
    limits = ConnectionLimits(header_timeout=0.5, keep_alive_timeout=60)
    async with (
        serving(make_app(stateless=True, json_response=True), limits=limits) as url,
        await anyio.connect_tcp("127.0.0.1", _port(url)) as conn,
    ):
        await conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        with anyio.fail_after(WITHIN):
            while b'"status"' not in first:
                first += await conn.receive()
            await conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert await _closed_by_server(conn) == b""
    assert first.startswith(b"HTTP/1.1 200")


async def test_connections_over_the_cap_are_refused_at_once_and_served_again_when_room_frees(
    make_app: AppFactory,
) -> None:
    limits = ConnectionLimits(max_connections=3, header_timeout=WITHIN * 3)
    async with serving(make_app(stateless=True, json_response=True), limits=limits) as url:
        idle = [await anyio.connect_tcp("127.0.0.1", _port(url)) for _ in range(3)]
        try:
            for stream in idle:  # make sure each has been accepted
                await stream.send(b"GET /health HTTP/1.1\r\n")
            async with await anyio.connect_tcp("127.0.0.1", _port(url)) as extra:
                await extra.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                with anyio.fail_after(WITHIN):
                    refused = await _closed_by_server(extra)
        finally:
            for stream in idle:
                await stream.aclose()
        statuses: list[int] = []
        with anyio.fail_after(WITHIN):
            async with httpx2.AsyncClient() as http:
                for _ in range(20):  # the server sees the closes on its next loop turns
                    statuses.append((await http.get(f"{url}/health")).status_code)
                    if statuses[-1] == 200:
                        break
    assert refused.startswith(b"HTTP/1.1 503"), refused
    assert statuses[-1] == 200, statuses


@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
async def test_refusals_are_logged_once_per_cause_escaped_and_without_tracebacks(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, transport: str
) -> None:
    caplog.set_level(logging.DEBUG)
    path = "/sse" if transport == "sse" else "/mcp"
    async with serving(make_app(transport)) as url, httpx2.AsyncClient(timeout=WITHIN) as http:
        hosts = [(await http.get(f"{url}{path}", headers={"Host": "evil.example"})).status_code for _ in range(5)]
        auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
        origins = [
            (await http.get(f"{url}{path}", headers={**auth, "Origin": "https://evil.example"})).status_code
            for _ in range(5)
        ]
        forged = await http.get(f"{url}/mcp%0a2030-01-01 ERROR FORGED LINE%1b[31m")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    text = "\n".join(r.getMessage() for r in records)
    assert (hosts, origins, forged.status_code) == ([421] * 5, [403] * 5, 401)
    assert not any(r.exc_info for r in caplog.records), text
    assert "Traceback" not in caplog.text
    assert sum("Host header" in r.getMessage() for r in records) == 1, text
    assert sum("Origin" in r.getMessage() for r in records) == 1, text
    assert not any("\n" in r.getMessage() or "\x1b" in r.getMessage() for r in records), text
    assert "/mcp\\n2030-01-01 ERROR FORGED LINE\\x1b[31m" in text


@pytest.mark.parametrize("bind", ["127.0.0.5", "127.1.2.3", "::1"])
async def test_every_loopback_bind_address_is_an_allowed_host(make_app: AppFactory, bind: str) -> None:
    name = f"[{bind}]" if ":" in bind else bind
    async with (
        serving(make_app(host=bind, stateless=True, json_response=True)) as url,
        httpx2.AsyncClient(timeout=WITHIN) as http,
    ):
        response = await http.post(
            f"{url}/mcp",
            json=INITIALIZE,
            headers={**JSON_HEADERS, "Host": f"{name}:8000", "Authorization": f"Bearer {INBOUND_TOKEN}"},
        )
    assert response.status_code == 200, response.text


async def _post_initialize(url: str, padding: int, **headers: str) -> httpx2.Response:
    body = json.dumps({**INITIALIZE, "params": {**INITIALIZE["params"], "_meta": {"pad": "A" * padding}}})
    async with httpx2.AsyncClient(timeout=WITHIN * 3) as http:
        return await http.post(
            f"{url}/mcp",
            content=body.encode(),
            headers={**JSON_HEADERS, "Authorization": f"Bearer {INBOUND_TOKEN}", **headers},
        )


async def test_a_body_with_25_mib_of_media_as_base64_is_accepted(make_app: AppFactory, http_settings: Settings) -> None:
    base64_of_max_media = 4 * -(-http_settings.max_input_bytes // 3)
    async with serving(make_app(stateless=True, json_response=True)) as url:
        response = await _post_initialize(url, base64_of_max_media)
    assert response.status_code == 200, response.text[:300]


async def test_a_body_over_the_limit_gets_a_413_that_says_what_to_do(
    make_app: AppFactory, http_settings: Settings
) -> None:
    small = http_settings.model_copy(update={"http_max_body_bytes": 100_000})
    async with serving(make_app(settings=small, stateless=True, json_response=True)) as url:
        declared = await _post_initialize(url, 200_000)
    assert declared.status_code == 413
    message = declared.json()["error"]["message"]
    assert "100000 bytes" in message and "WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES" in message
    assert "file path or URL" in message


async def test_a_full_session_table_answers_with_what_to_do_and_when_to_retry(
    make_app: AppFactory, http_settings: Settings
) -> None:
    capped = http_settings.model_copy(update={"http_max_sessions": 2, "http_auth_token": SecretStr(INBOUND_TOKEN)})
    statuses: list[int] = []
    async with serving(make_app(settings=capped, json_response=True)) as url:
        for _ in range(3):
            response = await _post_initialize(url, 0)
            statuses.append(response.status_code)
    body: dict[str, Any] = response.json()
    assert statuses == [200, 200, 503]
    assert response.headers["retry-after"] == "60"
    assert "WORKERS_AI_MCP_HTTP_MAX_SESSIONS" in body["error"]["message"]
    assert "WORKERS_AI_MCP_HTTP_SESSION_IDLE_TIMEOUT" in body["error"]["message"]
