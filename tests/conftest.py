"""Shared fixtures: a clean environment, an emulator, settings pointing at it, and an MCP session on our server.

Helpers live in `support/`; this file holds only hooks and fixtures.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mcp import Client
from starlette.applications import Starlette

from support.postgres import BACKENDS, StateHome, state_home
from support.session import held_open, open_session
from support.settings import SHARED_MODELS, make_settings
from workers_ai_mcp.client import retry
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app
from workers_ai_mcp.settings import Settings

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def mcp_client(settings: Settings, emulator_app: Starlette) -> AsyncIterator[Client]:
    """A real MCP client session (in memory) on our server, backed by the emulator."""
    async with held_open(open_session(settings, upstream=emulator_app, raise_exceptions=True)) as client:
        yield client


@pytest.fixture(params=BACKENDS)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateHome]:
    """The state store's home, once in a SQLite file and once in a PostgreSQL schema (support/postgres.py)."""
    with state_home(request.param, tmp_path) as home:
        yield home
