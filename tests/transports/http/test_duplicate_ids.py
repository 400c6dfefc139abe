"""On one streamable-HTTP session a request whose id is already in flight is refused before its tool
runs, and every request gets an answer (the SDK would hand one request's answer stream to the other)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from support.http import AppFactory, asgi_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
VERSION = "2025-11-25"
CONCURRENT = 16
WITHIN = 30.0


async def _open_session(http: httpx2.AsyncClient) -> dict[str, str]:
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    opened = await http.post("/mcp", json=initialize, headers=HEADERS)
    assert opened.status_code == 200, opened.text
    headers = {**HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": VERSION}
    noted = await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert noted.status_code == 202
    return headers


def _answers(response: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC answers in a JSON or SSE response body."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return [response.json()]
    lines = response.text.splitlines()
    return [json.loads(line[5:]) for line in lines if line.startswith("data:") and line[5:].strip()]


def _call(request_id: int | str, padding: int) -> bytes:
    params: dict[str, Any] = {"name": "complete", "arguments": {"prompt": "Say hi."}}
    if padding:
        params["_meta"] = {"padding": "x" * padding}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).encode()


@pytest.mark.parametrize("padding", [0, 2_000_000], ids=["small bodies", "2 MB bodies"])
@pytest.mark.parametrize("json_response", [False, True], ids=["SSE answers", "JSON answers"])
async def test_sixteen_concurrent_requests_with_one_id_get_one_tool_run_and_sixteen_answers(
    make_app: AppFactory, http_settings: Settings, emulator_state: EmulatorState, padding: int, json_response: bool
) -> None:
    # Room for 16 large bodies at once (by default they would queue, one per client), so all 16 overlap.
    roomy = http_settings.model_copy(update={"http_max_large_bodies": 32, "http_max_large_bodies_per_client": 32})
    app: Starlette = make_app(settings=roomy, json_response=json_response)
    emulator_state.latency = 0.5  # keeps the first call in flight while the others arrive
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        headers = await _open_session(http)
        before = len(emulator_state.requests)
        responses: list[httpx2.Response] = []

        async def post(request_id: int | str) -> None:
            responses.append(await http.post("/mcp", content=_call(request_id, padding), headers=headers))

        with anyio.fail_after(WITHIN):  # today some of them are never answered
            async with anyio.create_task_group() as group:
                for index in range(CONCURRENT):
                    group.start_soon(post, 7 if index % 2 else "7")  # the SDK keys both as "7"
        sent = [request.path for request in emulator_state.requests[before:] if "/models/" not in request.path]
    answers = [answer for response in responses for answer in _answers(response)]
    assert len(responses) == CONCURRENT and len(answers) == CONCURRENT
    results = [answer for answer in answers if "result" in answer]
    refused = [answer for answer in answers if "error" in answer]
    assert len(results) == 1 and not results[0]["result"].get("isError"), results
    assert len(refused) == CONCURRENT - 1
    assert {answer["error"]["code"] for answer in refused} == {-32600}
    assert all("already in flight on this session" in answer["error"]["message"] for answer in refused)
    assert {answer["id"] for answer in refused} <= {7, "7"}
    assert len(sent) == 1, sent  # the refused ones reached neither the tool nor Workers AI: not billed


async def test_the_same_id_is_accepted_again_once_its_request_is_answered(make_app: AppFactory) -> None:
    app = make_app()
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        headers = await _open_session(http)
        first = await http.post("/mcp", content=_call(3, 0), headers=headers)
        second = await http.post("/mcp", content=_call(3, 0), headers=headers)
    assert ["result" in answer for answer in _answers(first) + _answers(second)] == [True, True]


async def test_two_sessions_may_use_the_same_id_at_once(make_app: AppFactory, emulator_state: EmulatorState) -> None:
    app = make_app()
    emulator_state.latency = 0.3
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        sessions = [await _open_session(http), await _open_session(http)]
        responses: list[httpx2.Response] = []

        async def post(headers: dict[str, str]) -> None:
            responses.append(await http.post("/mcp", content=_call(1, 0), headers=headers))

        with anyio.fail_after(WITHIN):
            async with anyio.create_task_group() as group:
                for headers in sessions:
                    group.start_soon(post, headers)
    assert ["result" in answer for response in responses for answer in _answers(response)] == [True, True]
