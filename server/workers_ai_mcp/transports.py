"""Serving the MCP server: stdio (default), legacy SSE, streamable HTTP.

stdio ends on stdin EOF, SIGINT or SIGTERM: in-flight tool calls are cancelled and the Workers AI
client is closed before the process exits. The HTTP transports run uvicorn under our control
(no access log, logs through our redacting stderr handler, a short grace period on shutdown)
and refuse a non-loopback address unless an inbound bearer token is configured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import stat
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer

from .settings import Settings, SettingsError
from .state import AppState

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Seconds uvicorn lets open requests finish after a signal before cancelling them.
SHUTDOWN_GRACE = 3
# Shortest inbound token accepted on an address other machines can reach.
MIN_PUBLIC_TOKEN = 16
_CHUNK = 65536


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


def run_transport(server: MCPServer[AppState], settings: Settings, args: argparse.Namespace) -> int:
    """Serve until the client goes away or a signal arrives; returns the process exit code."""
    if args.transport == "stdio":
        return anyio.run(serve_stdio, server)
    check_bind(settings, args.host, args.port)
    from .http_app import create_http_app

    app = create_http_app(
        server,
        settings,
        transport=args.transport,
        host=args.host,
        stateless=args.stateless,
        json_response=args.json_response,
    )
    path = "/mcp" if args.transport == "streamable-http" else "/sse"
    logger.info("MCP over %s: the endpoint is %s on the address uvicorn reports", args.transport, path)
    http = http_server(app, host=args.host, port=args.port, log_level=settings.log_level)
    anyio.run(http.serve)
    return 0


def check_bind(settings: Settings, host: str, port: int) -> None:
    """Raise `SettingsError` for a bind the server must not make."""
    from .http_app import inbound_token, is_loopback

    if not 0 <= port <= 65535:
        raise SettingsError(f"--port must be between 0 and 65535, not {port}.")
    if is_loopback(host):
        return
    token = inbound_token(settings)
    if not token:
        raise SettingsError(
            f"Refusing to listen on {host or 'every interface'} without an auth token: set "
            "WORKERS_AI_MCP_AUTH_TOKEN (or --auth-token) so clients must send 'Authorization: Bearer <token>', "
            "or bind 127.0.0.1."
        )
    if len(token) < MIN_PUBLIC_TOKEN:
        raise SettingsError(
            f"Refusing to listen on {host} with an auth token of {len(token)} characters: use at least "
            f"{MIN_PUBLIC_TOKEN}, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )


# ---- HTTP ------------------------------------------------------------------------------------


def http_server(app: ASGIApp, *, host: str, port: int, log_level: str) -> uvicorn.Server:
    """A uvicorn server for `app`: no access log, our logging, exit code left to us."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None]:
            # uvicorn re-raises the captured signal after its graceful shutdown, which would
            # kill the process by SIGTERM instead of letting it exit with status 0.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            from uvicorn.server import HANDLED_SIGNALS

            originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _DropCancelledRequests) for existing in errors.filters):
        errors.addFilter(_DropCancelledRequests())
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,  # no handlers of uvicorn's own (its access log would write to stdout)
        log_level=log_level.lower(),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return Server(config)


class _DropCancelledRequests(logging.Filter):
    """uvicorn logs a full traceback for each request it cancels when the grace period ends; its own
    "Cancel N running task(s)" line already says so, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


# ---- stdio -----------------------------------------------------------------------------------


async def serve_stdio(server: MCPServer[AppState]) -> int:
    """Serve one client over stdin/stdout until stdin closes, SIGINT or SIGTERM."""
    if sys.platform == "win32":
        await server.run_stdio_async()
        return 0
    from mcp.server.stdio import stdio_server

    lowlevel = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_signal, group.cancel_scope)
        async with stdio_server(stdin=StdinLines(sys.stdin.fileno())) as (read, write):
            await lowlevel.run(read, write, lowlevel.create_initialization_options())
        group.cancel_scope.cancel()
    return 0


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            logger.info("Received %s; shutting down", signal.Signals(signum).name)
            scope.cancel()
            return


class StdinLines(anyio.AsyncFile[str]):
    """Lines of a file descriptor, read so that cancellation interrupts a wait for input.

    The SDK reads stdin in a worker thread that cannot be cancelled, so a signal could not end
    the server while the client keeps stdin open; pipes and terminals are polled instead.
    """

    def __init__(self, fd: int) -> None:
        super().__init__(io.StringIO())
        self._fd = fd
        self._buffer = bytearray()
        self._eof = False
        self._poll = not _is_regular_file(fd)

    async def readline(self) -> str:
        searched = 0  # a long line (a base64 image) arrives in many chunks; scan each byte once
        while (newline := self._buffer.find(b"\n", searched)) < 0 and not self._eof:
            searched = len(self._buffer)
            chunk = await self._read_chunk()
            self._buffer += chunk
            self._eof = not chunk
        end = newline + 1 if newline >= 0 else len(self._buffer)
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return line.decode("utf-8", "replace")

    async def _read_chunk(self) -> bytes:
        while True:
            if self._poll:
                try:
                    await anyio.wait_readable(self._fd)
                except OSError:  # e.g. /dev/null, which cannot be polled but never blocks
                    self._poll = False
                    continue
            try:
                if self._poll:
                    return os.read(self._fd, _CHUNK)
                return await anyio.to_thread.run_sync(os.read, self._fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                return b""


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False
