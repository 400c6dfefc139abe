"""What every tool module shares: the typed context, annotations, the registration of model tools.

Error translation is not here: `HostTool.run` does it for every tool (see tool.py)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from ...state import AppState
from .registry import Registry

AppContext = Context[AppState]

# Inference: billed to the account, so not read-only (a host that auto-approves read-only tools must not
# spend without asking); it destroys nothing, and talks to Cloudflare.
INFERENCE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
# Catalog look-ups: free and repeatable, so read-only.
CATALOG = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
# Billed tools that also write a file into the output folder (generated media).
WRITES_OUTPUT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)

COST_NOTE = "Billed to the Cloudflare account."


def add_inference_tool(
    server: Registry,
    fn: Callable[..., Awaitable[Any]],
    *,
    title: str,
    annotations: ToolAnnotations = INFERENCE,
    structured_output: bool | None = None,
) -> None:
    """Register a tool that runs a model: its docstring plus the cost note is its description."""
    server.add_tool(
        fn,
        title=title,
        description=f"{inspect.cleandoc(fn.__doc__ or '')} {COST_NOTE}",
        annotations=annotations,
        structured_output=structured_output,
    )


def model_param() -> Any:
    """`Field` for the optional `model` parameter every task tool has (the client checks the id's shape)."""
    return Field(default=None, description="Model id; default if omitted.")


def state_of(ctx: AppContext) -> AppState:
    """The lifespan state: settings, the Workers AI account, the output store."""
    return ctx.request_context.lifespan_context
