"""Running a tool call as a task: the same tool code, in the background, its end written to the task store.

The server's lifespan holds the runner (`TaskRunner.running`); each task runs under a cancel scope
of its own, so `tasks/cancel` cancels the work where it waits, which is the upstream
HTTP request: httpx2 drops it, the spending guard releases its reservation, and nothing is recorded
as spent. A task cancelled through another process's store is noticed at its next progress report
(a heartbeat every 2 s while a model works). When the server stops, the tasks still working are
cancelled and written as failed with a sentence, so their `tasks/get` says what happened.

Progress still flows: every progress report of the tool becomes the task's status message (what
`tasks/get` shows), and on 2025-11-25 sessions also the `notifications/progress` the original
request asked for (its token stays valid for the task's life, as that revision says).

A task runs as the caller of the call that made it (`spending/caller.py`): its model calls are checked
against that user's budgets and counted as theirs, whoever polls it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, ProgressToken

if TYPE_CHECKING:  # the store (sqlite3, spending) is imported when the first task is made
    from .store import TaskRecord, TaskStore

logger = logging.getLogger(__name__)

STOPPED = "The server stopped before this task finished; nothing was recorded as spent unless it was answered."
FAILED = "The task failed inside the server; the server log has the details."


class TaskRunner:
    """The background tasks of one server, and the cancel scope of each.

    Each task is an asyncio task of its own rather than a child of a task group held by the lifespan:
    the lifespan is left inside a shielded cancel scope (`app.SharedLifespan`), and a task group must
    be left in the scope it was entered in. Cancellation goes through each task's anyio cancel scope.
    """

    def __init__(self) -> None:
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._scopes: dict[str, anyio.CancelScope] = {}

    @asynccontextmanager
    async def running(self) -> AsyncGenerator[None]:
        """Run tasks for the server's life; tasks still working at the end are stopped (and say so)."""
        self._running = True
        try:
            yield
        finally:
            self._running = False
            for scope in list(self._scopes.values()):
                scope.cancel()
            if self._tasks:
                with anyio.CancelScope(shield=True):
                    await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def ready(self) -> bool:
        return self._running

    def start(self, store: TaskStore, record: TaskRecord, work: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """Run `work` (the tool call, giving its wire result) as task `record`."""
        from ....spending.caller import acting_as, current_caller

        assert self._running, "tasks run only while the server runs"
        scope = anyio.CancelScope()
        self._scopes[record.task_id] = scope
        caller = current_caller()

        async def as_caller() -> dict[str, Any]:
            with acting_as(caller):  # the maker's, set here and not left to the copied context
                return await work()

        task = asyncio.get_running_loop().create_task(self._run(store, record, scope, as_caller))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel(self, store: TaskStore, record: TaskRecord) -> TaskRecord:
        """Stop the task's work if it runs here, and write it as cancelled (if it had not ended)."""
        scope = self._scopes.get(record.task_id)
        if scope is not None:
            scope.cancel()
        cancelled = replace(record, status="cancelled", status_message="Cancelled at the client's request.")
        await store.finish(cancelled)
        return cancelled

    def stop_if_cancelled(self, task_id: str) -> None:
        """Cancel the work of a task that was ended from elsewhere (another process's `tasks/cancel`)."""
        scope = self._scopes.get(task_id)
        if scope is not None:
            scope.cancel()

    async def _run(
        self,
        store: TaskStore,
        record: TaskRecord,
        scope: anyio.CancelScope,
        work: Callable[[], Awaitable[dict[str, Any]]],
    ) -> None:
        final = replace(
            record, status="failed", status_message=STOPPED, error={"code": INTERNAL_ERROR, "message": STOPPED}
        )
        try:
            with scope:
                final = await _outcome(record, work)
            if scope.cancelled_caught and not self._running:
                final = replace(final, status="failed")  # stopped with the server: STOPPED, as set above
            elif scope.cancelled_caught:
                return  # cancelled at the client's request: `cancel` wrote it
            with anyio.CancelScope(shield=True):
                await _write(store, final)
        finally:
            self._scopes.pop(record.task_id, None)


async def _outcome(record: TaskRecord, work: Callable[[], Awaitable[dict[str, Any]]]) -> TaskRecord:
    """The task's terminal state: completed with the wire result (an error result included), or failed with
    the JSON-RPC error the call would have answered."""
    try:
        result = await work()
    except MCPError as exc:
        error = exc.error.model_dump(by_alias=True, mode="json", exclude_none=True)
        return replace(record, status="failed", status_message=exc.error.message, error=error)
    except Exception:
        logger.exception("task %s (%s) failed", record.task_id, record.tool)
        return replace(
            record, status="failed", status_message=FAILED, error={"code": INTERNAL_ERROR, "message": FAILED}
        )
    message = "Done." if not result.get("isError") else "Done; the tool answered with an error (see the result)."
    return replace(record, status="completed", status_message=message, result=result)


async def _write(store: TaskStore, record: TaskRecord) -> None:
    try:
        await store.finish(record)
    except Exception:
        logger.exception("the end of task %s could not be written", record.task_id)


class TaskSession(ServerSession):
    """The request's session for a call run as a task: progress reports become the task's status message
    (and, on 2025-11-25, still reach the client as `notifications/progress` with the request's token)."""

    def __init__(
        self, inner: ServerSession, on_progress: Callable[[str], Awaitable[None]], token: ProgressToken | None
    ) -> None:  # the inner session's state is shared, not re-made: same connection, same request channel
        vars(self).update(vars(inner))
        self._on_progress = on_progress
        self._token = token

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        shown = message or (f"{progress:g} of {total:g}" if total else f"{progress:g}")
        try:
            await self._on_progress(shown)
        except Exception:  # progress must never fail the work
            logger.debug("task progress could not be written", exc_info=True)
        if self._token is not None:
            try:  # the request's own channel closed with its answer: the connection's stays open
                await self.send_progress_notification(self._token, progress, total, message)
            except Exception:
                logger.debug("task progress notification failed", exc_info=True)


def task_context(
    ctx: ServerRequestContext[Any, Any],
    on_progress: Callable[[str], Awaitable[None]],
    token: ProgressToken | None,
) -> ServerRequestContext[Any, Any]:
    """`ctx` with the task's session, for the tool call run in the background."""
    return replace(ctx, session=TaskSession(ctx.session, on_progress, token))
