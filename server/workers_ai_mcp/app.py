"""`create_server`: the one place that wires settings, the Workers AI client and the tools.

A start imports little: the tools are listed from their kept entries (`tools/host/listed.py`) and
their modules load on the first request that needs them; the lifespan state makes the Workers AI
account (client, catalog, spending store) on its first use (`DeferredState`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult
from mcp.types import Resource as MCPResource
from mcp.types import ResourceTemplate as MCPResourceTemplate
from pydantic import AnyUrl, SecretStr

from . import __version__
from .settings import Settings, SettingsError
from .state import AppState
from .tools.host.apps import link_viewed_tools, viewer_extension
from .tools.host.callers import callers
from .tools.host.changes import ListenedBus, ResourceChanges
from .tools.host.icons import SERVER_ICONS, IconsByVersion
from .tools.host.listed import ToolLoader
from .tools.host.surface import add_completions, add_prompts, check_cursors, page_resources
from .tools.host.tasks import TasksExtension, legacy_tasks
from .transports.sdk_private import advertise_resource_changes, connection_of, lowlevel_server

if TYPE_CHECKING:
    from .inference import WorkersAI
    from .media.outputs import OutputStore
    from .tools.host.registry import Registry

# The tool modules, in tools/list order; each has `register(registry)`.
TOOL_MODULE_NAMES = tuple(
    f"{__package__}.tools.{name}"
    for name in (
        "text", "language", "embeddings", "generic", "catalog", "adapters", "documents", "search", "vision",
        "images", "audio", "batch", "usage", "estimate", "outputs",
    )
)  # fmt: skip

EMULATOR_BASE = "http://emulator.invalid"

INSTRUCTIONS = (
    "Tools for Cloudflare Workers AI: chat and completion with other models, embeddings and ranking, "
    "translation, summarization, text and image classification, object detection, image description, "
    "speech-to-text, image and speech generation, any catalog model (run_model) and the catalog itself "
    "(list_models, get_model_schema, list_finetunes), documents to Markdown (to_markdown) and the user's "
    "AI Search indexes. Every model call is billed to the user's Cloudflare account; "
    "call them when the user's request needs them. Generated files are saved in the output folder and "
    "can be passed by path to the next tool."
)


def create_server(settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None) -> MCPServer[AppState]:
    """Build the MCP server; nothing is read or connected until its lifespan starts."""

    tasks = TasksExtension()  # long calls as tasks, for hosts that declare them (tools/host/tasks/)

    @asynccontextmanager
    async def open_state() -> AsyncGenerator[AppState]:
        effective, mounts = emulated(settings)
        state = DeferredState(effective, lambda: account(effective, transport, mounts))
        try:
            async with tasks.runner.running():
                yield state
        finally:
            if state.made:
                await state.ai.aclose()

    loader = ToolLoader(TOOL_MODULE_NAMES, settings.tools)
    tools = loader.listed()
    if unknown := sorted(set(settings.tools or ()) - set(loader.names)):
        raise SettingsError(
            f"WORKERS_AI_MCP_TOOLS (--tools) names unknown tools: {', '.join(unknown)}. "
            f"Available: {', '.join(sorted(loader.names))}."
        )
    shared = SharedLifespan(open_state)
    bus = ListenedBus()
    server = WorkersAIServer(
        loader,
        shared,
        "workers-ai-mcp",
        title="Cloudflare Workers AI",
        version=__version__,
        instructions=INSTRUCTIONS,
        website_url="https://developers.cloudflare.com/workers-ai/",
        icons=SERVER_ICONS,
        lifespan=shared,
        log_level=settings.log_level,
        tools=tools,
        extensions=[tasks, viewer_extension()] if settings.apps else [tasks],
        subscriptions=bus,
    )
    lowlevel_server(server).middleware.append(callers)  # whose request: before any task is made
    lowlevel_server(server).middleware.append(legacy_tasks(tasks))
    add_prompts(server, server.tool_names)
    add_completions(server, lambda: shared.state)
    lowlevel = lowlevel_server(server)
    check_cursors(lowlevel)
    page_resources(lowlevel, server.list_resources)
    changes = ResourceChanges(server, bus, lambda: shared.state, connection_of)
    changes.install(lowlevel)
    lowlevel.middleware.append(changes.middleware)
    advertise_resource_changes(lowlevel)
    if settings.apps:
        link_viewed_tools(lowlevel)
    lowlevel.middleware.append(IconsByVersion())
    return server


def account(
    settings: Settings,
    transport: httpx2.AsyncBaseTransport | None,
    mounts: Callable[[], dict[str, httpx2.AsyncBaseTransport]],
) -> tuple[WorkersAI, OutputStore]:
    """The Workers AI account (the HTTP client is made on its first call) and the output folder."""
    from .client import WorkersAIClient, create_http_client
    from .inference import WorkersAI
    from .media.outputs import OutputStore

    client = WorkersAIClient(settings, lambda: create_http_client(settings, transport, mounts=mounts()))
    return WorkersAI(settings, client), OutputStore(settings.output_dir)


class DeferredState(AppState):
    """The lifespan state; its Workers AI account and output store are made when a tool first asks."""

    def __init__(self, settings: Settings, make: Callable[[], tuple[WorkersAI, OutputStore]]) -> None:
        self.settings = settings
        self._make = make

    @property
    def made(self) -> bool:
        return "ai" in vars(self)

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: `ai` and `outputs` until made
        if name in ("ai", "outputs"):
            self.ai, self.outputs = self._make()
            return vars(self)[name]
        raise AttributeError(name)


class WorkersAIServer(MCPServer[AppState]):
    """`MCPServer` whose resources/list and resources/read add what the tool modules registered for them
    (`Registry.list_resources_with`, `Registry.retype_reads_with`), through the SDK's public methods that
    its request handlers call; no middleware, so no other request passes through this."""

    def __init__(self, loader: ToolLoader, shared: SharedLifespan, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tool_names = frozenset(tool.name for tool in kwargs.get("tools") or ())
        self._loader = loader
        self._shared = shared
        self._installed = False

    def registry(self) -> Registry:
        """The tool modules' registry, loaded (and its resources added to the server) on first need."""
        registry = self._loader.load()
        if not self._installed:
            registry.install(self)
            self._installed = True
        return registry

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        if name not in self.tool_names:  # a protocol error (-32602), not a tool's error result
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}")
        self.registry()
        return await super().call_tool(name, arguments, context)

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[AppState, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        if name not in {prompt.name for prompt in await self.list_prompts()}:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}")
        return await super().get_prompt(name, arguments, context)

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        untyped = self.registry().untyped  # templates of many types: no one MIME type claimed for them
        listed = await super().list_resource_templates()
        return [t.model_copy(update={"mime_type": None}) if t.uri_template in untyped else t for t in listed]

    async def list_resources(self) -> list[MCPResource]:
        registry = self.registry()
        listed = await super().list_resources()
        state = self._shared.state
        if state is None:  # not serving: only the fixed resources
            return listed
        present = {str(resource.uri) for resource in listed}
        for lister in registry.listers:
            extra = await lister(self, state)
            listed += [resource for resource in extra if str(resource.uri) not in present]
            present |= {str(resource.uri) for resource in extra}
        return listed

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[AppState, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        registry = self.registry()
        contents = await super().read_resource(uri, context)
        if isinstance(contents, InputRequiredResult):
            return contents
        typed = list(contents)
        for retyper in registry.retypers:
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
            "state_schema": f"{settings.state_schema}_emulator",
        }
    )
    return effective, mounts


def tool_modules() -> tuple[ModuleType, ...]:
    """The tool modules, imported (in tools/list order)."""
    import importlib

    return tuple(importlib.import_module(name) for name in TOOL_MODULE_NAMES)
