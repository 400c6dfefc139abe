"""Bearer-token check for inbound HTTP requests, as a pure ASGI middleware.

The token is compared in constant time on the raw header bytes; nothing of the presented
header is logged or echoed. Paths listed as public (the health check) pass without a token.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

_AUTHORIZATION = b"authorization"


class BearerAuthMiddleware:
    """Answers 401 with `WWW-Authenticate: Bearer` unless `Authorization: Bearer <token>` matches."""

    def __init__(self, app: ASGIApp, *, token: str, public_paths: Collection[str] = ()) -> None:
        if not token:
            raise ValueError("an empty bearer token would let every request through")
        self.app = app
        self._expected = token.encode()
        self._public = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _route_path(scope) in self._public:
            await self.app(scope, receive, send)
            return
        presented = presented_token(scope)
        if presented is not None and hmac.compare_digest(presented, self._expected):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        logger.warning(
            "Refused %s %s from %s: %s bearer token",
            scope.get("method", "WEBSOCKET"),
            _route_path(scope),
            client[0] if client else "an unknown client",
            "no" if presented is None else "a wrong",
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _unauthorized(send, wrong=presented is not None)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def presented_token(scope: Scope) -> bytes | None:
    """The credentials of the first `Authorization: Bearer ...` header, as raw bytes, or None."""
    for name, value in scope["headers"]:
        if name.lower() == _AUTHORIZATION:
            scheme, _, credentials = value.strip().partition(b" ")
            if scheme.lower() != b"bearer":
                return None
            return credentials.strip()
    return None


async def _unauthorized(send: Send, *, wrong: bool) -> None:
    challenge = b'Bearer error="invalid_token"' if wrong else b"Bearer"
    body = json.dumps(
        {
            "error": "invalid_token" if wrong else "unauthorized",
            "error_description": "This MCP server needs 'Authorization: Bearer <token>' "
            "with the token set in WORKERS_AI_MCP_AUTH_TOKEN.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
