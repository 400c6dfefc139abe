"""Clients that speak tasks, for the task tests: the SDK's `Client` with the 2026-07-28 tasks extension
declared, and a raw JSON-RPC session for 2025-11-25 tasks.

The SDK 2.3 client declares extensions and accepts a claimed result shape (`resultType: "task"`) on
2026-07-28, so `TasksDeclared` is all it needs; `tasks/*` go through `ClientSession.send_request`. On
2025-11-25 it validates every `tools/call` answer as a `CallToolResult`, so a `{"task": ...}` answer
cannot reach a test through it: `raw_session` serves our server over memory streams (the SDK's own
stream loop, as stdio does) and speaks JSON-RPC itself, keeping every notification it receives.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, Request, RequestParams, Result
from mcp_types.jsonrpc import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse
from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp, Receive, Scope, Send

from workers_ai_mcp.transports.sdk_private import serve_streams

TASKS = "io.modelcontextprotocol/tasks"
TERMINAL = ("completed", "failed", "cancelled")


class TaskHandle(Result):
    """A 2026-07-28 `CreateTaskResult` (SEP-2663)."""

    result_type: Literal["task"] = Field(alias="resultType")
    task_id: str
    status: str
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None
    poll_interval_ms: int | None = None


async def _unresolved(handle: TaskHandle, _ctx: ClaimContext) -> CallToolResult:
    raise AssertionError(f"the tests drive task {handle.task_id} themselves (call_tool(..., allow_claimed=True))")


class TasksDeclared(ClientExtension):
    """Declares `io.modelcontextprotocol/tasks` and accepts a task for `tools/call`."""

    identifier = TASKS

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return (ResultClaim(result_type="task", model=TaskHandle, resolve=_unresolved),)


class TaskAnswer(Result):
    """Any answer to a `tasks/*` request, every field kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class TaskIdParams(RequestParams):
    task_id: str = Field(alias="taskId")


class TaskRequest(Request[TaskIdParams, str]):
    """`tasks/get`, `tasks/update` or `tasks/cancel`; `Mcp-Name` carries the task id, as SEP-2663 asks."""

    method: str
    params: TaskIdParams
    name_param = "taskId"


async def task_request(client: Client, method: str, task_id: str) -> dict[str, Any]:
    """Send a `tasks/*` request on a 2026-07-28 session; the answer as sent."""
    request = TaskRequest(method=method, params=TaskIdParams(taskId=task_id))
    answer = await client.session.send_request(request, TaskAnswer)
    return answer.model_dump(mode="json", by_alias=True, exclude_none=True)


async def poll(client: Client, task_id: str) -> dict[str, Any]:
    """`tasks/get` until the task ends (no clock: each answer is awaited in turn)."""
    while True:
        task = await task_request(client, "tasks/get", task_id)
        if task["status"] in TERMINAL:
            return task
        await anyio.sleep(0.05)


class ModelRun:
    """ASGI wrapper that tells when a model run (`/ai/run/...`, not a catalog read) arrives upstream, and
    when its handling ended (answered, or dropped by the client)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrived = anyio.Event()
        self.ended = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/ai/run/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.arrived.set()
        try:
            await self.app(scope, receive, send)
        finally:
            self.ended.set()


@dataclass
class RawSession:
    """JSON-RPC over the streams our server is served on; `request` answers the result or the error."""

    send: MemoryObjectSendStream[SessionMessage | Exception]
    notifications: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    initialized: dict[str, Any] = field(default_factory=dict[str, Any])  # the initialize result
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, MemoryObjectSendStream[dict[str, Any]]] = field(default_factory=dict[int, Any])

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer as `{"result": ...}` or `{"error": ...}`."""
        request_id = next(self._ids)
        answer, answered = anyio.create_memory_object_stream[dict[str, Any]](1)
        self._waiting[request_id] = answer
        message = JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params=params)
        await self.send.send(SessionMessage(message))
        async with answered:
            return await answered.receive()

    async def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.request(method, params)
        assert "result" in answer, answer
        return answer["result"]

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.send.send(SessionMessage(JSONRPCNotification(jsonrpc="2.0", method=method, params=params)))

    async def read(self, receive: MemoryObjectReceiveStream[SessionMessage]) -> None:
        async with receive:
            async for item in receive:
                message = item.message
                if isinstance(message, JSONRPCNotification):
                    self.notifications.append(message.model_dump(exclude_none=True))
                elif isinstance(message, JSONRPCResponse | JSONRPCError) and isinstance(message.id, int):
                    waiting = self._waiting.pop(message.id)
                    body = (
                        {"result": message.result}
                        if isinstance(message, JSONRPCResponse)
                        else {"error": message.error.model_dump(exclude_none=True)}
                    )
                    await waiting.send(body)
                    await waiting.aclose()

    async def poll(self, task_id: str) -> dict[str, Any]:
        while True:
            task = await self.result("tasks/get", {"taskId": task_id})
            if task["status"] in TERMINAL:
                return task
            await anyio.sleep(0.05)


@asynccontextmanager
async def raw_session(
    server: MCPServer[Any], *, version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
) -> AsyncGenerator[RawSession]:
    """An initialized raw session on `server` at protocol `version` (the initialize handshake)."""
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](64)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](64)
    session = RawSession(to_server)
    async with to_server, server_reads, server_writes, from_server, anyio.create_task_group() as group:
        group.start_soon(serve_streams, server, server_reads, server_writes)
        group.start_soon(session.read, from_server)
        session.initialized = await session.result(
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": capabilities or {},
                "clientInfo": {"name": "raw-tasks-test", "version": "1"},
            },
        )
        await session.notify("notifications/initialized")
        try:
            yield session
        finally:
            group.cancel_scope.cancel()


def legacy_tool_call(
    name: str, arguments: dict[str, Any], *, ttl: int | None = None, token: str | None = None
) -> dict[str, Any]:
    """`tools/call` params asking for a 2025-11-25 task (`task`), with a progress token if given."""
    params: dict[str, Any] = {"name": name, "arguments": arguments, "task": {} if ttl is None else {"ttl": ttl}}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return params


__all__ = [
    "TASKS",
    "ModelRun",
    "RawSession",
    "TaskHandle",
    "TasksDeclared",
    "legacy_tool_call",
    "poll",
    "raw_session",
    "task_request",
]
