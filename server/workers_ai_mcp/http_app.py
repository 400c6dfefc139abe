"""The Starlette app behind `--transport sse|streamable-http`.

It is the SDK's own app (Host/Origin checks on) plus a bearer-token check, a `/health` route
that reveals nothing secret, and — for SSE — a lifespan that opens the Workers AI client once
per process instead of once per connection.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Literal

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import __version__
from .http_auth import BearerAuthMiddleware
from .settings import Settings
from .state import AppState

logger = logging.getLogger(__name__)

HttpTransport = Literal["sse", "streamable-http"]

MCP_PATH = "/mcp"
SSE_PATH = "/sse"
MESSAGE_PATH = "/messages/"
HEALTH_PATH = "/health"

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
    """Host/Origin allow-lists: loopback, the bind address when it is not loopback, and the configured extras.

    A configured host without a port (`mcp.example.com`) also allows it with any port.
    """
    hosts: list[str] = list(LOOPBACK_HOSTS)
    origins: list[str] = list(LOOPBACK_ORIGINS)
    extra_hosts = list(settings.allowed_hosts)
    if not is_loopback(host):
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
    if transport == "streamable-http":
        # Its lifespan runs the session manager, which enters our server lifespan once.
        app = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            json_response=json_response,
            stateless_http=stateless,
            transport_security=security,
            host=host,
        )
    else:
        app = server.sse_app(sse_path=SSE_PATH, message_path=MESSAGE_PATH, transport_security=security, host=host)
        app.router.lifespan_context = _lifespan_once(server)
    app.router.routes.insert(0, Route(HEALTH_PATH, _health, methods=["GET"]))
    token = inbound_token(settings)
    if token:
        app.add_middleware(BearerAuthMiddleware, token=token, public_paths=[HEALTH_PATH])
    else:
        logger.warning(
            "No WORKERS_AI_MCP_AUTH_TOKEN is set: any program on this machine can call the tools (and spend "
            "the account's money); set one to require 'Authorization: Bearer <token>'."
        )
    return app


async def _health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "name": "workers-ai-mcp", "version": __version__})


def _lifespan_once(server: MCPServer[AppState]) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A host-app lifespan that enters the server lifespan once and hands its state to every SSE connection.

    The SDK's SSE app enters the server lifespan per connection (a new Workers AI client, a new
    spending tally each time); this swaps in the one shared state while the app runs.
    """
    lowlevel = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncGenerator[None]:
        own = lowlevel.lifespan
        async with own(lowlevel) as state:

            def shared(_server: object) -> AbstractAsyncContextManager[AppState]:
                return nullcontext(state)

            lowlevel.lifespan = shared
            try:
                yield
            finally:
                lowlevel.lifespan = own

    return lifespan
