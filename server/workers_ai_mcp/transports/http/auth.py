"""Bearer-token check for inbound HTTP requests (used by the gate in `gate.py`).

The token is compared in constant time on the raw header bytes; nothing of the presented
header is logged or echoed.
"""

from __future__ import annotations

import hmac
import json
from typing import Literal

from starlette.types import Scope, Send

_AUTHORIZATION = b"authorization"

Verdict = Literal["ok", "no", "a wrong"]


def bearer_check(scope: Scope, expected: bytes) -> Verdict:
    """Whether the request carries `Authorization: Bearer <expected>`; "no"/"a wrong" name what it carried."""
    if not expected:
        raise ValueError("an empty bearer token would let every request through")
    presented = presented_token(scope)
    if presented is None:
        return "no"
    return "ok" if hmac.compare_digest(presented, expected) else "a wrong"


def presented_token(scope: Scope) -> bytes | None:
    """The credentials of the first `Authorization: Bearer ...` header, as raw bytes, or None."""
    for name, value in scope["headers"]:
        if name.lower() == _AUTHORIZATION:
            scheme, _, credentials = value.strip().partition(b" ")
            if scheme.lower() != b"bearer":
                return None
            return credentials.strip()
    return None


async def send_unauthorized(send: Send, *, wrong: bool) -> None:
    """401 with `WWW-Authenticate: Bearer` and a sentence naming the setting."""
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
