"""Packaging fixtures: the repository's files, the live server's tools, an emulator on a loopback socket."""

from __future__ import annotations

import importlib.util
import json
import socket
import tomllib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import uvicorn
from mcp import Client
from mcp.types import Tool

from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app
from workers_ai_mcp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.json"


def read_manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def read_pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def load_script(name: str) -> ModuleType:
    """A module from scripts/ (they are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def live_tools() -> list[Tool]:
    """tools/list of the server with default settings in emulator mode, through an in-memory client."""
    settings = Settings(_env_file=None, emulator=True)  # pyright: ignore[reportCallIssue]
    async with Client(create_server(settings)) as client:
        return (await client.list_tools()).tools


@asynccontextmanager
async def loopback_emulator(emulator_state: EmulatorState) -> AsyncGenerator[str]:
    """The emulator on 127.0.0.1 (for subprocesses); yields its API base URL.

    The socket listens before uvicorn starts, so early connections wait in the backlog: no polling.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_emulator_app(emulator_state), log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        try:
            yield f"http://127.0.0.1:{port}/client/v4"
        finally:
            server.should_exit = True
    sock.close()
