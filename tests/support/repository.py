"""For the packaging tests: the repository's files, the live server's tools, an emulator on a loopback socket."""

from __future__ import annotations

import importlib.util
import json
import tomllib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from mcp.types import Tool

from support.loopback import serving
from support.session import open_session
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
    async with open_session(settings, raise_exceptions=False) as client:
        return (await client.list_tools()).tools


@asynccontextmanager
async def loopback_emulator(emulator_state: EmulatorState) -> AsyncGenerator[str]:
    """The emulator on 127.0.0.1 (for subprocesses); yields its API base URL."""
    async with serving(create_emulator_app(emulator_state)) as base:
        yield f"{base}/client/v4"


def settings_env_names() -> set[str]:
    """Every environment variable name the Settings read (each field's alias or alias choices)."""
    from pydantic import AliasChoices

    from workers_ai_mcp.settings import Settings

    names: set[str] = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return names
