"""`create_server`: the one place that wires settings, the Workers AI client and the tools."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.types import InputRequiredResult
from mcp.types import Resource as MCPResource
from pydantic import AnyUrl, SecretStr

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
    async def open_state() -> AsyncGenerator[AppState]:
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
    shared = SharedLifespan(open_state)
    server = WorkersAIServer(
        registry,
        shared,
        "workers-ai-mcp",
        title="Cloudflare Workers AI",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://developers.cloudflare.com/workers-ai/",
        lifespan=shared,
        log_level=settings.log_level,
        tools=registry.tools,
    )
    registry.install(server)
    return server


class WorkersAIServer(MCPServer[AppState]):
    """`MCPServer` whose resources/list and resources/read add what the tool modules registered for them
    (`Registry.list_resources_with`, `Registry.retype_reads_with`), through the SDK's public methods that
    its request handlers call; no middleware, so no other request passes through this."""

    def __init__(self, registry: Registry, shared: SharedLifespan, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registry = registry
        self._shared = shared

    async def list_resources(self) -> list[MCPResource]:
        listed = await super().list_resources()
        state = self._shared.state
        if state is None:  # not serving: only the fixed resources
            return listed
        present = {str(resource.uri) for resource in listed}
        for lister in self._registry.listers:
            extra = await lister(self, state)
            listed += [resource for resource in extra if str(resource.uri) not in present]
            present |= {str(resource.uri) for resource in extra}
        return listed

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[AppState, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        contents = await super().read_resource(uri, context)
        if isinstance(contents, InputRequiredResult):
            return contents
        typed = list(contents)
        for retyper in self._registry.retypers:
            typed = retyper(str(uri), typed)
        return typed


class SharedLifespan:
    """The server lifespan, shared by every connection served at once: the first to enter opens the state
    (the Workers AI client, the spending store), the last to leave closes it.

    The SDK enters the lifespan once per served connection; over SSE that is once per client. The HTTP
    app also holds it for as long as it runs (`transports/http/app.py`), so every SSE client gets the
    one state of the process, as stdio and streamable HTTP do.
    """

    def __init__(self, open_state: Callable[[], AbstractAsyncContextManager[AppState]]) -> None:
        self._open = open_state
        self._lock = anyio.Lock()
        self._users = 0
        self._state: AppState | None = None
        self._exit: AsyncExitStack | None = None

    @property
    def state(self) -> AppState | None:
        """The state while any connection (or the HTTP app) holds the lifespan, else None."""
        return self._state

    @asynccontextmanager
    async def __call__(self, _server: object) -> AsyncGenerator[AppState]:
        async with self._lock:
            if self._users == 0:
                stack = AsyncExitStack()
                self._state = await stack.enter_async_context(self._open())
                self._exit = stack
            self._users += 1
        assert self._state is not None
        try:
            yield self._state
        finally:
            with anyio.CancelScope(shield=True):
                await self._leave()

    async def _leave(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users == 0 and self._exit is not None:
                stack, self._exit, self._state = self._exit, None, None
                await stack.aclose()


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
