"""`create_server`: the one place that wires settings, the Workers AI client and the tools."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager

import httpx2
from mcp.server import MCPServer
from pydantic import SecretStr

from . import __version__
from .client import WorkersAIClient, create_http_client
from .inference import WorkersAI
from .media.outputs import OutputStore
from .settings import Settings, SettingsError
from .state import AppState
from .tools import audio, batch, catalog, embeddings, generic, images, language, outputs, text, usage, vision
from .tools.host.registry import Registry

TOOL_MODULES = (text, language, embeddings, generic, catalog, vision, images, audio, batch, usage, outputs)

EMULATOR_BASE = "http://emulator.invalid"

INSTRUCTIONS = (
    "Tools for Cloudflare Workers AI: chat and completion with other models, embeddings and ranking, "
    "translation, summarization, text and image classification, object detection, image description, "
    "speech-to-text, image and speech generation, any catalog model (run_model) and the catalog itself "
    "(list_models, get_model_schema). Every model call is billed to the user's Cloudflare account; "
    "call them when the user's request needs them. Generated files are saved in the output folder and "
    "can be passed by path to the next tool."
)


def create_server(settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> MCPServer[AppState]:
    """Build the MCP server; nothing is read or connected until its lifespan starts."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncGenerator[AppState]:
        effective, mounts = emulated(settings)
        client = WorkersAIClient(
            effective,
            lambda: create_http_client(effective, transport, mounts=mounts()),  # made on the first call
        )
        ai = WorkersAI(effective, client)
        try:
            yield AppState(settings=effective, ai=ai, outputs=OutputStore(effective.output_dir))
        finally:
            await ai.aclose()

    registry = Registry(settings.tools)
    for module in TOOL_MODULES:
        module.register(registry)
    if unknown := registry.unknown():
        raise SettingsError(
            f"WORKERS_AI_MCP_TOOLS (--tools) names unknown tools: {', '.join(unknown)}. "
            f"Available: {', '.join(sorted(registry.names))}."
        )
    server = MCPServer[AppState](
        "workers-ai-mcp",
        title="Cloudflare Workers AI",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://developers.cloudflare.com/workers-ai/",
        lifespan=lifespan,
        log_level=settings.log_level,
        tools=registry.tools,
    )
    registry.install(server)
    return server


def emulated(settings: Settings) -> tuple[Settings, Callable[[], dict[str, httpx2.AsyncBaseTransport]]]:
    """With `--emulator`, Workers AI calls go to the in-process emulator; media URLs still use the network.

    Returns the effective settings and a function giving the transports to mount when the HTTP client
    is made.
    """
    if not settings.emulator:
        return settings, dict

    def mounts() -> dict[str, httpx2.AsyncBaseTransport]:
        from .emulator import create_emulator_app

        return {EMULATOR_BASE: httpx2.ASGITransport(app=create_emulator_app())}

    from .emulator import EMULATOR_TOKEN

    effective = settings.model_copy(
        update={
            "base_url": f"{EMULATOR_BASE}/client/v4",
            "gateway_url": f"{EMULATOR_BASE}/v1",
            "api_token": SecretStr(EMULATOR_TOKEN),
            "account_id": "emulator",
            # Emulated calls are not the account's: their spending and batches never mix with real ones.
            "state_dir": settings.state_dir / "emulator",
        }
    )
    return effective, mounts
