"""One `x-session-affinity` value per MCP session, so a conversation's turns reach the same prompt cache.

The value is random (it says nothing of the client) and never shared between sessions:
- a connection that began with the initialize handshake (2025-11-25 and before, stdio or HTTP) is one
  session: its value lives as long as the connection's client parameters (one object per connection);
- a 2026-07-28 request carries no session of its own: over HTTP, the transport's `mcp-session-id`
  (keyed with a per-process secret, so the header does not reveal it) where the client sends one, else
  no affinity at all (requests of different users could not be told apart); without HTTP headers
  (stdio, in memory) the server serves one client, so the server's own value is the session's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref

from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..host.common import AppContext, state_of

_SECRET = secrets.token_bytes(32)
_values: dict[int, str] = {}


def session_affinity(ctx: AppContext) -> str | None:
    """The affinity value of the session `ctx` belongs to, or None where no session can be told."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        params = ctx.session.client_params
        return _value_of(params) if params is not None else None
    headers = ctx.headers
    if headers is None:
        return _value_of(state_of(ctx))
    session = headers.get("mcp-session-id")
    if not session:
        return None
    return hmac.new(_SECRET, session.encode(), hashlib.sha256).hexdigest()[:32]


def _value_of(owner: object) -> str:
    """A random value for as long as `owner` lives (then forgotten, so a reused id gets a new one)."""
    key = id(owner)
    value = _values.get(key)
    if value is None:
        value = secrets.token_hex(16)
        _values[key] = value
        weakref.finalize(owner, _values.pop, key, None)
    return value
