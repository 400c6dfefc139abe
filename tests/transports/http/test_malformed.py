"""Malformed messages over HTTP get one clean JSON-RPC error, as over stdio: -32700 for a body that is
not JSON, -32600 for JSON that is not one JSON-RPC message; no validation report, no traceback."""

from __future__ import annotations

import json

import anyio
import httpx2
import pytest
from mcp.types import INVALID_REQUEST, PARSE_ERROR

from support.http import INBOUND_TOKEN, AppFactory, asgi_client
from support.loopback import serving

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CASES = [
    (b"{not json", PARSE_ERROR, None),
    (b"[1, 2]", INVALID_REQUEST, None),
    (b'{"jsonrpc": "2.0", "id": 7}', INVALID_REQUEST, 7),
    (b'{"foo": 1}', INVALID_REQUEST, None),
    (b'"text"', INVALID_REQUEST, None),
]


def assert_clean(response: httpx2.Response, code: int, request_id: object) -> None:
    assert response.status_code == 400
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["id"] == request_id
    assert answer["error"]["code"] == code
    message = answer["error"]["message"]
    assert len(message) < 200 and "validation error" not in message.lower() and "pydantic" not in message


@pytest.mark.parametrize(("body", "code", "request_id"), CASES)
async def test_streamable_http_answers_a_malformed_message_with_one_clean_error(
    make_app: AppFactory, body: bytes, code: int, request_id: object
) -> None:
    app = make_app("streamable-http")
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        response = await http.post("/mcp", content=body, headers=HEADERS)
    assert_clean(response, code, request_id)


async def test_streamable_http_keeps_its_other_refusals(make_app: AppFactory) -> None:
    app = make_app("streamable-http")
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        response = await http.post("/mcp", content=json.dumps(request), headers=HEADERS)
    assert response.status_code == 400 and "session" in response.json()["error"]["message"].lower()


async def test_sse_answers_malformed_messages_with_clean_errors_and_logs_no_traceback_and_keeps_the_session(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
    responses: list[httpx2.Response] = []
    async with (
        serving(make_app("sse")) as url,
        httpx2.AsyncClient(headers=auth) as http,
        http.stream("GET", f"{url}/sse") as stream,
    ):
        lines = stream.aiter_lines()
        endpoint = ""
        with anyio.fail_after(10):
            async for line in lines:
                if line.startswith("data:"):
                    endpoint = line.removeprefix("data:").strip()
                    break
        for body, _, _ in CASES:
            responses.append(await http.post(f"{url}{endpoint}", content=body, headers=HEADERS))
        ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        still_open = await http.post(f"{url}{endpoint}", content=ping, headers=HEADERS)
    assert still_open.status_code == 202  # the session outlived the malformed messages
    for response, (_, code, request_id) in zip(responses, CASES, strict=True):
        assert_clean(response, code, request_id)
    assert not [record for record in caplog.records if record.exc_info]
