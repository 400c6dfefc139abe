"""Tools of the generic family (being written)."""

from __future__ import annotations

from mcp.server import MCPServer

from ..state import AppState


def register(server: MCPServer[AppState]) -> None:
    """Add this family's tools to `server`."""
