"""The gate in front of the HTTP transports: Host/Origin, the connections kept for `/health` and
authenticated clients, bearer token or OAuth access token and scopes (`oauth_guard.py`), request body
size and time, a few large bodies at a time (`bodies.py`), and an answer for a request whose id
JSON-RPC does not allow.

Each refusal is a short answer that says what to do, and one log line per cause per minute at
most (with a count of the ones not logged); anything taken from the request is escaped before it
is logged. The SDK's own checks stay on behind the gate with the same allow-lists, but a refused
request never reaches them, so a bad Host on `/sse` costs no traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection

import anyio
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..message_ids import invalid_id_error, invalid_id_in
from .auth import bearer_check, send_unauthorized
from .bodies import (
    COUNT_FROM,
    LARGE_BODY,
    MANY_ITEMS_MESSAGE,
    MAX_JSON_CONTAINERS,
    MAX_JSON_ITEMS,
    LargeBodies,
    Slot,
    too_many_items,
)
from .oauth_guard import OAuthGuard
from .refusals import LOG_INTERVAL, OncePerInterval, RefusalLog, escape, install_log_limits, route_path

logger = logging.getLogger(__name__)

__all__ = [
    "LOG_INTERVAL",
    "MAX_JSON_CONTAINERS",
    "MAX_JSON_ITEMS",
    "RESERVED_SLOT",
    "OncePerInterval",
    "RefusalLog",
    "RequestGate",
    "escape",
    "install_log_limits",
    "route_path",
]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Set in the scope of a request on a connection past the general share (`h11.py`).
RESERVED_SLOT = "workers_ai_mcp.reserved_slot"
RESERVED_MESSAGE = (
    "This server has nearly all its connections open (WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS); the last ones "
    "(WORKERS_AI_MCP_HTTP_RESERVED_CONNECTIONS) are kept for /health and requests with the bearer token. "
    "Retry shortly."
)
BUSY_MESSAGE = (
    "The server is handling as many large request bodies as it takes at once "
    "(WORKERS_AI_MCP_HTTP_MAX_LARGE_BODIES, WORKERS_AI_MCP_HTTP_MAX_LARGE_BODIES_PER_CLIENT) and none finished "
    "within WORKERS_AI_MCP_HTTP_LARGE_BODY_WAIT; retry shortly, or pass large media as a file path or URL."
)
_RETRY = [(b"retry-after", b"1")]


def _allowed(value: str, allowed: Collection[str]) -> bool:
    """The SDK's matching: exact, or `base:*` for `base:<any port>`."""
    return value in allowed or any(entry.endswith(":*") and value.startswith(entry[:-1]) for entry in allowed)


