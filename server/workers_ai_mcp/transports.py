"""Serving the MCP server: stdio (default), legacy SSE, streamable HTTP."""

from __future__ import annotations

import argparse
from typing import Any

from mcp.server import MCPServer

from .settings import Settings
from .state import AppState


def add_transport_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport", choices=["stdio", "sse", "streamable-http"], default="stdio", help="how clients connect"
    )


def transport_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings given on the command line for the HTTP transports."""
    return {}


def run_transport(server: MCPServer[AppState], settings: Settings, args: argparse.Namespace) -> int:
    """Serve until the client goes away; returns the process exit code."""
    server.run("stdio")
    return 0
