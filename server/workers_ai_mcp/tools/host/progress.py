"""Progress notifications, for every tool: a heartbeat while a model generates, throttled stream progress.

A tool that waits on one long answer (an image) wraps the call in `with_heartbeat`; a tool that
reads a stream feeds its events to `StreamProgress`. Both go through `Context.report_progress`,
which sends nothing when the client asked for no progress.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context

from ...client import StreamEvent

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds between heartbeat notifications while a model works.
HEARTBEAT_SECONDS = 2.0
# Progress while streaming: at most one notification per interval, unless this many chunks arrived.
PROGRESS_INTERVAL = 0.1
PROGRESS_EVERY = 16
# A stream notification's message is the answer's last characters, at most this many.
PROGRESS_TAIL = 200


async def with_heartbeat(ctx: Context[Any], call: Callable[[], Awaitable[T]]) -> T:
    """Run `call`, sending a progress notification now and every HEARTBEAT_SECONDS until it ends."""
    await ctx.report_progress(0, 1, "generating")
    outcome: list[T] = []
    failure: list[Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(_heartbeat, ctx)
        try:
            outcome.append(await call())
        except Exception as exc:  # re-raised below, outside the task group, unwrapped
            failure.append(exc)
        finally:
            group.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome[0]


async def _heartbeat(ctx: Context[Any]) -> None:
    started = time.monotonic()
    while True:
        await anyio.sleep(HEARTBEAT_SECONDS)
        elapsed = time.monotonic() - started
        try:
            # Approaches 1 without reaching it: the model's running time is not known in advance.
            await ctx.report_progress(elapsed / (elapsed + 10.0), 1, f"generating ({elapsed:.0f} s)")
        except Exception:  # a client gone quiet must not fail the generation
            logger.debug("progress notification failed", exc_info=True)
            return


def progress_token(ctx: Context[Any]) -> str | int | None:
    """The progress token of this call, if the client asked for progress.

    Present over stdio and HTTP, and from an in-memory `mcp.Client(mode="legacy")`. The in-memory
    client's default "auto" (2026-07-28) mode reports progress through its callback without putting a
    token in `_meta`, so we cannot see that it wants progress and such calls are not streamed.
    """
    meta = ctx.request_context.meta
    token = meta.get("progress_token") if meta else None
    return token if isinstance(token, str | int) else None


class StreamProgress:
    """Turns stream events into throttled progress notifications: at most one per
    `PROGRESS_INTERVAL` seconds unless `PROGRESS_EVERY` chunks arrived since the last, and a final one."""

    def __init__(self, ctx: Context[Any], total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx = ctx
        self._total = total
        self._clock = clock
        self.text = ""
        self.chunks = 0
        self._sent_chunks = 0
        self._sent_progress = -1
        self._last = -math.inf

    async def on_event(self, event: StreamEvent) -> None:
        if not event.text:
            return
        self.text += event.text
        self.chunks += 1
        now = self._clock()
        if now - self._last >= PROGRESS_INTERVAL or self.chunks - self._sent_chunks >= PROGRESS_EVERY:
            await self._send(self.chunks, now)

    async def finish(self, usage: dict[str, int] | None) -> None:
        """The final notification (unless the last one already said everything)."""
        progress = max(self.chunks, usage.get("completion_tokens", 0) if usage else 0)
        if self._sent_progress < progress or self._sent_chunks < self.chunks:
            await self._send(max(progress, self._sent_progress + 1), self._clock())

    async def _send(self, progress: int, now: float) -> None:
        self._last = now
        self._sent_chunks = self.chunks
        self._sent_progress = progress
        text = self.text if len(self.text) <= PROGRESS_TAIL else "…" + self.text[-(PROGRESS_TAIL - 1) :]
        await self._ctx.report_progress(progress=progress, total=self._total, message=text)
