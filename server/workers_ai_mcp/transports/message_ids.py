"""Request ids as JSON-RPC allows them: a string or an integer.

The SDK reads `{"id": 1.5, "method": ...}` (or an id that is a boolean, object, array or null) as a
notification and drops the id, so the client gets no answer at all: over stdio nothing, over HTTP a
bare `202`. JSON-RPC wants an Invalid Request error with `id: null` for these; both transports
answer it with `INVALID_ID`.
"""

from __future__ import annotations

import json
from typing import cast

import mcp.types as types

INVALID_ID_MESSAGE = (
    "Invalid Request: a request id must be a string or an integer (not a fraction, boolean, object, "
    "array or null); send the request again with one."
)


def has_invalid_id(value: object) -> bool:
    """True for a request (an object with a `method`) whose `id` is present but not a string or integer."""
    if not isinstance(value, dict):
        return False
    message = cast(dict[str, object], value)
    if "method" not in message or "id" not in message:
        return False
    request_id = message["id"]
    return isinstance(request_id, bool) or not isinstance(request_id, int | str)


def invalid_id_in(raw: bytes | str) -> bool:
    """`has_invalid_id` for a message the SDK already accepted as one (so bounded JSON); cheap when no id."""
    if isinstance(raw, str):
        raw = raw.encode()  # callers pass only notifications, which are small
    if b'"id"' not in raw:
        return False
    try:
        return has_invalid_id(json.loads(raw))
    except (ValueError, RecursionError):
        return False


def invalid_id_error() -> types.JSONRPCError:
    return types.JSONRPCError(
        jsonrpc="2.0", id=None, error=types.ErrorData(code=types.INVALID_REQUEST, message=INVALID_ID_MESSAGE)
    )
