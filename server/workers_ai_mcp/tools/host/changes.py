"""Change notifications: the resource list grows with generated files, and `workers-ai://usage` changes.

After every `tools/call` (whatever its outcome: a failed call may still be billed) the server looks
at what it may have changed:
- a file saved in the output folder (`OutputStore.saved` grew): `notifications/resources/list_changed`
  to every connection that has listed resources or subscribed to one (on the calling request's own
  stream for its connection, so it arrives before the answer; on the standalone stream for others);
- the JSON of a subscribed `workers-ai://usage` resource (with or without `?model=`), read before and
  after the call: `notifications/resources/updated` to each connection subscribed to it.
Up to 2025-11-25 clients subscribe with `resources/subscribe`; 2026-07-28 clients listen with
`subscriptions/listen`, served by the SDK from the bus this module publishes the same events on.
Other resources may be subscribed to and are never reported: generated files are written once, and
the catalog is not watched. Only this process's calls are seen (another process sharing the state
folder changes usage without a notice here).
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import Context
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    EmptyResult,
    ResourceListChangedNotification,
    ResourceUpdatedNotification,
    ResourceUpdatedNotificationParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ...state import AppState

logger = logging.getLogger(__name__)

USAGE_URI = "workers-ai://usage"
MAX_SUBSCRIPTIONS = 100  # resources one connection may subscribe to
# What makes a 2025-era connection one that hears of new files. Not every connection: a client that
# never looked at resources has no use for the notice, and the Python SDK's clients of the 1.3 line
# stop reading their connection at the first notification nobody consumes.
LOOKING = ("resources/list", "resources/subscribe")


class ListenedBus(InMemorySubscriptionBus):
    """The SDK's in-process bus, counting its listeners (2026-07-28 `subscriptions/listen` streams)."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners = 0

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        unsubscribe = super().subscribe(listener)
        self.listeners += 1
        done = False

        def once() -> None:
            nonlocal done
            if not done:
                done = True
                self.listeners -= 1
            unsubscribe()

        return once


class ResourceChanges:
    """Who is connected and subscribed, and the notices each `tools/call` calls for."""

    def __init__(
        self,
        server: MCPServer[Any],
        bus: ListenedBus,
        state: Callable[[], AppState | None],
        connection_of: Callable[[ServerSession], Connection],
    ) -> None:
        """`connection_of` finds a request's connection (the SDK keeps it private: `transports.sdk_private`)."""
        self._server = server
        self._connection_of = connection_of
        self._bus = bus
        self._state = state
        self._connections: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._subscribed: weakref.WeakKeyDictionary[Connection, set[str]] = weakref.WeakKeyDictionary()
        self._saved_seen = 0

    def install(self, lowlevel: Server[Any]) -> None:
        """Serve resources/subscribe and resources/unsubscribe (which makes `resources.subscribe` true)."""
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Note the connections that look at resources; after a tools/call, send what it changed."""
        if ctx.method in LOOKING and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._connections.add(self._connection_of(ctx.session))
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        watched = self._watched()
        before = {uri: await self._digest(ctx, uri) for uri in watched}
        try:
            return await call_next(ctx)
        finally:
            try:
                await self._after_call(ctx, before)
            except Exception:  # a notice is advisory: it never turns an answer into an error
                logger.exception("change notifications after tools/call failed")

    def _watched(self) -> set[str]:
        uris = {uri for uris in self._subscribed.values() for uri in uris if _is_usage(uri)}
        if self._bus.listeners:
            uris.add(USAGE_URI)
        return uris

    async def _digest(self, ctx: ServerRequestContext[Any, Any], uri: str) -> str | None:
        context = Context(request_context=ctx, mcp_server=self._server)
        try:
            contents = await self._server.read_resource(uri, context)
        except MCPError:
            return None
        digest = hashlib.sha256()
        for content in contents if isinstance(contents, list) else ():
            data = content.content
            digest.update(data.encode() if isinstance(data, str) else data)
        return digest.hexdigest()

    async def _after_call(self, ctx: ServerRequestContext[Any, Any], before: dict[str, str | None]) -> None:
        state = self._state()
        if state is not None and state.outputs.saved != self._saved_seen:
            self._saved_seen = state.outputs.saved
            await self._bus.publish(ResourcesListChanged())
            await self._notify(ctx, ResourceListChangedNotification(), set(self._connections))
        for uri, digest in before.items():
            if await self._digest(ctx, uri) == digest:
                continue
            await self._bus.publish(ResourceUpdated(uri=uri))
            notice = ResourceUpdatedNotification(params=ResourceUpdatedNotificationParams(uri=uri))
            await self._notify(ctx, notice, {c for c, uris in self._subscribed.items() if uri in uris})

    async def _notify(
        self,
        ctx: ServerRequestContext[Any, Any],
        notice: ResourceListChangedNotification | ResourceUpdatedNotification,
        connections: set[Connection],
    ) -> None:
        calling = self._connection_of(ctx.session)
        for connection in connections:
            if connection is calling:
                await ctx.session.send_notification(notice, related_request_id=ctx.request_id)
            elif connection.initialized.is_set():
                data = notice.model_dump(by_alias=True, mode="json", exclude_none=True)
                await connection.notify(data["method"], data.get("params"))

    async def _subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        uris = self._subscribed.setdefault(self._connection_of(ctx.session), set())
        if params.uri not in uris and len(uris) >= MAX_SUBSCRIPTIONS:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"This connection has {MAX_SUBSCRIPTIONS} subscriptions; unsubscribe from one first.",
            )
        uris.add(params.uri)
        return EmptyResult()

    async def _unsubscribe(self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        self._subscribed.get(self._connection_of(ctx.session), set()).discard(params.uri)
        return EmptyResult()


def _is_usage(uri: str) -> bool:
    return uri == USAGE_URI or uri.startswith(USAGE_URI + "?")
