"""The project's emulator served over loopback by uvicorn, plus a bench-only side door.

`python bench/emulator_host.py [--latency S] [--token-delay S]` binds 127.0.0.1 on a free port and
prints that port on its first stdout line. Everything is the project's own `create_emulator_app`
and `EmulatorState` (what `workers-ai-mcp emulator` serves), wrapped in one outer ASGI layer that
lives in bench/ because the emulator has no counters route:

- `GET /__bench/state`: request count, distinct client connections, recorded requests (path, model,
  body size) and the stream log;
- `POST /__bench/reset`: clears those; `POST /__bench/config?latency=&token_delay=`: sets the knobs;
- the stream log: for every `text/event-stream` answer, the `time.monotonic()` at which each body
  chunk was handed to uvicorn and how many text tokens it carried. That is "the emulator emitting
  a token"; the clock is CLOCK_MONOTONIC, comparable with the bench client's receive times.

The side door answers requests itself; they never reach the emulator, so they are not counted.
The access log is off (the emulator's own `serve` logs every request to stderr; here that would
only add noise to both sides of every comparison).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from typing import Any, cast
from urllib.parse import parse_qs

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers_ai_mcp.emulator import EmulatorState, create_emulator_app


def _text_tokens(chunk: bytes) -> tuple[int, bool]:
    """(text-bearing SSE events in `chunk`, whether it holds the end of the stream)."""
    tokens, end = 0, False
    for event in chunk.split(b"\n\n"):
        data = event.strip().removeprefix(b"data:").strip()
        if not data:
            continue
        if data == b"[DONE]":
            end = True
            continue
        try:
            parsed: object = json.loads(data)
        except ValueError:
            continue
        if not isinstance(parsed, dict):
            continue
        body = cast(dict[str, Any], parsed)
        text: object = body.get("response")
        choices: object = body.get("choices")
        if not text and isinstance(choices, list) and choices:
            first = cast(list[Any], choices)[0]
            delta: object = cast(dict[str, Any], first).get("delta") if isinstance(first, dict) else None
            text = cast(dict[str, Any], delta).get("content") if isinstance(delta, dict) else None
        if isinstance(text, str) and text:
            tokens += 1
        if body.get("usage") and not text:
            end = True
    return tokens, end


class BenchDoor:
    """Outer ASGI layer: the `/__bench/*` routes and the stream log; everything else goes to the emulator."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state
        self.streams: list[list[tuple[float, int, bool]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        if path.startswith("/__bench/"):
            await self._door(path, bytes(scope.get("query_string", b"")).decode(), send)
            return
        log: list[tuple[float, int, bool]] | None = None

        async def timed_send(message: Message) -> None:
            nonlocal log
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    log = []
                    self.streams.append(log)
            elif message["type"] == "http.response.body" and log is not None:
                body = bytes(message.get("body", b""))
                if body:
                    tokens, end = _text_tokens(body)
                    log.append((time.monotonic(), tokens, end))
            await send(message)

        await self.app(scope, receive, timed_send)

    async def _door(self, path: str, query: str, send: Send) -> None:
        state = self.state
        if path == "/__bench/reset":
            state.reset_counters()
            self.streams.clear()
            answer: dict[str, Any] = {"ok": True}
        elif path == "/__bench/config":
            args = parse_qs(query)
            if "latency" in args:
                state.latency = float(args["latency"][0])
            if "token_delay" in args:
                state.token_delay = float(args["token_delay"][0])
            answer = {"latency": state.latency, "token_delay": state.token_delay}
        else:
            answer = {
                "request_count": state.request_count,
                "connections": len(state.connections),
                "requests": [
                    {
                        "method": r.method,
                        "path": r.path,
                        "model": r.model,
                        "body_size": r.body_size,
                        "content_type": r.content_type,
                        "status": r.status,
                    }
                    for r in state.requests
                ],
                "streams": self.streams,
            }
        body = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    args = parser.parse_args()
    state = EmulatorState(latency=args.latency, token_delay=args.token_delay)
    app = BenchDoor(create_emulator_app(state), state)
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and without
    # it every answer (headers and body written apart) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, server_header=False)
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
