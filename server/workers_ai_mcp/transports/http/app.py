"""The Starlette app behind `--transport sse|streamable-http`.

It is the SDK's own app (Host/Origin checks on, body limit, session cap and idle expiry from our
settings) behind our gate (`gate.py`: Host/Origin, bearer token or OAuth (`oauth.py`), body size and time) and clean
JSON-RPC errors for malformed messages (`messages.py`), one request per id in flight on a session
(`inflight.py`), resumable streams over streamable HTTP (`events.py`: a client that reconnects with
Last-Event-ID gets what it missed), a `/health` route that reveals nothing secret, and — for SSE — a
lifespan that opens the Workers AI client once per process instead of once per connection.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Literal

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import __version__
from ...settings import Settings
from ...state import AppState
from .bodies import LargeBodies
from .events import BoundedEventStore, SessionNamespaces
from .gate import RefusalLog, RequestGate, install_log_limits
from .inflight import InFlightIds
from .messages import CleanMessageErrors
from .oauth import OAuthConfig
from .oauth_guard import oauth_guard

logger = logging.getLogger(__name__)

HttpTransport = Literal["sse", "streamable-http"]

MCP_PATH = "/mcp"
SSE_PATH = "/sse"
MESSAGE_PATH = "/messages/"
HEALTH_PATH = "/health"
RETRY_MS = 1000  # the SSE `retry` a resumable stream advises: reconnect after a second

LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def inbound_token(settings: Settings) -> str:
    """The bearer token HTTP clients must send, or "" when none is configured."""
    return settings.http_auth_token.get_secret_value().strip() if settings.http_auth_token else ""


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """Host/Origin allow-lists: loopback, the bind address (`127.0.0.5` too), and the configured extras.

    A configured host without a port (`mcp.example.com`) also allows it with any port.
    """
    hosts: list[str] = list(LOOPBACK_HOSTS)
    origins: list[str] = list(LOOPBACK_ORIGINS)
    extra_hosts = list(settings.allowed_hosts)
    if host:
        name = f"[{host}]" if ":" in host and not host.startswith("[") else host
        extra_hosts.append(name)
        origins += [f"{scheme}://{name}{port}" for scheme in ("http", "https") for port in ("", ":*")]
    for entry in extra_hosts:
        hosts.append(entry)
        if not _has_port(entry):
            hosts.append(f"{entry}:*")
    origins += settings.allowed_origins
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


def message_limit(settings: Settings) -> int:
    """The largest HTTP request body accepted (`Settings.max_message_bytes`, the stdio line's cap too)."""
    return settings.max_message_bytes


def _has_port(host: str) -> bool:
    tail = host.rsplit("]", 1)[-1]
    return ":" in tail


def create_http_app(
    server: MCPServer[AppState],
    settings: Settings,
    *,
    transport: HttpTransport,
    host: str = "127.0.0.1",
    stateless: bool = False,
    json_response: bool = False,
) -> Starlette:
    """The ASGI app for one HTTP transport; run its lifespan (uvicorn does) before serving requests."""
    security = transport_security(settings, host)
    limit = message_limit(settings)
    server.custom_route(HEALTH_PATH, methods=["GET"])(_health)
    oauth = OAuthConfig.from_settings(settings)
    guard = oauth_guard(server, oauth) if oauth else None  # its metadata routes join the app built next
    if transport == "streamable-http":
        resumable = not stateless and settings.http_replay_events > 0 and settings.http_replay_bytes > 0
        events = (
            BoundedEventStore(max_events=settings.http_replay_events, max_bytes=settings.http_replay_bytes)
            if resumable
            else None
        )
        # Its lifespan runs the session manager, which enters our server lifespan once.
        app = server.streamable_http_app(
            event_store=events,
            retry_interval=RETRY_MS if resumable else None,
            streamable_http_path=MCP_PATH,
            json_response=json_response,
            stateless_http=stateless,
            transport_security=security,
            host=host,
            max_request_body_size=limit,
            max_sessions=settings.http_max_sessions,
            session_idle_timeout=settings.http_session_idle_timeout,
        )
    else:
        app = server.sse_app(
            sse_path=SSE_PATH,
            message_path=MESSAGE_PATH,
            transport_security=security,
            host=host,
            max_request_body_size=limit,
        )
        app.router.lifespan_context = lambda _app: _held_state(server)
    if transport == "streamable-http" and not stateless:
        app.add_middleware(SessionNamespaces, max_sessions=settings.http_max_sessions)
    app.add_middleware(CleanMessageErrors, checked_path=MESSAGE_PATH if transport == "sse" else None)
    refusals = RefusalLog()
    install_log_limits("mcp.server.streamable_http_manager", ["Refusing to open a new session"])
    app.add_middleware(SessionsFullNotice, settings=settings, refusals=refusals)
    if transport == "streamable-http":
        app.add_middleware(InFlightIds, path=MCP_PATH, refusals=refusals)
    token = inbound_token(settings)
    app.add_middleware(
        RequestGate,
        security=security,
        token=token,
        oauth=guard,
        public_paths=[HEALTH_PATH, *(oauth.metadata_paths() if oauth else [])],
        max_body=limit,
        body_timeout=settings.http_body_timeout,
        refusals=refusals,
        large_bodies=LargeBodies(
            total=settings.http_max_large_bodies, per_client=settings.http_max_large_bodies_per_client
        ),
        large_body_wait=settings.http_large_body_wait,
    )
    if not token and not oauth:
        logger.warning(
            "No WORKERS_AI_MCP_AUTH_TOKEN is set: any program on this machine can call the tools (and spend "
            "the account's money); set one to require 'Authorization: Bearer <token>'."
        )
    return app


@asynccontextmanager
async def _held_state(server: MCPServer[AppState]) -> AsyncGenerator[None]:
    """Hold the server lifespan while the app runs: the SSE app enters it once per connection, and the
    server's own lifespan (`app.SharedLifespan`) gives every connection this one state."""
    lifespan = server.settings.lifespan
    if lifespan is None:
        yield
        return
    async with lifespan(server):
        yield


async def _health(_: Request) -> Response:
    return JSONResponse({"status": "ok", "name": "workers-ai-mcp", "version": __version__})


class SessionsFullNotice:
    """Turns the SDK's bare "Too many open sessions" 503 into an answer that says what to do."""

    def __init__(self, app: ASGIApp, *, settings: Settings, refusals: RefusalLog) -> None:
        self.app = app
        self._refusals = refusals
        self._body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": -32603,
                    "message": f"This server has its {settings.http_max_sessions} sessions open "
                    f"(WORKERS_AI_MCP_HTTP_MAX_SESSIONS); a session with no request for "
                    f"{settings.http_session_idle_timeout:g} s closes (WORKERS_AI_MCP_HTTP_SESSION_IDLE_TIMEOUT). "
                    "Retry later, end sessions you no longer use (DELETE /mcp with their Mcp-Session-Id), "
                    "or raise the limit.",
                },
            }
        ).encode()
        self._retry_after = str(max(1, min(60, math.ceil(settings.http_session_idle_timeout)))).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        opening = scope["type"] == "http" and not any(name.lower() == b"mcp-session-id" for name, _ in scope["headers"])
        if not opening:
            await self.app(scope, receive, send)
            return
        replaced = False

        async def notice(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 503:
                replaced = True
                self._refusals.refused("the session limit is reached", scope)
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self._body)).encode()),
                    (b"retry-after", self._retry_after),
                ]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": self._body})
                return
            if not replaced:
                await send(message)

        await self.app(scope, receive, notice)
