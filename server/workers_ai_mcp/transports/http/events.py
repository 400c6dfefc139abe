"""Resumable streamable HTTP: what the server sent, kept in memory within bounds, replayed on reconnection.

The SDK's session manager numbers every SSE event through an `EventStore` and, when a client comes
back with `GET /mcp` and `Last-Event-ID`, replays what followed that event on the same stream (a
tool's answer whose POST stream was cut, say). `BoundedEventStore` keeps the newest events up to a
count and a byte total (WORKERS_AI_MCP_HTTP_REPLAY_EVENTS, WORKERS_AI_MCP_HTTP_REPLAY_BYTES),
dropping the oldest first; a client resuming from an event already dropped gets nothing replayed.

The manager shares one store among all sessions and names a POST stream by its JSON-RPC request id,
which two sessions may both use. So each session gets a random namespace, carried in a context
variable (`SessionNamespaces` sets it per request, from the session id the opening response
returned): streams are keyed by (namespace, stream id), every event id starts with the namespace,
and a replay is only made to a request of the same session, so no client replays another's events.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, deque
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NAMESPACE: ContextVar[str | None] = ContextVar("workers_ai_mcp_event_namespace", default=None)
_SESSION_HEADER = b"mcp-session-id"


@dataclass(frozen=True, slots=True)
class _Event:
    stream: tuple[str, StreamId]
    message: JSONRPCMessage | None
    size: int


class BoundedEventStore(EventStore):
    """The newest events of every stream, at most `max_events` and about `max_bytes` of messages."""

    def __init__(self, *, max_events: int, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.bytes = 0
        self._events: OrderedDict[EventId, _Event] = OrderedDict()
        self._streams: dict[tuple[str, StreamId], deque[EventId]] = {}
        self._fallback = secrets.token_hex(8)  # events stored outside any request (no namespace set)
        self._sequence = 0

    @property
    def count(self) -> int:
        """Events held now (no `__len__`: the SDK tests a store's truth to decide whether to resume)."""
        return len(self._events)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        namespace = _NAMESPACE.get() or self._fallback
        self._sequence += 1
        event_id = f"{namespace}-{self._sequence}"
        size = len(message.model_dump_json(by_alias=True, exclude_none=True)) if message is not None else 0
        if size > self.max_bytes:  # never kept: it would push out everything else and still not fit
            return event_id
        stream = (namespace, stream_id)
        self._events[event_id] = _Event(stream, message, size)
        self._streams.setdefault(stream, deque()).append(event_id)
        self.bytes += size
        self._evict()
        return event_id

    def _evict(self) -> None:
        while self._events and (len(self._events) > self.max_events or self.bytes > self.max_bytes):
            _, oldest = self._events.popitem(last=False)
            self.bytes -= oldest.size
            ids = self._streams[oldest.stream]
            ids.popleft()  # the oldest of the store is the oldest of its stream
            if not ids:
                del self._streams[oldest.stream]

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        last = self._events.get(last_event_id)
        if last is None or last.stream[0] != (_NAMESPACE.get() or self._fallback):
            return None  # dropped, never sent, or another session's
        later = list(self._streams.get(last.stream, ()))
        for event_id in later[later.index(last_event_id) + 1 :]:
            event = self._events.get(event_id)
            if event is not None and event.message is not None:
                await send_callback(EventMessage(event.message, event_id))
        return last.stream[1]


class SessionNamespaces:
    """ASGI middleware giving every request the event namespace of its session (a new one when opening)."""

    def __init__(self, app: ASGIApp, *, max_sessions: int) -> None:
        self.app = app
        self._limit = max(1, 2 * max_sessions)
        self._by_session: OrderedDict[bytes, str] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = next((value for name, value in scope["headers"] if name.lower() == _SESSION_HEADER), None)
        namespace = self._by_session.get(session) if session is not None else None
        token = _NAMESPACE.set(namespace or secrets.token_hex(8))
        try:
            await self.app(scope, receive, send if session is not None else self._learning(send))
        finally:
            _NAMESPACE.reset(token)

    def _learning(self, send: Send) -> Send:
        """`send`, noting the session id an opening response hands out under this request's namespace."""
        namespace = _NAMESPACE.get()

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and namespace is not None:
                for name, value in message.get("headers", ()):
                    if name.lower() == _SESSION_HEADER:
                        self._by_session[value] = namespace
                        while len(self._by_session) > self._limit:
                            self._by_session.popitem(last=False)
            await send(message)

        return noting
