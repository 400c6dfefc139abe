"""Helpers for the ops tests: an MCP session opened inside the test, and what the emulator saw."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx2
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette

from results_support import text_of as text_of
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState, RecordedRequest
from workers_ai_mcp.settings import Settings

API = "/client/v4/accounts/test-account/ai"
LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
LLAMA_FP8 = "@cf/meta/llama-3.1-8b-instruct-fp8"
BGE_BASE = "@cf/baai/bge-base-en-v1.5"
M2M = "@cf/meta/m2m100-1.2b"
BART = "@cf/facebook/bart-large-cnn"
DEPRECATED = "@cf/qwen/qwen1.5-7b-chat-awq"  # planned_deprecation_date 2025-10-01 in the published catalog


@asynccontextmanager
async def connect(settings: Settings, app: Starlette) -> AsyncGenerator[Client]:
    """A real MCP session on a fresh server. Opened in the test's own task (a fixture's setup and
    teardown run in different tasks, which anyio's cancel scopes refuse)."""
    server = create_server(settings, transport=httpx2.ASGITransport(app=app))
    async with Client(server, raise_exceptions=True) as client:
        yield client


def model_calls(state: EmulatorState) -> list[RecordedRequest]:
    """Requests that ran a model (directly or through the gateway), not catalog reads."""
    return [r for r in state.requests if "/ai/run/" in r.path or "/workers-ai/" in r.path]


def catalog_reads(state: EmulatorState) -> list[RecordedRequest]:
    return [r for r in state.requests if "/ai/models/" in r.path]


def data_of(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    structured = result.structured_content
    assert isinstance(structured, dict)
    return cast(dict[str, Any], structured)


def json_text(result: CallToolResult) -> dict[str, Any]:
    return json.loads(text_of(result))
