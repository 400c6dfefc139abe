"""The tasks extension on the SDK's public `Extension` API: tool calls answered with a task, and `tasks/*`.

On 2026-07-28, a `tools/call` from a client that declared `io.modelcontextprotocol/tasks` in the
request's capabilities, for a call `policy.worth_a_task` picks, is answered with a `CreateTaskResult`
once the task is in the store; the call then runs in the background (`runner.py`). The client drives
`tasks/get`, `tasks/update` and `tasks/cancel` (SEP-2663). The same methods serve 2025-11-25 sessions,
whose calls become tasks through `legacy.py`, with that revision's `tasks/get`, `tasks/result`,
`tasks/list` and `tasks/cancel`. Any other call, and every call of a client that declared no tasks,
goes the synchronous way it always did. A task is its maker's: `tasks/*` from another user (another
OAuth subject) get the answer an unknown task gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolRequestParams, PaginatedRequestParams, RequestParams
from mcp_types import methods
from pydantic import BaseModel, Field

from ....state import AppState
from .policy import worth_a_task
from .runner import TaskRunner, task_context

if TYPE_CHECKING:  # the store (sqlite3, spending) is imported when a task is first asked for
    from .store import TaskRecord, TaskStore
from .wire import LEGACY, MODERN, legacy_payload, legacy_task, modern_task

EXTENSION_ID = "io.modelcontextprotocol/tasks"
POLL_INTERVAL_MS = 1000
PAGE_SIZE = 50
# How often a blocking `tasks/result` looks at the store (the task may run in another process).
RESULT_POLL_SECONDS = 0.2


class TaskParams(RequestParams):
    task_id: str = Field(alias="taskId", min_length=1, max_length=200)


class UpdateTaskParams(TaskParams):
    input_responses: dict[str, Any] = Field(default_factory=dict[str, Any], alias="inputResponses")


class TasksExtension(Extension):
    """Tasks for long tool calls, in both protocol eras (see the module docstring)."""

    identifier = EXTENSION_ID

    def __init__(self) -> None:
        self.runner = TaskRunner()
        self._stores: dict[int, TaskStore] = {}

    def methods(self) -> Sequence[MethodBinding]:
        both = frozenset({MODERN, LEGACY})
        return (
            MethodBinding("tasks/get", TaskParams, self._get, protocol_versions=both),
            MethodBinding("tasks/cancel", TaskParams, self._cancel, protocol_versions=both),
            MethodBinding("tasks/update", UpdateTaskParams, self._update, protocol_versions=frozenset({MODERN})),
            MethodBinding("tasks/result", TaskParams, self._result, protocol_versions=frozenset({LEGACY})),
            MethodBinding("tasks/list", PaginatedRequestParams, self._list, protocol_versions=frozenset({LEGACY})),
        )

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.protocol_version != MODERN or not self.runner.ready or not _declared(ctx):
            return await call_next(ctx)
        state: AppState = ctx.lifespan_context
        if not await worth_a_task(state, params.name, params.arguments or {}):
            return await call_next(ctx)
        store = self.store(state)
        record = await store.create(params.name, MODERN, ttl_ms(state), POLL_INTERVAL_MS, caller_id())

        async def work() -> dict[str, Any]:
            result = await call_next(task_context(ctx, lambda text: self.note(store, record.task_id, text), None))
            return wire_result(result, MODERN)

        self.runner.start(store, record, work)
        return modern_task(record, created=True)

    def store(self, state: AppState) -> TaskStore:
        """The task store over the state's shared store (made with the Workers AI account)."""
        from .store import TaskStore

        shared = state.ai.spending.store
        found = self._stores.get(id(shared))
        if found is None or found.store is not shared:
            found = self._stores[id(shared)] = TaskStore(shared)
        return found

    async def note(self, store: TaskStore, task_id: str, text: str) -> None:
        """A progress report: the task's status message; a task ended elsewhere (cancelled) stops here."""
        if not await store.note(task_id, text):
            self.runner.stop_if_cancelled(task_id)

    # ---- tasks/* ------------------------------------------------------------------------------

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        record = await self._find(ctx, params.task_id)
        return modern_task(record) if ctx.protocol_version == MODERN else legacy_task(record)

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> dict[str, Any]:
        await self._find(ctx, params.task_id)
        return {}  # no task here asks for input, so every response is for a key that is not outstanding

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        record = await self._find(ctx, params.task_id)
        if ctx.protocol_version == MODERN:
            if not record.terminal:
                await self.runner.cancel(self.store(ctx.lifespan_context), record)
            return {}
        if record.terminal:  # 2025-11-25: a task that already ended cannot be cancelled
            raise MCPError(code=INVALID_PARAMS, message=f"Task {record.task_id} has already ended ({record.status}).")
        return legacy_task(await self.runner.cancel(self.store(ctx.lifespan_context), record))

    async def _result(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        record = await self._find(ctx, params.task_id)
        while not record.terminal:  # 2025-11-25: tasks/result waits for the end
            await anyio.sleep(RESULT_POLL_SECONDS)
            record = await self._find(ctx, params.task_id)
        if record.status == "completed":
            return legacy_payload(record)
        if record.status == "failed" and record.error is not None:
            raise MCPError(code=int(record.error.get("code", -32603)), message=str(record.error.get("message", "")))
        raise MCPError(code=INVALID_PARAMS, message=f"Task {record.task_id} was cancelled; it has no result.")

    async def _list(self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams) -> dict[str, Any]:
        before = _cursor(params.cursor)
        records = await self.store(ctx.lifespan_context).list(LEGACY, PAGE_SIZE + 1, before, caller_id())
        page = records[:PAGE_SIZE]
        listed: dict[str, Any] = {"tasks": [legacy_task(record) for record in page]}
        if len(records) > PAGE_SIZE:
            listed["nextCursor"] = repr(page[-1].created)
        return listed

    async def _find(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> TaskRecord:
        if ctx.protocol_version == MODERN:
            require_client_extension(ctx, EXTENSION_ID)  # SEP-2663: -32021 for a client that declared none
        record = await self.store(ctx.lifespan_context).get(task_id, caller_id())
        if record is None:  # unknown, expired, or another user's: the same answer
            raise MCPError(
                code=INVALID_PARAMS,
                message="Failed to retrieve task: task not found (unknown, or past its time-to-live and removed).",
            )
        return record


def caller_id() -> str:
    """The user of the request in progress (`tools/host/callers.py` set it), who makes and reads its tasks."""
    from ....spending.caller import current_caller

    return current_caller().user_id


def _declared(ctx: ServerRequestContext[Any, Any]) -> bool:
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and EXTENSION_ID in capabilities.extensions)


def ttl_ms(state: AppState) -> int:
    return int(state.settings.task_ttl * 1000)


def wire_result(result: HandlerResult, version: str) -> dict[str, Any]:
    """The tool call's result as the synchronous answer carries it (the protocol version's shape)."""
    dumped: dict[str, Any]
    if isinstance(result, BaseModel):
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    elif isinstance(result, dict):
        dumped = dict(result)  # pyright: ignore[reportUnknownArgumentType]
    else:
        raise TypeError(f"a tool call gave {type(result).__name__}")
    return methods.serialize_server_result("tools/call", version, dumped)


def _cursor(cursor: str | None) -> float | None:
    if cursor is None:
        return None
    try:
        return float(cursor)
    except ValueError:
        raise MCPError(
            code=INVALID_PARAMS, message="Invalid cursor: use the nextCursor of a tasks/list answer."
        ) from None
