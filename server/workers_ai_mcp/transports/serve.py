"""Serving the MCP server: stdio (default), legacy SSE, streamable HTTP.

stdio ends on stdin EOF, SIGINT or SIGTERM: in-flight tool calls are cancelled and the Workers AI
client is closed before the process exits; every stdin line that is not a JSON-RPC message gets
a JSON-RPC error. The HTTP transports run uvicorn under our control (`http.server`: no access log,
logs through our redacting stderr handler, connection and header-time limits, a short grace period
on shutdown) and refuse a non-loopback address unless an inbound bearer token or OAuth is configured.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any, Literal, cast

import anyio
from mcp.server import MCPServer
from mcp.shared.message import SessionMessage

from ..settings import Settings, SettingsError
from ..state import AppState
from .sdk_private import serve_streams
from .stdio import DEFAULT_MAX_LINE, CheckedMessages, StdinLines, claimed_stdout, write_messages

__all__ = ["ServeOptions", "StdinLines", "run_transport", "serve_stdio"]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Shortest inbound token accepted on an address other machines can reach.
MIN_PUBLIC_TOKEN = 16

# How long the last answers may take to reach a client that stopped reading, once serving ends.
LAST_WRITES_SECONDS = 5.0

Transport = Literal["stdio", "sse", "streamable-http"]


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: the transport and, for HTTP, where and how (the settings hold everything else)."""

    transport: Transport = "stdio"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    stateless: bool = False  # streamable HTTP without sessions
    json_response: bool = False  # streamable HTTP answers with JSON bodies

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServeOptions:
        """The options `add_transport_arguments` parsed."""
        return cls(
            transport=cast(Transport, args.transport),
            host=args.host,
            port=args.port,
            stateless=args.stateless,
            json_response=args.json_response,
        )


def add_transport_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("transport")
    group.add_argument(
        "--transport", choices=["stdio", "sse", "streamable-http"], default="stdio", help="how clients connect"
    )
    group.add_argument("--host", default=DEFAULT_HOST, help=f"HTTP bind address (default {DEFAULT_HOST})")
    group.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    group.add_argument(
        "--stateless", action="store_true", help="streamable HTTP without sessions: any replica can answer any request"
    )
    group.add_argument(
        "--json-response", action="store_true", help="streamable HTTP answers with JSON bodies instead of SSE streams"
    )
    group.add_argument(
        "--auth-token",
        help="bearer token HTTP clients must send (WORKERS_AI_MCP_AUTH_TOKEN; the variable keeps it out of `ps`)",
    )
    group.add_argument(
        "--allowed-hosts",
        help="comma-separated Host header values to accept besides loopback, e.g. mcp.example.com "
        "(WORKERS_AI_MCP_ALLOWED_HOSTS)",
    )
    group.add_argument(
        "--allowed-origins",
        help="comma-separated Origin values to accept, e.g. https://app.example.com (WORKERS_AI_MCP_ALLOWED_ORIGINS)",
    )


def transport_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings given on the command line for the HTTP transports."""
    return {
        "http_auth_token": args.auth_token,
        "allowed_hosts": args.allowed_hosts,
        "allowed_origins": args.allowed_origins,
    }


def run_transport(server: MCPServer[AppState], settings: Settings, options: ServeOptions) -> int:
    """Serve until the client goes away or a signal arrives; returns the process exit code."""
    if options.transport == "stdio":  # the HTTP app is not imported for stdio: a start stays small
        return anyio.run(functools.partial(serve_stdio, server, settings.max_message_bytes))
    from .http.app import create_http_app

    check_bind(settings, options.host, options.port)
    from .http.server import ConnectionLimits, http_server

    app = create_http_app(
        server,
        settings,
        transport=options.transport,
        host=options.host,
        stateless=options.stateless,
        json_response=options.json_response,
    )
    path = "/mcp" if options.transport == "streamable-http" else "/sse"
    logger.info("MCP over %s: the endpoint is %s on the address uvicorn reports", options.transport, path)
    limits = ConnectionLimits(
        max_connections=settings.http_max_connections,
        header_timeout=settings.http_header_timeout,
        keep_alive_timeout=settings.http_keep_alive_timeout,
        max_connections_per_client=settings.http_max_connections_per_client,
        reserved_connections=settings.http_reserved_connections,
    )
    http = http_server(app, host=options.host, port=options.port, log_level=settings.log_level, limits=limits)
    anyio.run(http.serve)
    return 0


def check_bind(settings: Settings, host: str, port: int) -> None:
    """Raise `SettingsError` for a bind the server must not make."""
    from .http.app import inbound_token, is_loopback
    from .http.oauth import OAuthConfig

    if not 0 <= port <= 65535:
        raise SettingsError(f"--port must be between 0 and 65535, not {port}.")
    OAuthConfig.from_settings(settings)  # a URL the JWKS must not be fetched from is refused before binding
    if is_loopback(host):
        return
    if settings.oauth_issuer:  # every request needs an access token from the issuer (http/oauth.py)
        return
    token = inbound_token(settings)
    if not token:
        raise SettingsError(
            f"Refusing to listen on {host or 'every interface'} without an auth token: set "
            "WORKERS_AI_MCP_AUTH_TOKEN (or --auth-token) so clients must send 'Authorization: Bearer <token>', "
            "or WORKERS_AI_MCP_OAUTH_ISSUER and WORKERS_AI_MCP_OAUTH_AUDIENCE for OAuth, or bind 127.0.0.1."
        )
    if len(token) < MIN_PUBLIC_TOKEN:
        raise SettingsError(
            f"Refusing to listen on {host} with an auth token of {len(token)} characters: use at least "
            f"{MIN_PUBLIC_TOKEN}, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )


# ---- stdio -----------------------------------------------------------------------------------


async def serve_stdio(server: MCPServer[AppState], max_line: int = DEFAULT_MAX_LINE) -> int:
    """Serve one client over stdin/stdout until stdin closes, SIGINT or SIGTERM.

    Every line that is not a JSON-RPC message gets a JSON-RPC error, every other line is parsed once
    and handed to the server as a message; answers are written by the event loop itself, with fd 1
    pointing at stderr meanwhile (see `stdio.py`).
    """
    if sys.platform == "win32":
        await server.run_stdio_async()
        return 0
    messages = CheckedMessages(StdinLines(sys.stdin.fileno(), max_line=max_line))
    into_server, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write, out_of_server = anyio.create_memory_object_stream[SessionMessage](0)
    with claimed_stdout() as wire:
        async with anyio.create_task_group() as writing:
            writing.start_soon(write_messages, out_of_server, wire)
            # `write` is closed once serving ends: the writer writes what is left, then stops.
            async with write, anyio.create_task_group() as group:
                group.start_soon(_cancel_on_signal, group.cancel_scope)
                group.start_soon(messages.pump, into_server, write)
                await serve_streams(server, read, write)
                group.cancel_scope.cancel()
            writing.cancel_scope.deadline = anyio.current_time() + LAST_WRITES_SECONDS  # a client not reading
    return 0


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("Received %s; shutting down", signal.Signals(signum).name)
            scope.cancel()
            return
