"""Many calls in flight in one session: do they queue, and is one pooled connection reused?

Ours: `translate` on our server against the emulator (on a 127.0.0.1 socket, so that its
connections can be counted) with `latency` seconds added to every answer. The baseline: a bare
`MCPServer` tool that sleeps `latency` seconds. Bursts of `in_flight` calls alternate between
the two; the figure is median(ours) / median(bare). Connections are distinct client
(address, port) pairs the emulator saw: for sequential calls from a fresh server, and again after
the bursts. The emulator is reached through an `Upstream`: in this process (tests) or in a
process of its own (`http_target.py --emulator-only`, the bench), where its work does not
compete with the MCP client's.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from figures import HERE, clean_env
from httpload import control, upstream_stats
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent

from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, create_emulator_app
from workers_ai_mcp.transports.http.server import http_server

SEQUENTIAL = 20


class Upstream(Protocol):
    """The emulator behind our server: its latency, and the connections it saw since the last reset."""

    latency: float

    async def reset(self, latency: float) -> None: ...

    async def connections(self) -> int: ...


@dataclass
class LocalUpstream:
    state: EmulatorState

    @property
    def latency(self) -> float:
        return self.state.latency

    async def reset(self, latency: float) -> None:
        self.state.latency = latency
        self.state.reset_counters()

    async def connections(self) -> int:
        return len(self.state.connections)


@dataclass
class RemoteUpstream:
    base: str
    latency: float

    async def reset(self, latency: float) -> None:
        self.latency = latency
        await control(self.base, latency=latency)

    async def connections(self) -> int:
        return int((await upstream_stats(self.base))["connections"])


@asynccontextmanager
async def emulator_on_loopback(state: EmulatorState) -> AsyncGenerator[str]:
    """The emulator under uvicorn on an ephemeral 127.0.0.1 port, in this event loop; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        server = http_server(create_emulator_app(state), host="127.0.0.1", port=0, log_level="ERROR")
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
    finally:
        sock.close()


def stdio_ours(emulator_url: str, folder: Path) -> StdioServerParameters:
    """Our server as a host starts it, pointed at the emulator."""
    env = clean_env(
        CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
        CLOUDFLARE_ACCOUNT_ID="bench",
        WORKERS_AI_BASE_URL=f"{emulator_url}/client/v4",
        WORKERS_AI_MCP_OUTPUT_DIR=str(folder / "outputs"),
        WORKERS_AI_MCP_INPUT_ROOTS=str(folder),
        WORKERS_AI_MCP_STATE_DIR=str(folder / "state"),
    )
    return StdioServerParameters(command=sys.executable, args=["-m", "workers_ai_mcp"], env=env, cwd=folder)


def stdio_bare(folder: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=[str(HERE / "sleep_server.py")], env=clean_env(), cwd=folder
    )


@dataclass
class Concurrency:
    in_flight: int
    latency: float
    ours: list[float] = field(default_factory=list[float])
    bare: list[float] = field(default_factory=list[float])
    connections: dict[str, int] = field(default_factory=dict[str, int])

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.bare)

    def figures(self) -> dict[str, Any]:
        return {
            "in_flight": self.in_flight,
            "emulated_latency_ms": round(self.latency * 1000),
            "rounds": len(self.ours),
            "ours_median_s": round(statistics.median(self.ours), 3),
            "bare_median_s": round(statistics.median(self.bare), 3),
            "ours_rounds_s": [round(s, 3) for s in self.ours],
            "bare_rounds_s": [round(s, 3) for s in self.bare],
            "ratio": round(self.ratio, 3),
            "if_queued_s": round(self.in_flight * self.latency, 1),
            "connections": self.connections,
        }


def _answered(result: CallToolResult) -> None:
    if result.is_error:
        text = "".join(block.text for block in result.content if isinstance(block, TextContent))
        raise RuntimeError(f"a call failed under load: {text}")


async def burst(client: Client, tool: str, arguments: dict[str, Any], count: int) -> float:
    """Seconds from starting `count` calls at once to the last answer; raises if any call failed."""

    async def one() -> None:
        _answered(await client.call_tool(tool, arguments))

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return time.perf_counter() - started


async def sequential_connections(client: Client, upstream: Upstream, count: int = SEQUENTIAL) -> int:
    """Distinct connections the emulator saw for `count` calls made one after another."""
    await upstream.reset(upstream.latency)
    for _ in range(count):
        _answered(await client.call_tool("translate", {"text": "hello", "target_lang": "fr"}))
    return await upstream.connections()


async def compare(ours: Client, bare: Client, upstream: Upstream, *, in_flight: int, rounds: int) -> Concurrency:
    """Alternating bursts on two open sessions; `upstream` is the emulator behind `ours`.

    Warm-up (the first call also reads the catalog, for prices) and the sequential calls run with
    the latency off: they count connections, not time.
    """
    latency = upstream.latency
    result = Concurrency(in_flight, latency)
    translate = {"text": "hello", "target_lang": "fr"}
    sleep = {"seconds": latency}
    await upstream.reset(0.0)
    await burst(ours, "translate", translate, 2)
    await burst(bare, "sleep", sleep, 2)
    result.connections["sequential_fresh"] = await sequential_connections(ours, upstream)
    await upstream.reset(latency)
    for _ in range(rounds):
        result.ours.append(await burst(ours, "translate", translate, in_flight))
        result.bare.append(await burst(bare, "sleep", sleep, in_flight))
    result.connections["during_bursts"] = await upstream.connections()
    await upstream.reset(0.0)
    result.connections["sequential_after_bursts"] = await sequential_connections(ours, upstream)
    await upstream.reset(latency)
    return result
