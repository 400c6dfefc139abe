"""Server processes sharing one state store: one budget, reservations of killed processes, batch jobs.

Each server here is a real stdio subprocess (or, where the test needs to hold it, an in-memory
server in this process), all pointed at the same store: every test runs once with the SQLite file
of one WORKERS_AI_MCP_STATE_DIR and once with one PostgreSQL database (WORKERS_AI_MCP_STATE_URL),
as replicas behind a load balancer would share it.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from support.emulated import BGE_BASE
from support.loopback import serving
from support.postgres import StateHome
from support.results import data_of, text_of
from support.session import open_session
from support.transports import Pipes, server_command, server_env, spawned
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, Fault, create_emulator_app

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: no catalog price


@asynccontextmanager
async def stdio_server(state: StateHome, name: str, *args: str, **env: str) -> AsyncGenerator[Client]:
    """A server subprocess on the shared store of `state`; its other folders are its own."""
    folder = state.tmp_path / name
    folder.mkdir()
    environment = server_env(folder, **state.env(), **env)
    with (folder / "stderr.log").open("wb") as stderr:
        async with (
            spawned(server_command(*args), environment, folder, stderr) as process,
            Client(Pipes(process).transport()) as client,
        ):
            yield client


def budget_env(daily: str) -> dict[str, str]:
    return {"WORKERS_AI_MCP_MAX_COST_USD": daily, "WORKERS_AI_MCP_UNPRICED_CALL_USD": "0.01"}


async def test_two_processes_share_one_daily_budget_and_the_crossing_call_is_refused_in_either(
    state: StateHome,
) -> None:
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(stdio_server(state, "a", "--emulator", **budget_env("0.025")))
        second = await stack.enter_async_context(stdio_server(state, "b", "--emulator", **budget_env("0.025")))
        with anyio.fail_after(60):
            ok_first = await first.call_tool("summarize", TEXT)
            ok_second = await second.call_tool("summarize", TEXT)
            refused_first = await first.call_tool("summarize", TEXT)
            refused_second = await second.call_tool("summarize", TEXT)
            report = data_of(await first.call_tool("usage", {}))
    assert not ok_first.is_error and not ok_second.is_error
    for refused in (refused_first, refused_second):
        assert refused.is_error and "every user and server process of this deployment" in text_of(refused)
        assert "about $0.0200" in text_of(refused) and "WORKERS_AI_MCP_MAX_COST_USD" in text_of(refused)
    assert report["today"]["total"]["calls"] == 2 and report["today"]["budget_left_usd"] == pytest.approx(0.005)


async def test_concurrent_calls_from_two_processes_never_spend_past_the_budget(state: StateHome) -> None:
    results: list[CallToolResult] = []
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(stdio_server(state, name, "--emulator", **budget_env("0.025")))
            for name in ("a", "b")
        ]

        async def call(client: Client) -> None:
            results.append(await client.call_tool("summarize", TEXT))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for client in servers * 3:
                    group.start_soon(call, client)
            report = data_of(await servers[1].call_tool("usage", {}))
    assert sorted(r.is_error for r in results) == [False, False, True, True, True, True]
    # A call answered by the other process may still be in its write-behind queue (its reservation
    # holding the amount meanwhile): spent and held together are what every process has committed.
    assert report["today"]["total"]["fallback_usd"] + report["held_usd"] == pytest.approx(0.02)
    assert recorded_usd(state) == pytest.approx(0.02)  # both servers have exited: every record is written


async def test_two_processes_submitting_batches_at_once_keep_every_job(state: StateHome) -> None:
    submitted: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(stdio_server(state, name, "--emulator")) for name in ("a", "b")]

        async def submit(client: Client, text: str) -> None:
            result = await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": text}]})
            submitted.append(data_of(result))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for index, client in enumerate(servers * 4):
                    group.start_soon(submit, client, f"text {index}")
            listed = [data_of(await client.call_tool("list_batches", {})) for client in servers]
    assert len(submitted) == 8
    expected = {job["job_id"] for job in submitted}
    assert all({job["job_id"] for job in seen["jobs"]} == expected for seen in listed)


class RunWatch:
    """ASGI wrapper that sets `hanging` when the `nth` model run arrives."""

    def __init__(self, app: Starlette, nth: int) -> None:
        self.app = app
        self.nth = nth
        self.runs = 0
        self.hanging = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/ai/run/" in scope["path"]:
            self.runs += 1
            if self.runs == self.nth:
                self.hanging.set()
        await self.app(scope, receive, send)


async def test_a_reservation_of_a_killed_process_stops_holding_the_budget(state: StateHome) -> None:
    upstream = EmulatorState()
    watch = RunWatch(create_emulator_app(upstream), nth=2)
    here = state.settings(max_cost_usd=0.035, unpriced_call_usd=0.01)
    async with serving(watch) as url:
        env = budget_env("0.035") | {
            "CLOUDFLARE_API_TOKEN": EMULATOR_TOKEN,
            "CLOUDFLARE_ACCOUNT_ID": "test-account",
            "WORKERS_AI_BASE_URL": f"{url}/client/v4",
            "WORKERS_AI_MCP_MAX_RETRIES": "0",
        }
        folder = state.tmp_path / "killed"
        folder.mkdir()
        environment = server_env(folder, **state.env(), **env)
        with (folder / "stderr.log").open("wb") as stderr:
            async with (
                spawned(server_command(), environment, folder, stderr) as process,
                Client(Pipes(process).transport()) as doomed,
                open_session(here, upstream=create_emulator_app(EmulatorState())) as survivor,
                anyio.create_task_group() as group,
            ):
                with anyio.fail_after(60):
                    assert not (await doomed.call_tool("summarize", TEXT)).is_error  # counted: $0.01
                    upstream.inject(Fault.HANG)

                    async def hang() -> None:
                        with pytest.raises(Exception):  # noqa: B017 - the process dies under the call
                            await doomed.call_tool("summarize", TEXT)

                    group.start_soon(hang)
                    await watch.hanging.wait()  # its $0.01 is reserved now
                    fits = await survivor.call_tool("summarize", TEXT)  # 0.01 + 0.01 held + 0.01
                    crosses = await survivor.call_tool("summarize", TEXT)  # 0.02 + 0.01 held + 0.01
                    process.kill()
                    await process.wait()
                    after = await survivor.call_tool("summarize", TEXT)  # 0.02 + 0.01: the hold is gone
                    report = data_of(await survivor.call_tool("usage", {}))
                group.cancel_scope.cancel()
    assert not fits.is_error
    assert crosses.is_error and "about $0.0300" in text_of(crosses)
    assert not after.is_error
    assert report["today"]["total"]["calls"] == 3 and report["held_usd"] == 0


CJK = {"prompt": "水獭是生活在河里的顽皮动物，它们喜欢在水中玩耍。" * 80, "max_tokens": 16}  # 1,920 characters


def recorded_usd(state: StateHome, *, emulator: bool = True) -> float:
    """What the store records as spent (of --emulator servers, by default: their store is their own)."""
    return float(state.query("SELECT COALESCE(SUM(counted_usd), 0) FROM calls", emulator=emulator)[0][0])


async def test_cjk_prompts_in_flight_from_four_processes_never_record_more_than_the_daily_budget(
    state: StateHome,
) -> None:
    budget = 0.0028  # under five of these calls as billed ($0.00059 each); characters / 4 reserved $0.00018
    results: list[CallToolResult] = []
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(stdio_server(state, name, "--emulator", **budget_env(str(budget))))
            for name in "abcd"
        ]

        async def call(client: Client) -> None:
            results.append(await client.call_tool("chat", CJK))

        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for client in servers * 6:
                    group.start_soon(call, client)
    answered = [r for r in results if not r.is_error]
    assert len(results) == 24 and answered
    assert all("daily budget" in text_of(r) for r in results if r.is_error)
    assert recorded_usd(state) <= budget


async def test_sequential_cjk_prompts_stop_before_the_daily_budget(state: StateHome) -> None:
    budget = 0.0028  # four calls and a reservation of characters / 4 fitted, and the fifth call crossed it
    settings = state.settings(max_cost_usd=budget)
    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as client:
        with anyio.fail_after(60):
            results = [await client.call_tool("chat", CJK) for _ in range(10)]
            spent = data_of(await client.call_tool("usage", {}))["today"]["total"]["cost_usd"]
    assert not results[0].is_error and results[-1].is_error
    assert spent <= budget and recorded_usd(state, emulator=False) <= budget
