"""Only a few request bodies over 1 MiB are handled at once (each costs several times its size while it
is parsed and its tool runs): one more waits for a slot, and gets a 503 with a sentence if none frees in
time. Through the whole HTTP app, with a client whose body is held back to keep its slot taken."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from support.http import INBOUND_TOKEN, AppFactory
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.http.bodies import LARGE_BODY
from workers_ai_mcp.transports.http.gate import BUSY_MESSAGE

WITHIN = 10.0


def _ping(request_id: int) -> bytes:
    """A ping of just over `LARGE_BODY` bytes (the padding is in `_meta`, which any request may carry)."""
    params = {"_meta": {"padding": "x" * (LARGE_BODY + 1000)}}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping", "params": params}).encode()


def _scope(client: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"accept", b"application/json, text/event-stream"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {INBOUND_TOKEN}".encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": (client, 40000),
        "server": ("127.0.0.1", 8000),
    }


class Call:
    """One request through the ASGI app; its body is sent at once, or held back until `release`."""

    def __init__(self, app: Starlette, client: str, request_id: int, *, held: bool = False) -> None:
        self.app = app
        self.client = client
        self.body = _ping(request_id)
        self.reading = anyio.Event()
        self._go = anyio.Event()
        if not held:
            self._go.set()
        self.sent: list[Message] = []
        self._given = False

    def release(self) -> None:
        self._go.set()

    async def receive(self) -> Message:
        self.reading.set()  # the gate reads a large body only once it holds a slot
        if self._given:
            await anyio.sleep_forever()
        await self._go.wait()
        self._given = True
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    async def run(self) -> None:
        await self.app(_scope(self.client, self.body), self.receive, self.send)

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))

    @property
    def answer(self) -> dict[str, Any]:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


@pytest.fixture
def limited(make_app: AppFactory, http_settings: Settings) -> Starlette:
    chosen = http_settings.model_copy(
        update={"http_max_large_bodies": 2, "http_max_large_bodies_per_client": 1, "http_large_body_wait": 0.5}
    )
    return make_app(settings=chosen, stateless=True, json_response=True)


async def test_a_large_body_over_the_global_slots_waits_then_gets_a_503_with_a_sentence(limited: Starlette) -> None:
    holding = [Call(limited, "127.0.0.2", 1, held=True), Call(limited, "127.0.0.3", 2, held=True)]
    waiting = Call(limited, "127.0.0.4", 3)
    async with limited.router.lifespan_context(limited):
        with anyio.fail_after(WITHIN):
            async with anyio.create_task_group() as group:
                for call in holding:
                    group.start_soon(call.run)
                    await call.reading.wait()
                await waiting.run()  # both slots are taken until the held bodies arrive
                for call in holding:
                    call.release()
            after = Call(limited, "127.0.0.4", 4)
            await after.run()
    assert waiting.status == 503
    assert waiting.answer["error"]["message"] == BUSY_MESSAGE
    assert [call.status for call in holding] == [200, 200]
    assert [call.answer["id"] for call in holding] == [1, 2]
    assert after.status == 200 and after.answer == {"jsonrpc": "2.0", "id": 4, "result": {}}


async def test_one_client_holds_at_most_its_share_of_the_large_body_slots(limited: Starlette) -> None:
    first = Call(limited, "127.0.0.2", 1, held=True)
    second_from_same = Call(limited, "127.0.0.2", 2)
    other = Call(limited, "127.0.0.3", 3)
    async with limited.router.lifespan_context(limited):
        with anyio.fail_after(WITHIN):
            async with anyio.create_task_group() as group:
                group.start_soon(first.run)
                await first.reading.wait()
                await second_from_same.run()
                await other.run()  # the second slot is free for another address
                first.release()
    assert second_from_same.status == 503 and second_from_same.answer["error"]["message"] == BUSY_MESSAGE
    assert other.status == 200 and other.answer["id"] == 3
    assert first.status == 200
