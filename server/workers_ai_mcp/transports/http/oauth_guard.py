"""The OAuth check the gate (`gate.py`) runs on each request when OAuth is configured (`oauth.py`).

Scopes: every request to the MCP endpoints needs the read scope (free tools, resources, usage);
a `tools/call` of a billed tool (one not annotated read-only) also needs the invoke scope. Both are
refused at the transport with 403 `insufficient_scope` naming the scope, as the MCP authorization
spec asks (its step-up flow lets a host ask the person for the missing scope and retry); a tool
error sentence would leave the host no way to do that. Answers follow RFC 6750 §3 with the
`resource_metadata` parameter of RFC 9728 §5.1, and never repeat the token.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.authentication import AuthCredentials
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope, Send

from .auth import presented_token
from .oauth import JwksCache, JwtVerifier, OAuthConfig

BilledTools = Callable[[], Awaitable[frozenset[str]]]


class OAuthGuard:
    """Validates the bearer token of a request and the scopes its calls need."""

    def __init__(self, config: OAuthConfig, verifier: JwtVerifier, billed_tools: BilledTools) -> None:
        self.config = config
        self._verifier = verifier
        self._billed_tools = billed_tools
        self._billed: frozenset[str] | None = None

    async def admit(self, scope: Scope, send: Send) -> str | None:
        """None when the request may go on; otherwise why it was refused (it has been answered 401 or 403)."""
        presented = presented_token(scope)
        if not presented:
            await self._challenge(send, 401, None, "This MCP server needs an OAuth access token.")
            return "no OAuth access token"
        access = await self._verifier.verify_token(presented.decode("latin-1"))
        if access is None:
            await self._challenge(
                send,
                401,
                "invalid_token",
                f"The access token is not valid for this server: it must be a signed, unexpired JWT from "
                f"{self.config.issuer} with audience {self.config.resource}.",
            )
            return "an OAuth access token not valid here"
        if self.config.read_scope not in access.scopes:
            await self._insufficient(send, self.config.read_scope)
            return "an OAuth access token without the read scope"
        scope["user"] = AuthenticatedUser(access)
        scope["auth"] = AuthCredentials(access.scopes)
        return None

    async def may_use_reserve(self, scope: Scope) -> bool:
        presented = presented_token(scope)
        return bool(presented) and await self._verifier.verify_token(presented.decode("latin-1")) is not None

    async def admit_body(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Whether a body's billed `tools/call`s are covered by the invoke scope; otherwise answered 403."""
        credentials = scope.get("auth")
        if isinstance(credentials, AuthCredentials) and self.config.invoke_scope in credentials.scopes:
            return True
        called = _called_tools(body)
        if not called:
            return True
        if self._billed is None:
            self._billed = await self._billed_tools()
        if called.isdisjoint(self._billed):
            return True
        await self._insufficient(send, self.config.invoke_scope)
        return False

    async def _insufficient(self, send: Send, needed: str) -> None:
        await self._challenge(
            send,
            403,
            "insufficient_scope",
            f"The access token lacks the scope {needed!r}; ask the authorization server for it.",
            needed,
        )

    async def _challenge(
        self, send: Send, status: int, error: str | None, description: str, needed: str | None = None
    ) -> None:
        parts = [f'resource_metadata="{self.config.metadata_url()}"']
        if error:
            parts.append(f'error="{error}"')
            parts.append(f'error_description="{description}"')
        parts.append(f'scope="{needed or " ".join(self.config.scopes)}"')
        body = json.dumps({"error": error or "unauthorized", "error_description": description}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", ("Bearer " + ", ".join(parts)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _called_tools(body: bytes) -> frozenset[str]:
    """The tool names of the `tools/call` requests in a JSON-RPC body (one message or a batch)."""
    try:
        parsed: object = json.loads(body)
    except ValueError:
        return frozenset()  # the SDK answers a malformed body; nothing is called
    messages: list[object] = parsed if isinstance(parsed, list) else [parsed]  # pyright: ignore[reportUnknownVariableType]
    names: set[str] = set()
    for message in messages:
        if not isinstance(message, dict) or message.get("method") != "tools/call":  # pyright: ignore[reportUnknownMemberType]
            continue
        params: object = message.get("params")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        name: object = params.get("name") if isinstance(params, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        names.add(name if isinstance(name, str) else "")
    return frozenset(names)


def oauth_guard(server: MCPServer[Any], config: OAuthConfig) -> OAuthGuard:
    """The guard for `server`, with its metadata document served on the well-known paths."""

    async def billed_tools() -> frozenset[str]:
        tools = await server.list_tools()
        return frozenset(tool.name for tool in tools if not (tool.annotations and tool.annotations.read_only_hint))

    document = config.metadata()

    async def metadata(_: Request) -> Response:
        return JSONResponse(document, headers={"cache-control": "max-age=300"})

    for path in config.metadata_paths():
        server.custom_route(path, methods=["GET"])(metadata)
    return OAuthGuard(config, JwtVerifier(config, JwksCache(config)), billed_tools)
