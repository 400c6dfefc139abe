"""Over stdio every line that is not one JSON-RPC message gets a JSON-RPC error, so no client waits for ever."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from anyio.abc import Process

from support.transports import server_command, server_env, spawned
from workers_ai_mcp.transports.stdio import StdinLines, parse_line

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX pipes")

ANSWER_WITHIN = 10.0
SMALL_LIMIT = 65_536

OVERSIZED = b'{"jsonrpc":"2.0","id":11,"method":"ping","params":{"x":"' + b"A" * 100_000 + b'"}}'
MALFORMED: list[tuple[str, bytes, int, object]] = [
    ("nested 300 deep", b"[" * 300 + b"]" * 300, -32700, None),
    ("nested 10,000 deep", b'{"a":' * 10_000, -32700, None),
    ("a lone surrogate", b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"x":"\\ud800"}}', -32700, None),
    ("a non-UTF-8 prefix", b'\xff\xfe{"jsonrpc":"2.0","id":8,"method":"ping"}', -32700, None),
    ("a batch array", b'[{"jsonrpc":"2.0","id":9,"method":"ping"}]', -32600, None),
    ("no method", b'{"jsonrpc":"2.0","id":10}', -32600, 10),
    ("not JSON", b"hello", -32700, None),
    *(
        (f"an id that is {kind}", b'{"jsonrpc":"2.0","id":' + request_id + b',"method":"ping"}', -32600, None)
        for kind, request_id in (
            ("a fraction", b"1.5"),
            ("a float", b"2.0"),
            ("a boolean", b"true"),
            ("an object", b'{"n":1}'),
            ("an array", b"[3]"),
            ("null", b"null"),
        )
    ),
    (
        "over the size limit",
        b'{"jsonrpc":"2.0","id":11,"method":"ping","params":{"x":"' + b"A" * 100_000 + b'"}}',
        -32600,
        None,
    ),
]


async def _next_message(process: Process, pending: bytearray) -> dict[str, Any]:
    assert process.stdout is not None
    while b"\n" not in pending:
        pending += await process.stdout.receive()
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    message: dict[str, Any] = json.loads(line)
    return message


async def test_every_malformed_line_gets_a_json_rpc_error_and_the_server_keeps_serving(tmp_path: Path) -> None:
    env = server_env(tmp_path, WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES=str(SMALL_LIMIT))
    answers: dict[str, dict[str, Any]] = {}
    with (tmp_path / "stderr.log").open("wb") as stderr:
        async with spawned(server_command("--emulator"), env, tmp_path, stderr) as process:
            assert process.stdin is not None
            pending = bytearray()
            for name, line, _, _ in MALFORMED:
                await process.stdin.send(line + b"\n")
                with anyio.fail_after(ANSWER_WITHIN):
                    answers[name] = await _next_message(process, pending)
            await process.stdin.send(b"\n")  # blank lines are skipped, not answered
            initialize = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            }
            await process.stdin.send(json.dumps(initialize).encode() + b"\n")
            with anyio.fail_after(ANSWER_WITHIN):
                initialized = await _next_message(process, pending)
            await process.stdin.aclose()
            with anyio.fail_after(ANSWER_WITHIN):
                await process.wait()
    for name, _, code, request_id in MALFORMED:
        assert answers[name]["jsonrpc"] == "2.0", name
        assert answers[name]["error"]["code"] == code, (name, answers[name])
        assert answers[name]["id"] == request_id, (name, answers[name])
    assert "batches" in answers["a batch array"]["error"]["message"]
    assert "WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES" in answers["over the size limit"]["error"]["message"]
    assert initialized["id"] == 1 and "result" in initialized
    assert process.returncode == 0
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


def test_a_valid_message_is_parsed_once_into_the_message_the_server_gets() -> None:
    line = b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n'
    assert parse_line(line) == (types.JSONRPCRequest(jsonrpc="2.0", id=1, method="ping"), None)


async def test_a_line_over_the_limit_is_skipped_without_being_held_whole() -> None:
    import os

    read_end, write_end = os.pipe()
    lines = StdinLines(read_end, max_line=1000)

    async def write() -> None:
        for _ in range(100):  # 100 KB in 1 KB pieces: the reader keeps at most a chunk past the limit
            await anyio.to_thread.run_sync(os.write, write_end, b"x" * 1000)
        await anyio.to_thread.run_sync(os.write, write_end, b"\nnext\n")
        os.close(write_end)

    with anyio.fail_after(ANSWER_WITHIN):
        async with anyio.create_task_group() as group:
            group.start_soon(write)
            read = [await lines.read_line(), await lines.read_line(), await lines.read_line()]
    os.close(read_end)
    assert read == [None, b"next\n", b""]
