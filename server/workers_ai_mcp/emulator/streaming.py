"""Server-sent event answers, paced by `token_delay`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import anyio
from starlette.responses import StreamingResponse

from .envelope import JsonObj
from .generate_text import Completion, dumps_compact

_PAD = "abcdefghijklmnopqrstuvwxyz"


def sse_response(events: Sequence[str], delay: float, *, done: bool = True) -> StreamingResponse:
    """`data: <event>` per item, then `data: [DONE]` unless `done` is False (a truncated stream)."""

    async def body() -> AsyncIterator[bytes]:
        for i, event in enumerate(events):
            if i and delay > 0:
                await anyio.sleep(delay)
            yield f"data: {event}\n\n".encode()
        if done:
            yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


def padding(index: int) -> str:
    """Stand-in for the random `p` padding Cloudflare adds against token-length side channels."""
    return _PAD[: 1 + (index * 7) % 13]


def workers_ai_events(completion: Completion) -> list[str]:
    """Classic Workers AI stream: one `{"response": token, "p": ...}` per token, then usage."""
    events = [dumps_compact({"response": tok, "p": padding(i)}) for i, tok in enumerate(completion.tokens)]
    events.append(dumps_compact({"response": "", "usage": completion.run_usage()}))
    return events


def events_of(chunks: Sequence[JsonObj]) -> list[str]:
    return [dumps_compact(chunk) for chunk in chunks]
