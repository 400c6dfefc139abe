"""Shared fixtures: an emulator, settings pointing at it, and an MCP client session on our server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from pydantic import SecretStr
from starlette.applications import Starlette

from workers_ai_mcp.app import create_server
from workers_ai_mcp.client import retry
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, create_emulator_app
from workers_ai_mcp.settings import Settings

pytest_plugins = ["text_tools_support"]  # the `wire` and `call` fixtures of the text tools' tests

EMULATOR_URL = "http://emulator.test"
SHARED_MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "workers-ai-models"
# Suites that exist to check us against Cloudflare's published model files, which live beside the checkout.
_CATALOG_SUITES = ("conformance", "test_emulator_contract.py", "test_catalog_snapshot.py")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without the published model files, leave the catalog suites out (CI has them and always runs them)."""
    if SHARED_MODELS.is_dir() or os.environ.get("CI"):
        return None
    return True if any(part in _CATALOG_SUITES for part in collection_path.parts) else None


def pytest_report_header(config: pytest.Config) -> str | None:
    if SHARED_MODELS.is_dir():
        return None
    return (
        f"Cloudflare's published model files are not at {SHARED_MODELS}: the catalog conformance and emulator "
        "contract suites are left out of this run (CI runs them; set CI=1 to require them)."
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test sees the developer's Cloudflare or server settings."""
    for name in list(os.environ):
        if name.startswith(("CLOUDFLARE_", "WORKERS_AI_")):
            monkeypatch.delenv(name)
    # Servers built from bare Settings(), and subprocesses that inherit the environment, keep state in tmp.
    monkeypatch.setenv("WORKERS_AI_MCP_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env is read
    yield


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off by zero seconds in tests (Retry-After headers still count)."""
    monkeypatch.setattr(retry, "INITIAL_DELAY", 0.0)


@pytest.fixture
def emulator_state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
def emulator_app(emulator_state: EmulatorState) -> Starlette:
    return create_emulator_app(emulator_state)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "api_token": SecretStr(EMULATOR_TOKEN),
        "account_id": "test-account",
        "base_url": f"{EMULATOR_URL}/client/v4",
        "gateway_url": f"{EMULATOR_URL}/v1",
        "output_dir": tmp_path / "outputs",
        "state_dir": tmp_path / "state",
        "input_roots": [tmp_path],
        "timeout": 10.0,
    }
    values.update(overrides)
    return Settings(**values)  # pyright: ignore[reportArgumentType]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@asynccontextmanager
async def held_open(client: Client) -> AsyncIterator[Client]:
    """Keep `client` open in a task of its own, so that a fixture may enter and leave it from different tasks."""
    opened = asyncio.Event()
    finished = asyncio.Event()

    async def hold() -> None:
        async with client:
            opened.set()
            await finished.wait()

    task = asyncio.create_task(hold())
    opening = asyncio.create_task(opened.wait())
    await asyncio.wait({task, opening}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        opening.cancel()
        task.result()  # raises what went wrong while connecting
    try:
        yield client
    finally:
        finished.set()
        await task


@pytest.fixture
async def mcp_client(settings: Settings, emulator_app: Starlette) -> AsyncIterator[Client]:
    """A real MCP client session (in memory) on our server, backed by the emulator."""
    server = create_server(settings, transport=httpx2.ASGITransport(app=emulator_app))
    async with held_open(Client(server, raise_exceptions=True)) as client:
        yield client
