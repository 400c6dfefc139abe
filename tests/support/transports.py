"""For the transport tests: our server as a stdio subprocess we hold (the one stdio launcher), and wrappers
that count or watch what reaches Workers AI."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
import anyio.abc
import httpx2
import mcp.types as types
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from starlette.types import ASGIApp, Receive, Scope, Send

from workers_ai_mcp.emulator import EmulatorState

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers_ai_mcp", *args]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A minimal environment for the subprocess: our package on the path, folders under tmp_path."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SERVER_DIR),
        "WORKERS_AI_MCP_OUTPUT_DIR": str(tmp_path / "outputs"),
        "WORKERS_AI_MCP_INPUT_ROOTS": str(tmp_path),
        "WORKERS_AI_MCP_STATE_DIR": str(tmp_path / "state"),
        **extra,
    }


@asynccontextmanager
async def spawned(
    command: list[str], env: dict[str, str], cwd: Path, stderr: IO[bytes] | int
) -> AsyncGenerator[Process]:
    """The process, killed at the end if the test left it running."""
    process = await anyio.open_process(command, env=env, cwd=cwd, stderr=stderr)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
        await process.aclose()


@dataclass
class Pipes:
    """An MCP transport over a process's stdin/stdout that keeps every raw stdout line."""

    process: Process
    stdout_lines: list[bytes] = field(default_factory=list[bytes])

    @asynccontextmanager
    async def transport(
        self,
    ) -> AsyncGenerator[
        tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
    ]:
        read_writer, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None

        async def read_stdout() -> None:
            buffer = b""
            async with read_writer:
                async for chunk in stdout:
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    for line in lines:
                        self.stdout_lines.append(line)
                        await read_writer.send(_parse(line))

        async def write_stdin() -> None:
            async with write_reader:
                async for message in write_reader:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await stdin.send(data.encode())

        async with anyio.create_task_group() as group:
            group.start_soon(read_stdout)
            group.start_soon(write_stdin)
            try:
                yield read, write
            finally:
                group.cancel_scope.cancel()


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next transport in turn, like a load balancer without affinity."""

    def __init__(self, *transports: httpx2.AsyncBaseTransport) -> None:
        self.transports = transports
        self.sent = [0] * len(transports)
        self._next = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        index = self._next
        self._next = (index + 1) % len(self.transports)
        self.sent[index] += 1
        return await self.transports[index].handle_async_request(request)


class CountingTransport(httpx2.AsyncBaseTransport):
    """Wraps the Workers AI transport to count how often an HTTP client started using it and closed it.

    The server makes its one HTTP client on the first call and closes it at shutdown; a second
    client over the same transport would show up as a second close.
    """

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.opened = 0
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.opened = max(self.opened, 1)
        return await self.inner.handle_async_request(request)


def model_runs(state: EmulatorState, model: str = "@cf/meta/m2m100-1.2b") -> int:
    """How many `ai/run` requests for `model` reached the emulator (calls may also look up the catalog)."""
    return sum(request.path.endswith(f"/ai/run/{model}") for request in state.requests)


class Watched:
    """ASGI wrapper that tells when a Workers AI request arrives and when its handling has ended."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrived = anyio.Event()
        self.ended = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/ai/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.arrived.set()
        try:
            await self.app(scope, receive, send)
        finally:
            self.ended.set()


class LineWatcher:
    """Reads a byte stream to the end in the background; `wait_for(pattern)` waits for a matching line."""

    def __init__(self, stream: anyio.abc.ByteReceiveStream) -> None:
        self.stream = stream
        self.text = ""
        self._changed = anyio.Event()

    async def run(self) -> None:
        async for chunk in self.stream:
            self.text += chunk.decode("utf-8", "replace")
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_for(self, pattern: str) -> re.Match[str]:
        while not (match := re.search(pattern, self.text)):
            await self._changed.wait()
        return match
