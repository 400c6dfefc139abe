"""Long tool calls as tasks: 2026-07-28 (SEP-2663) and 2025-11-25 clients that declare tasks get one for a
slow FLUX.2 dev image, poll it to the image or cancel it (the upstream request dropped, nothing spent);
clients without tasks, and calls that are quick, get the synchronous answer."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from support.emulator import make_wav
from support.postgres import StateHome
from support.session import open_session
from support.settings import make_settings
from support.tasks import ModelRun, TaskHandle, TasksDeclared, legacy_tool_call, poll, raw_session, task_request
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.settings import Settings

FLUX2_DEV = "@cf/black-forest-labs/flux-2-dev"
SLOW_IMAGE = {"prompt": "a lighthouse at dusk", "model": FLUX2_DEV, "seed": 7}  # 1024x1024, default steps
QUICK_IMAGE = {"prompt": "a small lighthouse", "model": FLUX2_DEV, "width": 512, "height": 512, "steps": 4}


def budgeted(tmp_path: Path) -> Settings:
    """A daily budget, so that every call holds a reservation until it is priced or dropped."""
    return make_settings(tmp_path, max_cost_usd=5.0)


def spent(settings: Settings) -> tuple[int, int]:
    """(recorded calls, reservations held) in the shared store."""
    with sqlite3.connect(settings.state_dir / "state.sqlite3") as conn:
        calls = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        held = conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
    return calls, held


async def settle(client: Client) -> None:
    """Let the store write what it queued behind answers (every use of the store writes its queue first)."""
    with pytest.raises(MCPError):
        await task_request(client, "tasks/get", "no-such-task")


def image_blocks(result: dict[str, Any]) -> list[str]:
    return [block["data"] for block in result["content"] if block["type"] == "image"]


async def test_a_2026_client_that_declares_tasks_gets_a_task_for_a_flux2_dev_image_and_polls_it_to_the_image(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        assert handle.status == "working" and handle.ttl_ms == 3_600_000 and handle.poll_interval_ms
        task = await poll(client, handle.task_id)
    assert task["status"] == "completed", task
    assert task["resultType"] == "complete"
    result = CallToolResult.model_validate(task["result"])
    assert not result.is_error
    assert image_blocks(task["result"]), "the image preview is in the task's result"
    assert any(block.type == "resource_link" for block in result.content)

    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as plain:
        direct = await plain.call_tool("generate_image", SLOW_IMAGE)
    assert image_blocks(direct.model_dump(mode="json", by_alias=True)) == image_blocks(task["result"])
    assert [block.type for block in direct.content] == [block.type for block in result.content]


async def test_a_2026_client_without_tasks_gets_the_synchronous_answer(tmp_path: Path) -> None:
    async with open_session(make_settings(tmp_path), upstream=create_emulator_app(EmulatorState())) as client:
        result = await client.call_tool("generate_image", SLOW_IMAGE)
    assert isinstance(result, CallToolResult) and not result.is_error
    assert any(block.type == "image" for block in result.content)


@pytest.mark.parametrize(
    ("arguments", "why"),
    [
        (QUICK_IMAGE, "little work"),
        ({"prompt": "a lighthouse"}, "flux-1-schnell is not priced per step"),
    ],
)
async def test_a_quick_image_is_answered_at_once_even_to_a_client_that_declares_tasks(
    tmp_path: Path, arguments: dict[str, Any], why: str
) -> None:
    async with open_session(
        make_settings(tmp_path), upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        result = await client.session.call_tool("generate_image", arguments, allow_claimed=True)
    assert isinstance(result, CallToolResult), why


async def test_with_spending_consent_on_a_slow_image_is_not_made_a_task_so_that_the_person_can_be_asked(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, confirm_above_usd=0.000001)
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        result = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
    assert not isinstance(result, TaskHandle)
    assert isinstance(result, CallToolResult) and result.is_error  # this client cannot be asked
    assert "WORKERS_AI_MCP_CONFIRM_ABOVE_USD" in str(result.content[0])


async def test_cancelling_a_2026_task_drops_the_upstream_request_and_spends_nothing(tmp_path: Path) -> None:
    settings = budgeted(tmp_path)
    state = EmulatorState()
    emulator = ModelRun(create_emulator_app(state))
    async with open_session(settings, upstream=emulator, extensions=[TasksDeclared()]) as client:
        await client.session.call_tool("generate_image", QUICK_IMAGE, allow_claimed=True)  # reads the catalog
        await settle(client)
        assert spent(settings) == (1, 0)
        emulator.arrived = anyio.Event()
        state.inject(Fault.HANG)  # the next request, the image's run, never answers
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        await emulator.arrived.wait()
        assert spent(settings) == (1, 1), "the call holds its reservation while it waits"
        working = await task_request(client, "tasks/get", handle.task_id)
        assert working["status"] == "working" and working["statusMessage"] == "generating", "progress flows"
        ack = await task_request(client, "tasks/cancel", handle.task_id)
        assert ack["resultType"] == "complete" and "status" not in ack, "SEP-2663: an acknowledgement only"
        with anyio.fail_after(10):
            await emulator.ended.wait()  # the upstream request was dropped, not left to run
        task = await poll(client, handle.task_id)
        await settle(client)
    assert task["status"] == "cancelled"
    assert "result" not in task
    assert spent(settings) == (1, 0), "nothing recorded, the reservation released"
    assert state.requests[-1].path.endswith(f"/ai/run/{FLUX2_DEV}") and state.requests[-1].status is None


async def test_tasks_get_of_an_unknown_task_is_invalid_params(tmp_path: Path) -> None:
    async with open_session(
        make_settings(tmp_path), upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        with pytest.raises(MCPError, match="task not found") as raised:
            await task_request(client, "tasks/get", "no-such-task")
    assert raised.value.code == -32602


async def test_a_2025_11_25_client_gets_a_task_when_it_asks_and_reads_the_image_with_tasks_result(
    tmp_path: Path,
) -> None:
    server = create_server(make_settings(tmp_path), transport=_asgi(create_emulator_app(EmulatorState())))
    async with raw_session(server, capabilities={"tasks": {"list": {}, "cancel": {}}}) as session:
        capabilities = session.initialized["capabilities"]
        assert capabilities["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        tools = {tool["name"]: tool for tool in (await session.result("tools/list"))["tools"]}
        assert tools["generate_image"]["execution"] == {"taskSupport": "optional"}
        assert "execution" not in tools["chat"]

        created = await session.result("tools/call", legacy_tool_call("generate_image", SLOW_IMAGE, token="p1"))
        task = created["task"]
        assert task["status"] == "working" and task["ttl"] == 3_600_000 and "pollInterval" in task
        done = await session.poll(task["taskId"])
        assert done["status"] == "completed" and "result" not in done
        payload = await session.result("tasks/result", {"taskId": task["taskId"]})
        listed = await session.result("tasks/list")
    assert image_blocks(payload)
    assert payload["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
    assert task["taskId"] in [t["taskId"] for t in listed["tasks"]]
    progress = [n for n in session.notifications if n["method"] == "notifications/progress"]
    assert progress and all(n["params"]["progressToken"] == "p1" for n in progress), "progress still flows"


async def test_a_2025_11_25_client_without_tasks_gets_the_tool_list_and_the_answer_as_before(tmp_path: Path) -> None:
    server = create_server(make_settings(tmp_path), transport=_asgi(create_emulator_app(EmulatorState())))
    async with raw_session(server) as session:
        tools = (await session.result("tools/list"))["tools"]
        result = await session.result("tools/call", {"name": "generate_image", "arguments": SLOW_IMAGE})
    assert not any("execution" in tool for tool in tools)
    assert "task" not in result and image_blocks(result)


async def test_cancelling_a_2025_11_25_task_drops_the_upstream_request_and_spends_nothing(tmp_path: Path) -> None:
    settings = budgeted(tmp_path)
    state = EmulatorState()
    emulator = ModelRun(create_emulator_app(state))
    async with raw_session(create_server(settings, transport=_asgi(emulator))) as session:
        await session.result("tools/call", {"name": "generate_image", "arguments": QUICK_IMAGE})
        emulator.arrived = anyio.Event()
        state.inject(Fault.HANG)
        created = await session.result("tools/call", legacy_tool_call("generate_image", SLOW_IMAGE))
        task_id = created["task"]["taskId"]
        await emulator.arrived.wait()
        cancelled = await session.result("tasks/cancel", {"taskId": task_id})
        assert cancelled["status"] == "cancelled"
        with anyio.fail_after(10):
            await emulator.ended.wait()
        again = await session.request("tasks/cancel", {"taskId": task_id})
        result = await session.request("tasks/result", {"taskId": task_id})
        await session.request("tasks/get", {"taskId": "no-such-task"})  # the store writes its queue first
    assert again["error"]["code"] == -32602, "a task that ended cannot be cancelled again"
    assert "cancelled" in result["error"]["message"]
    assert spent(settings) == (1, 0), "only the first, answered call is recorded"
    assert state.requests[-1].status is None, "the cancelled run was never answered"


async def test_a_tool_that_never_runs_as_a_task_refuses_the_task_parameter(tmp_path: Path) -> None:
    server = create_server(make_settings(tmp_path), transport=_asgi(create_emulator_app(EmulatorState())))
    async with raw_session(server) as session:
        answer = await session.request("tools/call", legacy_tool_call("list_models", {}))
    assert answer["error"]["code"] == -32601


async def test_another_server_process_answers_tasks_get_with_the_result_after_a_restart(state: StateHome) -> None:
    settings = state.settings()
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        finished = await poll(client, handle.task_id)
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as later:
        again = await task_request(later, "tasks/get", handle.task_id)
    assert again["status"] == "completed" and again["result"] == finished["result"]


async def test_a_task_whose_server_process_died_is_reported_lost(state: StateHome) -> None:
    settings = state.settings()
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        with pytest.raises(MCPError, match="task not found"):  # the store and its tasks table exist
            await task_request(client, "tasks/get", "t-dead")
        dead = await _dead_pid()
        state.execute(
            "INSERT INTO tasks (task_id, tool, status, status_message, created, updated, ttl_ms, poll_ms, "
            "owner, pid, era, result, error) VALUES ('t-dead', 'generate_image', 'working', 'Started.', ?, ?, "
            "3600000, 1000, ?, ?, '2026-07-28', NULL, NULL)",
            (time.time(), time.time(), f"{dead}-gone", dead),
        )
        task = await task_request(client, "tasks/get", "t-dead")
    assert task["status"] == "failed"
    assert "stopped before it finished" in task["statusMessage"]
    assert task["error"]["code"] == -32603


async def test_a_task_past_its_time_to_live_is_gone(state: StateHome) -> None:
    settings = state.settings()
    async with open_session(
        settings, upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        await poll(client, handle.task_id)
        state.execute("UPDATE tasks SET created = created - 7200 WHERE task_id = ?", (handle.task_id,))
        with pytest.raises(MCPError, match="task not found"):
            await task_request(client, "tasks/get", handle.task_id)
        second = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(second, TaskHandle)
        ids = [row[0] for row in state.query("SELECT task_id FROM tasks")]
        await poll(client, second.task_id)
    assert handle.task_id not in ids, "creating a task prunes those past their time-to-live"


def _asgi(app: Any) -> Any:
    import httpx2

    return httpx2.ASGITransport(app=app)


async def _dead_pid() -> int:
    process = await anyio.open_process(["true"])
    await process.wait()
    return process.pid


@pytest.mark.parametrize(("seconds", "as_task"), [(640, True), (30, False)])
async def test_a_long_recording_is_transcribed_as_a_task_and_a_short_one_at_once(
    tmp_path: Path, seconds: int, as_task: bool
) -> None:
    recording = tmp_path / "meeting.wav"
    recording.write_bytes(make_wav(seconds=seconds, rate=8_000))  # 8 kHz, 16 bit: 0.96 MB a minute
    async with open_session(
        make_settings(tmp_path, timeout=30.0),
        upstream=create_emulator_app(EmulatorState()),
        extensions=[TasksDeclared()],
    ) as client:
        answer = await client.session.call_tool("transcribe_audio", {"audio": str(recording)}, allow_claimed=True)
        made_a_task = isinstance(answer, TaskHandle)
        if isinstance(answer, TaskHandle):
            task = await poll(client, answer.task_id)
            assert task["status"] == "completed", task
            answer = CallToolResult.model_validate(task["result"])
    assert isinstance(answer, CallToolResult) and not answer.is_error
    assert made_a_task == as_task
    assert any(block.type == "text" for block in answer.content)


async def test_a_task_cancelled_through_another_process_stops_at_its_next_progress_report(state: StateHome) -> None:
    settings = state.settings()
    upstream = EmulatorState()
    emulator = ModelRun(create_emulator_app(upstream))
    async with open_session(settings, upstream=emulator, extensions=[TasksDeclared()]) as client:
        await client.session.call_tool("generate_image", QUICK_IMAGE, allow_claimed=True)  # reads the catalog
        emulator.arrived = anyio.Event()
        emulator.ended = anyio.Event()
        upstream.inject(Fault.HANG)
        handle = await client.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        await emulator.arrived.wait()
        # what another process's cancel writes
        state.execute("UPDATE tasks SET status = 'cancelled' WHERE task_id = ?", (handle.task_id,))
        with anyio.fail_after(20):
            await emulator.ended.wait()  # the heartbeat's report found the task ended, and stopped the work
        task = await task_request(client, "tasks/get", handle.task_id)
    assert task["status"] == "cancelled"
    assert upstream.requests[-1].status is None
