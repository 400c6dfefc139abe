"""Outermost layer: records each request, adds latency, checks the bearer token, plays injected faults,
spends the free daily allocation (4006 once it is used up)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

import anyio
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .envelope import as_obj, unauthorized
from .faults import daily_allocation_answer, play
from .state import EmulatorState, RecordedRequest

_AI_PATH = re.compile(r"^/client/v4/accounts/[^/]+/ai/|^(?:/v1)?/[^/]+/[^/]+/workers-ai/")
_MODEL_IN_PATH = re.compile(r"/ai/run/(.+)$|/workers-ai/(?:run/)?(?!v1/)(.+)$")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.lstrip().startswith(b"{"):
        return {}
    try:
        return as_obj(json.loads(body)) or {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}


def _model_of(path: str, query: str, body: bytes) -> str | None:
    match = _MODEL_IN_PATH.search(path)
    if match:
        return match.group(1) or match.group(2)
    if path.endswith("/ai/models/schema"):
        return (parse_qs(query).get("model") or [None])[0]
    if "/v1/" not in path:  # only the OpenAI-compatible routes name the model in the body
        return None
    model = _json_body(body).get("model")
    return model if isinstance(model, str) else None


class EmulatorMiddleware:
    def __init__(self, app: ASGIApp, state: EmulatorState, token: str | None) -> None:
        self.app = app
        self.state = state
        self.token = token

    def _authorized(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.token is None or token.strip() == self.token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, query = str(scope["path"]), bytes(scope.get("query_string", b"")).decode("latin-1")
        content_type = headers.get("content-type")
        model = _model_of(path, query, body)
        record = RecordedRequest(scope["method"], path, query, headers, len(body), content_type, model)
        state.record(record)
        client = scope.get("client")
        if client:
            state.connections.add((str(client[0]), int(client[1])))
        request_id = state.new_id()

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
                tagged = MutableHeaders(scope=message)
                tagged["cf-ai-req-id"] = request_id
                tagged["x-emulator"] = "workers-ai-mcp (local test double, not Cloudflare)"
            await send(message)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if state.latency > 0:
            await anyio.sleep(state.latency)
        if not self._authorized(headers.get("authorization", "")):
            await unauthorized().to_response()(scope, replay, send_tagged)
            return
        if _AI_PATH.match(path) and await self._answered_before_the_model(scope, body, replay, send_tagged):
            return
        await self.app(scope, replay, send_tagged)

    async def _answered_before_the_model(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        """Play the next injected fault, or 4006 when the free allocation is spent; False to run the model."""
        state, path = self.state, str(scope["path"])
        if state.faults:
            fault = state.faults.popleft()
            stream = _json_body(body).get("stream") is True
            openai_style = "/ai/v1/" in path or "/workers-ai/v1/" in path
            await play(fault, scope, receive, send, stream=stream, openai_style=openai_style)
            return True
        if scope["method"] == "POST" and not state.spend_free_neurons():
            await daily_allocation_answer()(scope, receive, send)
            return True
        return False
