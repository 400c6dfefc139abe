"""What every tool module shares: the typed context, error translation, annotations."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from ...client import WorkersAIError
from ...state import AppState
from .advice import error_text
from .registry import Registry

P = ParamSpec("P")
R = TypeVar("R")

AppContext = Context[AppState]

# Inference: reads nothing local, changes nothing, talks to Cloudflare.
INFERENCE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
# Catalog look-ups: free and repeatable.
CATALOG = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
# Tools that write a file into the output folder (generated media).
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


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn every anticipated failure into a `ToolError` whose text the assistant can act on."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except WorkersAIError as exc:
            raise ToolError(error_text(exc)) from None

    return wrapper
