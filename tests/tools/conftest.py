"""Fixtures of the tool tests: `wire` records what our server sends; `call` runs one tool in a fresh session."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import CallToolResult
from starlette.applications import Starlette

from support.session import open_session
from support.text_tools import Call, Wire
from workers_ai_mcp.settings import Settings


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def call(settings: Settings, emulator_app: Starlette, wire: Wire) -> Call:
    """Call one tool in a fresh MCP session whose HTTP traffic `wire` records.

    `legacy=True` puts the progress token in `_meta`, where the tool can see it.
    """

    async def call_tool(
        name: str, arguments: dict[str, Any], *, legacy: bool = False, progress: ProgressFnT | None = None
    ) -> CallToolResult:
        with anyio.fail_after(10):
            mode = "legacy" if legacy else "auto"
            async with open_session(settings, upstream=wire.transport(emulator_app), mode=mode) as client:
                return await client.call_tool(name, arguments, progress_callback=progress)

    return call_tool
