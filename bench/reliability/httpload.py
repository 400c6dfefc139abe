"""Streamable HTTP under load: many tool calls from concurrent MCP clients against `http_target.py`.

The target runs in its own process (our server plus the emulator); the clients run here, each a
real `mcp.Client` session over `http://127.0.0.1:<port>/mcp`, taking calls from one shared queue
until all are made. Every call is `translate` with its own text.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from figures import HERE, clean_env, latency_summary
from mcp import Client
from mcp.types import TextContent


@dataclass
class HttpLoad:
    """What one run of `calls` calls from `clients` clients gave."""

    calls: int
    clients: int
    latency: float
    fault_rate: float
    seconds: float = 0.0
    ok: int = 0
    clear_errors: list[str] = field(default_factory=list[str])
    unclear: list[str] = field(default_factory=list[str])
    latencies: list[float] = field(default_factory=list[float])
    upstream: dict[str, Any] = field(default_factory=dict[str, Any])

    @property
    def success_rate(self) -> float:
        return self.ok / self.calls if self.calls else 0.0

    def figures(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "clients": self.clients,
            "emulated_latency_ms": round(self.latency * 1000),
            "fault_rate": self.fault_rate,
            "succeeded": self.ok,
            "clear_errors": len(self.clear_errors),
            "unclear_failures": len(self.unclear),
            "success_rate": round(self.success_rate, 4),
            "seconds": round(self.seconds, 2),
            "calls_per_second": round(self.calls / self.seconds, 1) if self.seconds else 0.0,
            "latency": latency_summary(self.latencies),
            "upstream": self.upstream,
            "first_errors": (self.clear_errors + self.unclear)[:3],
        }


def names_the_cause(text: str) -> bool:
    """A clear error for an upstream 503 that outlived the retries."""
    return text.startswith("Error executing tool translate: ") and "HTTP 503" in text and "Gave up after" in text


@asynccontextmanager
async def http_target(
    latency: float,
    fault_rate: float = 0.0,
    *,
    backoff: float | None = None,
    seed: int = 1,
    emulator_only: bool = False,
) -> AsyncGenerator[str]:
    """Start `http_target.py` (retries back off as configured unless `backoff` is given); yields its base URL;
    stops it (SIGTERM, then SIGKILL) at the end."""
    command = [sys.executable, str(HERE / "http_target.py"), f"--latency={latency}", f"--fault-rate={fault_rate}"]
    command += [f"--seed={seed}", *([f"--backoff={backoff}"] if backoff is not None else [])]
    command += ["--emulator-only"] if emulator_only else []
    process = await anyio.open_process(command, env=clean_env(), stderr=None)
    try:
        assert process.stdout is not None
        with anyio.fail_after(30):
            line = b""
            async for chunk in process.stdout:
                line += chunk
                if b"\n" in line:
                    break
        port = int(line.partition(b"\n")[0])
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        with anyio.move_on_after(10) as waiting:
            await process.wait()
        if waiting.cancelled_caught:
            process.kill()
            await process.wait()
        await process.aclose()


async def control(base: str, **knobs: float) -> None:
    """Set the target's `fault_rate` / `latency` and zero its counters."""
    async with httpx2.AsyncClient() as http:
        (await http.post(f"{base}/bench/control", json=knobs)).raise_for_status()


async def upstream_stats(base: str) -> dict[str, Any]:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{base}/bench/stats")
        response.raise_for_status()
        return response.json()


async def drive(
    base: str,
    calls: int,
    clients: int,
    *,
    latency: float,
    fault_rate: float,
    clear: Callable[[str], bool] = names_the_cause,
) -> HttpLoad:
    """Open `clients` sessions, then make `calls` calls through them, as many at once as there are clients."""
    await control(base, fault_rate=fault_rate, latency=latency)
    load = HttpLoad(calls, clients, latency, fault_rate)
    numbers = itertools.count()

    async def worker(client: Client) -> None:
        while (number := next(numbers)) < calls:
            started = time.perf_counter()
            try:
                result = await client.call_tool("translate", {"text": f"call number {number}", "target_lang": "fr"})
            except Exception as exc:  # a protocol or transport failure: never a clear error
                load.unclear.append(f"{type(exc).__name__}: {exc}")
                continue
            load.latencies.append(time.perf_counter() - started)
            text = "".join(block.text for block in result.content if isinstance(block, TextContent))
            if not result.is_error and f"call number {number}" in text:
                load.ok += 1
            elif result.is_error and clear(text):
                load.clear_errors.append(text)
            else:
                load.unclear.append(text[:300])

    async with AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(Client(f"{base}/mcp")) for _ in range(clients)]
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for session in sessions:
                group.start_soon(worker, session)
        load.seconds = time.perf_counter() - started
    load.upstream = await upstream_stats(base)
    return load