class RequestGate:
    """Pure ASGI middleware; wraps the whole HTTP app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        security: TransportSecuritySettings,
        token: str,
        public_paths: Collection[str],
        max_body: int,
        body_timeout: float,
        refusals: RefusalLog,
        large_bodies: LargeBodies | None = None,
        large_body_wait: float = 30.0,
        oauth: OAuthGuard | None = None,
    ) -> None:
        self.app = app
        self._hosts = security.allowed_hosts
        self._origins = security.allowed_origins
        self._token = token.encode()
        self._public = frozenset(public_paths)
        self._max_body = max_body
        self._body_timeout = body_timeout
        self._refusals = refusals
        self._large = large_bodies or LargeBodies(total=2, per_client=1)
        self._large_wait = large_body_wait
        self._oauth = oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # nothing here speaks it
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        host, origin = headers.get(b"host", ""), headers.get(b"origin")
        if not _allowed(host, self._hosts):
            self._refusals.refused("a Host header not in the allow-list", scope, host)
            await _plain(send, 421, "This Host is not served here; add it to WORKERS_AI_MCP_ALLOWED_HOSTS to allow it.")
            return
        if origin and not _allowed(origin, self._origins):
            self._refusals.refused("an Origin not in the allow-list", scope, origin)
            await _plain(send, 403, "This Origin is not allowed; add it to WORKERS_AI_MCP_ALLOWED_ORIGINS to allow it.")
            return
        if scope.get(RESERVED_SLOT) and not await self._may_use_reserve(scope):
            self._refusals.refused("a connection past the general share, for a request the reserve is not for", scope)
            await _respond(
                send, 503, b"text/plain; charset=utf-8", RESERVED_MESSAGE.encode(), [(b"connection", b"close")]
            )
            return
        guarded = self._oauth and route_path(scope) not in self._public
        refused = await self._oauth.admit(scope, send) if self._oauth and guarded else None
        if refused:
            self._refusals.refused(refused, scope)
            return
        if self._token and route_path(scope) not in self._public:
            verdict = bearer_check(scope, self._token)
            if verdict != "ok":
                self._refusals.refused(f"{verdict} bearer token", scope)
                await send_unauthorized(send, wrong=verdict == "a wrong")
                return
        if scope.get("method") in _BODY_METHODS:
            await self._with_body(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _may_use_reserve(self, scope: Scope) -> bool:
        """`/health`, or a request with the right bearer token (none is right when no token is set)."""
        if route_path(scope) in self._public:
            return True
        if self._oauth:
            return await self._oauth.may_use_reserve(scope)
        return bool(self._token) and bearer_check(scope, self._token) == "ok"

    async def _with_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _content_length(scope)
        if declared is not None and declared > self._max_body:
            await self._too_large(scope, send)
            return
        client = scope.get("client")
        slot = Slot(self._large, str(client[0]) if client else "", self._large_wait)
        try:
            if declared is not None and declared > LARGE_BODY and not await slot.take():
                await self._busy(scope, send)
                return
            read = await self._read(scope, receive, send, slot)
            if read is None:
                return
            body, tail = read
            if len(body) >= COUNT_FROM and await anyio.to_thread.run_sync(too_many_items, body):
                self._refusals.refused("a request body with too many JSON items", scope)
                await _json(send, 413, _error_body(MANY_ITEMS_MESSAGE))
                return
            if self._oauth and not await self._oauth.admit_body(scope, body, send):
                self._refusals.refused("a billed tool call without the invoke scope", scope)
                return
            queued: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *tail]

            async def replay() -> Message:
                return queued.pop(0) if queued else await receive()

            await self.app(scope, replay, _answering_invalid_ids(send, body))
        finally:
            slot.release()

    async def _read(self, scope: Scope, receive: Receive, send: Send, slot: Slot) -> tuple[bytes, list[Message]] | None:
        """The whole body and any message after it, or None once the request is answered (too large, too
        slow, no large-body slot). The buffer is freed on return: only the `bytes` copy lives on."""
        body = bytearray()
        tail: list[Message] = []
        with anyio.move_on_after(self._body_timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    tail.append(message)
                    break
                body += message.get("body", b"")
                if len(body) > self._max_body:
                    await self._too_large(scope, send)
                    return None
                if len(body) > LARGE_BODY and not await slot.take():  # a body that declared no length
                    await self._busy(scope, send)
                    return None
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            self._refusals.refused("a request body sent too slowly", scope)
            await _plain(
                send,
                408,
                f"The request body did not arrive within {self._body_timeout:g} s "
                "(WORKERS_AI_MCP_HTTP_BODY_TIMEOUT); send it again.",
            )
            return None
        return bytes(body), tail

    async def _busy(self, scope: Scope, send: Send) -> None:
        self._refusals.refused("no large-body slot came free in time", scope)
        await _respond(send, 503, b"application/json", json.dumps(_error_body(BUSY_MESSAGE)).encode(), _RETRY)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        self._refusals.refused("a request body over the limit", scope)
        await _json(
            send,
            413,
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": -32600,
                    "message": f"The request body is over {self._max_body} bytes "
                    "(WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES): pass large media as a file path or URL "
                    "instead of inline base64, or raise the limit.",
                },
            },
        )


def _error_body(message: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}


def _answering_invalid_ids(send: Send, body: bytes) -> Send:
    """`send`, except that the SDK's bare `202` for a request whose id it dropped (a fraction, boolean,
    object, array or null: read as a notification) becomes JSON-RPC's Invalid Request with `id: null`.
    Only a `202` is looked at, so only those bodies are read a second time."""
    replaced = False

    async def checked(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message.get("status") == 202 and invalid_id_in(body):
            replaced = True
            await _json(send, 400, invalid_id_error().model_dump(mode="json", by_alias=True, exclude_unset=True))
            return
        if replaced and message["type"] == "http.response.body":
            return
        await send(message)

    return checked


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    await _respond(send, status, b"text/plain; charset=utf-8", text.encode())


async def _json(send: Send, status: int, body: object) -> None:
    await _respond(send, status, b"application/json", json.dumps(body).encode())


async def _respond(
    send: Send, status: int, content_type: bytes, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
