"""One request per id at a time on a streamable-HTTP session.

The SDK keys a session's open requests by `str(id)`: a second request with an id already in flight
(or `1` next to `"1"`) replaces the first one's answer stream, so one of them is never answered
while both tools run and are billed. `InFlightIds` refuses such a request with a JSON-RPC error
carrying its id, before the SDK or any tool sees it. It sits inside the gate, which has read the
body whole and checked its size and item count, so parsing it here is bounded.
"""

from __future__ import annotations

import json
from typing import cast

import anyio
from mcp.types import INVALID_REQUEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .gate import RefusalLog, route_path

_SESSION_HEADER = b"mcp-session-id"
_PARSE_ON_THREAD = 256 * 1024  # bytes; smaller bodies parse in well under a millisecond
_LONG = 4096  # characters: a string this long is emptied before a large body is parsed for its id
_FEW_STRINGS = 20_000  # quotes; past this the body is mostly short strings, cheaper to parse whole


def duplicate_message(request_id: int | str) -> str:
    return (
        f"Invalid Request: a request with id {json.dumps(request_id)} is already in flight on this session; "
        "wait for its answer or send this one with another id."
    )


class InFlightIds:
    """Pure ASGI middleware over the streamable-HTTP app: refuses a POST whose id is already in flight."""

    def __init__(self, app: ASGIApp, *, path: str, refusals: RefusalLog) -> None:
        self.app = app
        self._path = path
        self._refusals = refusals
        self._in_flight: set[tuple[bytes, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = _session_id(scope) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if session is None or route_path(scope) != self._path:
            await self.app(scope, receive, send)
            return
        queued = await _whole_body(receive)
        body = b"".join(message.get("body", b"") for message in queued if message["type"] == "http.request")
        if len(body) > _PARSE_ON_THREAD:
            request_id = await anyio.to_thread.run_sync(request_id_of, body)
        else:
            request_id = request_id_of(body)

        async def replay() -> Message:
            return queued.pop(0) if queued else await receive()

        if request_id is None:
            await self.app(scope, replay, send)
            return
        key = (session, str(request_id))  # the SDK's own key: 1 and "1" share it
        if key in self._in_flight:
            self._refusals.refused("a request id already in flight on its session", scope)
            await _refuse(send, request_id)
            return
        self._in_flight.add(key)
        try:
            await self.app(scope, replay, send)
        finally:
            self._in_flight.discard(key)


def request_id_of(body: bytes) -> int | str | None:
    """The id of the JSON-RPC request in `body`, or None (a notification, a response, anything malformed:
    the SDK and `messages.py` answer those).

    A large body's long strings (media as base64) are emptied first (`skeleton`), so a 35 MB body
    costs a small parse, not a second copy of it."""
    try:
        value: object = json.loads(skeleton(body) if len(body) > _PARSE_ON_THREAD else body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    message = cast(dict[str, object], value)
    request_id = message.get("id")
    if "method" not in message or isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    return request_id


def skeleton(body: bytes) -> bytes:
    """`body` with every JSON string longer than `_LONG` characters emptied (`""`); the rest as it was.

    Strings are found as JSON delimits them (a quote not preceded by an odd number of backslashes), with
    `find` at C speed, so a body of base64 media costs a few steps. A body with many strings is returned
    whole. Invalid JSON stays invalid (an unterminated string is kept)."""
    if body.count(b'"') > _FEW_STRINGS:
        return body
    pieces: list[bytes] = []
    done = 0
    start = body.find(b'"')
    while start >= 0:
        end = _string_end(body, start)
        if end < 0:
            break
        if end - start - 1 > _LONG:
            pieces += [body[done:start], b'""']
            done = end + 1
        start = body.find(b'"', end + 1)
    pieces.append(body[done:])
    return b"".join(pieces)


def _string_end(body: bytes, start: int) -> int:
    """The index of the quote that ends the string opening at `start`, or -1."""
    end = body.find(b'"', start + 1)
    while end >= 0:
        backslashes = 0
        while body[end - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 0:
            return end
        end = body.find(b'"', end + 1)
    return -1


def _session_id(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name.lower() == _SESSION_HEADER:
            return bytes(value)
    return None


async def _whole_body(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


async def _refuse(send: Send, request_id: int | str) -> None:
    error = {"code": INVALID_REQUEST, "message": duplicate_message(request_id)}
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
