"""The console entry as a stdio subprocess: tools over the pipes, and every way it is asked to stop."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import anyio
import pytest
from mcp import Client

from support.loopback import serving
from support.session import open_session
from support.transports import Pipes, Watched, server_command, server_env, spawned
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.transports.serve import StdinLines

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")

EXIT_WITHIN = 10.0  # generous: a loaded CI machine starts Python slowly; a hang never ends


async def test_stdio_server_lists_tools_translates_and_exits_when_stdin_closes(tmp_path: Path) -> None:
    with (tmp_path / "stderr.log").open("wb") as stderr:
        async with spawned(server_command("--emulator"), server_env(tmp_path), tmp_path, stderr) as process:
            pipes = Pipes(process)
            async with Client(pipes.transport()) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
            assert process.stdin is not None
            await process.stdin.aclose()
            with anyio.fail_after(EXIT_WITHIN):
                await process.wait()
    assert "translate" in names
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["target_lang"] == "fr"
    assert process.returncode == 0
    # stdout carried protocol messages only: every line is one JSON-RPC message
    assert pipes.stdout_lines
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in pipes.stdout_lines)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_ends_an_idle_stdio_server_with_status_0_while_stdin_stays_open(
    tmp_path: Path, signum: signal.Signals
) -> None:
    with (tmp_path / "stderr.log").open("wb") as stderr:
        async with (
            spawned(server_command("--emulator"), server_env(tmp_path), tmp_path, stderr) as process,
            Client(Pipes(process).transport()) as client,
        ):
            await client.list_tools()
            process.send_signal(signum)
            with anyio.fail_after(EXIT_WITHIN):
                await process.wait()
    assert process.returncode == 0
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


async def test_sigint_during_a_call_cancels_it_closes_the_upstream_request_and_exits(tmp_path: Path) -> None:
    state = EmulatorState()
    state.inject(Fault.HANG)
    emulator = Watched(create_emulator_app(state))
    async with serving(emulator) as url:
        env = server_env(
            tmp_path,
            CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
            CLOUDFLARE_ACCOUNT_ID="test-account",
            WORKERS_AI_BASE_URL=f"{url}/client/v4",
            WORKERS_AI_MCP_MAX_RETRIES="0",
        )
        with (tmp_path / "stderr.log").open("wb") as stderr:
            async with (
                spawned(server_command(), env, tmp_path, stderr) as process,
                Client(Pipes(process).transport()) as client,
                anyio.create_task_group() as group,
            ):

                async def call() -> None:
                    # The process goes away under the call; what the client says then is not the point.
                    with pytest.raises(Exception):  # noqa: B017
                        await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})

                group.start_soon(call)
                with anyio.fail_after(EXIT_WITHIN):
                    await emulator.arrived.wait()
                process.send_signal(signal.SIGINT)
                with anyio.fail_after(EXIT_WITHIN):
                    await process.wait()
                    await emulator.ended.wait()
    assert process.returncode == 0
    runs = [request for request in state.requests if "/ai/run/" in request.path]
    assert [request.status for request in runs] == [None]  # the model call was never answered


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_call_the_client_cancels_does_not_leave_its_upstream_request_running(
    settings: Settings, emulator_state: EmulatorState, mode: str
) -> None:
    emulator_state.inject(Fault.HANG)
    emulator = Watched(create_emulator_app(emulator_state))
    patient = settings.model_copy(update={"timeout": 600.0})  # only the cancellation can end the hang in time
    async with open_session(patient, upstream=emulator, mode=mode, raise_exceptions=False) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "translate", {"text": "hello", "target_lang": "fr"})
            with anyio.fail_after(EXIT_WITHIN):
                await emulator.arrived.wait()
            group.cancel_scope.cancel()
        with anyio.fail_after(EXIT_WITHIN):
            await emulator.ended.wait()
        after = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
    assert not after.is_error


async def test_stdin_lines_reads_long_lines_and_a_last_line_without_newline() -> None:
    read_end, write_end = os.pipe()
    payload = b"a" * 3_000_000 + b"\n\nsecond\nlast"

    async def write() -> None:
        view = memoryview(payload)
        while view:
            view = view[await anyio.to_thread.run_sync(os.write, write_end, view[: 1 << 16]) :]
        os.close(write_end)

    with anyio.fail_after(EXIT_WITHIN):
        async with anyio.create_task_group() as group:
            group.start_soon(write)
            lines = [line async for line in StdinLines(read_end)]
    os.close(read_end)
    assert [len(line) for line in lines] == [3_000_001, 1, 7, 4]
    assert lines[2:] == ["second\n", "last"]


async def test_waiting_for_stdin_is_cancellable() -> None:
    read_end, write_end = os.pipe()
    with anyio.fail_after(EXIT_WITHIN):
        async with anyio.create_task_group() as group:
            group.start_soon(StdinLines(read_end).readline)
            await anyio.wait_all_tasks_blocked()
            group.cancel_scope.cancel()
    os.close(read_end)
    os.close(write_end)


STRAY_PRINTS = """
import anyio, os, sys
from mcp.server import MCPServer
from workers_ai_mcp.transports.serve import serve_stdio

server = MCPServer("stray")

@server.tool()
def noisy(text: str) -> str:
    print("a stray print")
    os.system("echo a stray child line")
    return text.upper()

sys.exit(anyio.run(serve_stdio, server))
"""


def test_stray_output_of_a_tool_or_its_child_goes_to_stderr_and_every_answer_arrives_whole(tmp_path: Path) -> None:
    import subprocess
    import sys
    import threading

    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *({"jsonrpc": "2.0", "id": 2 + n, "method": "tools/call",
           "params": {"name": "noisy", "arguments": {"text": "x" * 200_000}}} for n in range(3)),
    ]  # fmt: skip
    with (tmp_path / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", STRAY_PRINTS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=tmp_path,
        )
        assert process.stdin is not None and process.stdout is not None
        watchdog = threading.Timer(60, process.kill)  # a hang fails the test instead of blocking it
        watchdog.start()
        try:
            process.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
            process.stdin.flush()
            answers = [json.loads(process.stdout.readline()) for _ in range(4)]
            process.stdin.close()
            assert process.wait() == 0
        finally:
            watchdog.cancel()
            process.kill()
            process.stdout.close()
    assert sorted(a["id"] for a in answers) == [1, 2, 3, 4]
    assert all(a["result"]["structuredContent"] == {"result": "X" * 200_000} for a in answers if a["id"] > 1)
    logged = (tmp_path / "stderr.log").read_text()
    assert logged.count("a stray print") == 3 and logged.count("a stray child line") == 3
