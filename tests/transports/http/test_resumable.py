"""Resumable streamable HTTP: a response whose SSE stream was dropped is replayed on GET with Last-Event-ID."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from mcp.types import JSONRPCRequest, JSONRPCResponse

from support.http import INBOUND_TOKEN, AppFactory
from support.loopback import serving
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.events import BoundedEventStore

VERSION = "2025-11-25"
TRANSLATE = {"text": "hello", "target_lang": "fr"}


async def events(response: httpx2.Response) -> AsyncIterator[dict[str, str]]:
    """The SSE events of `response`, each as its fields (id, data, retry)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if fields:
                yield fields
            fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = fields.get(name, "") + value.removeprefix(" ")


def rpc(id_: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return JSONRPCRequest(jsonrpc="2.0", id=id_, method=method, params=params).model_dump(by_alias=True)


async def open_session(http: httpx2.AsyncClient, url: str) -> dict[str, str]:
    """Initialize a session; the headers every later request carries."""
    init = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "resume-test", "version": "1"}}
    accept = {"Accept": "application/json, text/event-stream"}
    answer = await http.post(url, json=rpc(0, "initialize", init), headers=accept)
    assert answer.status_code == 200
    headers = {
        "Mcp-Session-Id": answer.headers["mcp-session-id"],
        "MCP-Protocol-Version": VERSION,
        "Accept": "application/json, text/event-stream",
    }
    ack = await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert ack.status_code == 202
    return headers


async def test_a_tool_answer_whose_stream_was_dropped_arrives_on_get_with_last_event_id(
    make_app: AppFactory, emulator_state: EmulatorState
) -> None:
    emulator_state.latency = 2.0  # the answer comes well after the stream is dropped
    app = make_app()
    async with serving(app) as base:
        url = f"{base}/mcp"
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}, timeout=30) as http:
            headers = await open_session(http, url)
            call = rpc(7, "tools/call", {"name": "translate", "arguments": TRANSLATE})
            async with http.stream("POST", url, json=call, headers=headers) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                first = await anext(aiter(events(response)))
            # The stream is gone before the answer: only the priming event (an id, no data) was read.
            assert first["data"] == "" and first["id"]
            assert first.get("retry") == "1000"
            resumed = {**headers, "Last-Event-ID": first["id"]}
            answer: dict[str, Any] | None = None
            async with http.stream("GET", url, headers=resumed) as replay:
                assert replay.status_code == 200
                async for event in events(replay):
                    if event.get("data"):
                        message = json.loads(event["data"])
                        if message.get("id") == 7:
                            answer = message
                            break
    assert answer is not None
    result = JSONRPCResponse.model_validate(answer).result
    assert result["isError"] is False
    assert result["structuredContent"]["translated_text"].endswith("hello")


async def test_a_last_event_id_of_another_session_replays_nothing(
    make_app: AppFactory, emulator_state: EmulatorState
) -> None:
    app = make_app()
    async with serving(app) as base:
        url = f"{base}/mcp"
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}, timeout=30) as http:
            first_session = await open_session(http, url)
            other_session = await open_session(http, url)
            call = rpc(1, "tools/call", {"name": "translate", "arguments": TRANSLATE})
            async with http.stream("POST", url, json=call, headers=first_session) as response:
                seen = [event async for event in events(response)]
            ids = [event["id"] for event in seen if event.get("id")]
            assert any(json.loads(event["data"]).get("id") == 1 for event in seen if event.get("data"))
            stolen = {**other_session, "Last-Event-ID": ids[0]}
            async with http.stream("GET", url, headers=stolen) as replay:
                replayed = [event async for event in events(replay)]  # the stream ends: nothing to replay
    assert not any(json.loads(event["data"]).get("id") == 1 for event in replayed if event.get("data"))


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def __call__(self, message: Any) -> None:
        self.sent.append(message.event_id)


async def test_the_event_store_keeps_the_newest_events_within_its_count_and_bytes() -> None:
    store = BoundedEventStore(max_events=3, max_bytes=10_000)
    request = JSONRPCRequest(jsonrpc="2.0", id=1, method="ping")
    ids = [await store.store_event("s", request) for _ in range(5)]
    assert store.count == 3
    gone = Recorder()
    assert await store.replay_events_after(ids[0], gone) is None  # dropped: nothing to resume from
    kept = Recorder()
    assert await store.replay_events_after(ids[2], kept) == "s"
    assert kept.sent == ids[3:]
    size = len(request.model_dump_json(by_alias=True, exclude_none=True))
    small = BoundedEventStore(max_events=100, max_bytes=2 * size)
    for _ in range(4):
        await small.store_event("s", request)
    assert (small.count, small.bytes) == (2, 2 * size)


async def test_with_no_event_kept_streams_carry_no_event_ids(make_app: AppFactory, http_settings: Settings) -> None:
    app = make_app(settings=http_settings.model_copy(update={"http_replay_events": 0}))
    async with serving(app) as base:
        url = f"{base}/mcp"
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}, timeout=30) as http:
            headers = await open_session(http, url)
            call = rpc(1, "tools/call", {"name": "translate", "arguments": TRANSLATE})
            async with http.stream("POST", url, json=call, headers=headers) as response:
                seen = [event async for event in events(response)]
    assert seen and not any("id" in event for event in seen)
