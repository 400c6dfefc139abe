"""Clean JSON-RPC errors for malformed messages over HTTP, as stdio gives (`transports/stdio.py`).

The SDK answers a POST that is JSON but no JSON-RPC message with -32602 and pydantic's whole
validation report (streamable HTTP), or with a bare text "Could not parse message", a logged
traceback and the end of the session (SSE). `CleanMessageErrors` answers instead: -32700 for a body
that is not JSON, -32600 with one sentence (and the request's id when it has one) for JSON that is
not one JSON-RPC message. On streamable HTTP it only replaces the SDK's refusal (request bodies are
kept by reference while the request runs, read only if the SDK refused the message); on SSE it
checks each message before the SDK sees it.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from mcp.types import INVALID_REQUEST, PARSE_ERROR, jsonrpc_message_adapter
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .gate import route_path

SSE_REFUSAL = b"Could not parse message"
STREAMABLE_REFUSAL = "Validation error:"


class CleanMessageErrors:
    """Pure ASGI middleware over the SDK's app: answers malformed messages itself."""

    def __init__(self, app: ASGIApp, *, checked_path: str | None = None) -> None:
        self.app = app
        self._checked = checked_path
        _quiet_sse_parse_failures()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if self._checked is not None and route_path(scope).startswith(self._checked):
            await self._checked_first(scope, receive, send)
            return
        received: list[bytes] = []
        held: list[Message] = []

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if not message.get("more_body", False):
                await _flush(held, b"".join(received), send)

        await self.app(scope, recording, answer)

    async def _checked_first(self, scope: Scope, receive: Receive, send: Send) -> None:
        """SSE: the SDK hands a message it cannot read to the session as an error, which ends the session;
        so the message is checked here (the body is read whole, as the SDK reads it) and only a
        JSON-RPC message reaches the SDK."""
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            jsonrpc_message_adapter.validate_json(body, by_name=False)
        except ValidationError:
            await _send_error(malformed_error(body), send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _flush(held: list[Message], request: bytes, send: Send) -> None:
    """Send the held 400 answer, or our clean error in its place when it refused a malformed message."""
    body = b"".join(part.get("body", b"") for part in held[1:])
    if not _is_refusal(body):
        for message in held:
            await send(message)
        return
    await _send_error(malformed_error(request), send)


async def _send_error(error: dict[str, Any], send: Send) -> None:
    clean = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(clean)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": clean})


def _is_refusal(body: bytes) -> bool:
    if body == SSE_REFUSAL:
        return True
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    error: object = cast(dict[str, Any], answer).get("error") if isinstance(answer, dict) else None
    message = cast(dict[str, Any], error).get("message") if isinstance(error, dict) else None
    return isinstance(message, str) and message.startswith(STREAMABLE_REFUSAL)


def malformed_error(request: bytes) -> dict[str, Any]:
    """The JSON-RPC error for a body the SDK could not read as one JSON-RPC message."""
    try:
        value: object = json.loads(request)
    except UnicodeDecodeError as exc:
        return _error(None, PARSE_ERROR, f"Parse error: the body is not UTF-8 (byte {exc.start}).")
    except ValueError as exc:
        return _error(None, PARSE_ERROR, f"Parse error: {exc}.")
    if isinstance(value, list):
        return _error(None, INVALID_REQUEST, "Invalid Request: JSON-RPC batches (arrays) are not supported.")
    request_id = cast(dict[str, object], value).get("id") if isinstance(value, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        request_id = None
    return _error(
        request_id,
        INVALID_REQUEST,
        "Invalid Request: not a JSON-RPC 2.0 request, notification or response "
        '(one object with "jsonrpc": "2.0" and a "method", "result" or "error").',
    )


def _error(request_id: object, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


class _OneLine(logging.Filter):
    """The SSE transport logs a traceback for each malformed message; one line says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Failed to parse message"):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "Refused a malformed message (answered with a JSON-RPC error)", None, None, None,
            )  # fmt: skip
        return True


def _quiet_sse_parse_failures() -> None:
    target = logging.getLogger("mcp.server.sse")
    if not any(isinstance(f, _OneLine) for f in target.filters):
        target.addFilter(_OneLine())
