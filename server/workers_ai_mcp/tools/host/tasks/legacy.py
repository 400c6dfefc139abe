"""Tasks on 2025-11-25 sessions (the in-core experimental design), as one server middleware.

That revision's tasks are requestor-driven: the server declares `capabilities.tasks` at initialize
and, to a client that declared its own `tasks` capability, `execution.taskSupport` per tool in
`tools/list` (other clients get the list as before, byte for byte); a client asks for a task with the
`task` parameter of `tools/call`, which is then answered with `{"task": ...}`. None of these shapes is in the
SDK's 2025-11-25 surface (it validates every result of that era against its own schema), so they are
added here, above the SDK's validation, and only on 2025-11-25 sessions: every other session, and
every call without `task`, passes through untouched. The task runs the full call (the same
validation, tool and result shaping) in the background; `extension.py` serves `tasks/*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import METHOD_NOT_FOUND

from ....state import AppState
from .extension import POLL_INTERVAL_MS, TasksExtension, caller_id, ttl_ms
from .policy import TASK_TOOLS
from .runner import task_context
from .wire import LEGACY, legacy_task

CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}


def legacy_tasks(extension: TasksExtension) -> Any:
    """The middleware (`Server.middleware`) that gives 2025-11-25 sessions their tasks."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "initialize":
            return _with_capability(await call_next(ctx))
        if ctx.protocol_version != LEGACY:
            return await call_next(ctx)
        if ctx.method == "tools/list" and _declared(ctx):
            return _with_execution(await call_next(ctx))
        params = ctx.params or {}
        if ctx.method == "tools/call" and isinstance(params.get("task"), Mapping) and extension.runner.ready:
            return await _as_task(extension, ctx, call_next, params)
        return await call_next(ctx)

    return middleware


async def _as_task(
    extension: TasksExtension, ctx: ServerRequestContext[Any, Any], call_next: CallNext, params: Mapping[str, Any]
) -> dict[str, Any]:
    name = params.get("name")
    if name not in TASK_TOOLS:  # the revision's answer for a tool whose taskSupport is "forbidden"
        raise MCPError(code=METHOD_NOT_FOUND, message=f"Tool {name} does not run as a task; call it without `task`.")
    state: AppState = ctx.lifespan_context
    requested = cast(Mapping[str, Any], params["task"]).get("ttl")
    ttl = ttl_ms(state)
    if isinstance(requested, int) and not isinstance(requested, bool) and 0 < requested < ttl:
        ttl = requested
    store = extension.store(state)
    record = await store.create(str(name), LEGACY, ttl, POLL_INTERVAL_MS, caller_id())
    meta = params.get("_meta")
    token = cast(Mapping[str, Any], meta).get("progressToken") if isinstance(meta, Mapping) else None
    plain = {key: value for key, value in params.items() if key != "task"}
    task_ctx = task_context(
        replace(ctx, params=plain),
        lambda text: extension.note(store, record.task_id, text),
        token if isinstance(token, str | int) and not isinstance(token, bool) else None,
    )

    async def work() -> dict[str, Any]:
        result = await call_next(task_ctx)
        return dict(cast(dict[str, Any], result))

    extension.runner.start(store, record, work)
    return {"task": legacy_task(record)}


def _declared(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether the client declared the revision's `tasks` capability at initialize."""
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and capabilities.tasks is not None


def _with_capability(result: HandlerResult) -> HandlerResult:
    """The initialize answer of a 2025-11-25 session declares the revision's `tasks` capability."""
    if isinstance(result, dict) and result.get("protocolVersion") == LEGACY:
        answer = result
        capabilities = answer.get("capabilities")
        if isinstance(capabilities, dict):
            answer["capabilities"] = {**cast(dict[str, Any], capabilities), "tasks": CAPABILITY}
    return result


def _with_execution(result: HandlerResult) -> HandlerResult:
    """`tools/list` marks the tools a 2025-11-25 client may call as tasks (`taskSupport: "optional"`)."""
    if isinstance(result, dict):
        tools: Any = result.get("tools") or ()
        for tool in cast(list[Any], tools):
            entry = cast(dict[str, Any], tool) if isinstance(tool, dict) else {}
            if entry.get("name") in TASK_TOOLS:
                entry["execution"] = {"taskSupport": "optional"}
    return result
