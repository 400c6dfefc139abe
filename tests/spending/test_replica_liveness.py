"""Replicas on other machines, on the PostgreSQL store: what a run holds lives as long as its heartbeat.

A pid read on this machine means nothing for a replica elsewhere, so a reservation or a task of a run
on another host holds while that run's `instances` row beats (younger than `INSTANCE_TIMEOUT_SECONDS`
by the database's clock) and is let go once it stopped; a run on this host is judged by its process.
Only the PostgreSQL store has replicas on other hosts: these tests use it directly, never skipping
on SQLite (whose liveness, by /proc, test_state_store and the task suite cover on both backends).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from support.postgres import StateHome, state_home
from support.results import data_of, text_of
from support.session import open_session
from support.tasks import TasksDeclared, task_request
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app
from workers_ai_mcp.spending.liveness import INSTANCE_TIMEOUT_SECONDS, host_key

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: $0.01 fallback
ELSEWHERE = "replica-2 00000000-0000-0000-0000-000000000000 pid:[4026531836]"  # another machine's host key
STALE = INSTANCE_TIMEOUT_SECONDS + 15  # seconds since the last beat of a run that stopped
FRESH = 2.0  # seconds since the last beat of a run that beats (every HEARTBEAT_SECONDS)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[StateHome]:
    with state_home("postgresql", tmp_path) as found:
        yield found


def dead_pid() -> int:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(gone.stdout)


def register(home: StateHome, instance: str, host: str, pid: int, silent: float) -> None:
    """An `instances` row as another server run writes it, its heartbeat `silent` seconds old by the database."""
    home.execute(
        "INSERT INTO instances (id, host, pid, pid_start, started, heartbeat) VALUES (?, ?, ?, NULL, "
        "extract(epoch from clock_timestamp()) - 3600, extract(epoch from clock_timestamp()) - ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat",
        (instance, host, pid, silent),
    )


def reserve(home: StateHome, key: str, instance: str, pid: int, amount: float) -> None:
    """A reservation of a call in flight in the run `instance` (expiring in an hour: only liveness ends it)."""
    home.execute(
        "INSERT INTO reservations (id, model, amount, pid, created, expires, pid_start, instance) "
        "VALUES (?, '@cf/facebook/bart-large-cnn', ?, ?, ?, ?, NULL, ?)",
        (key, amount, pid, time.time(), time.time() + 3600, instance),
    )


def held(home: StateHome) -> list[str]:
    return [str(row[0]) for row in home.query("SELECT id FROM reservations ORDER BY id")]


async def test_a_reservation_of_a_replica_on_another_host_holds_while_it_beats_and_stops_once_its_beat_is_stale(
    home: StateHome,
) -> None:
    settings = home.settings(max_cost_usd=0.025, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as client:
        data_of(await client.call_tool("usage", {}))  # the schema exists, this run is registered
        # A pid of another host may be any pid here, alive or not: only the heartbeat counts.
        register(home, "far-stopped", ELSEWHERE, os.getpid(), STALE)
        register(home, "far-beating", ELSEWHERE, dead_pid(), FRESH)
        register(home, "near-running", host_key(), os.getppid(), STALE)  # this host: its process says
        reserve(home, "r-far-stopped", "far-stopped", os.getpid(), 0.02)
        reserve(home, "r-far-beating", "far-beating", dead_pid(), 0.005)
        reserve(home, "r-near-running", "near-running", os.getppid(), 0.005)
        before = data_of(await client.call_tool("usage", {}))
        fits = await client.call_tool("summarize", TEXT)  # 0.01 held + 0.01: the stopped run's 0.02 is gone
        crosses = await client.call_tool("summarize", TEXT)  # 0.01 spent + 0.01 held + 0.01
        kept = held(home)
        register(home, "far-beating", ELSEWHERE, dead_pid(), STALE)  # its beat stops
        after = data_of(await client.call_tool("usage", {}))
    assert before["held_usd"] == pytest.approx(0.01)
    assert not fits.is_error
    assert crosses.is_error and "about $0.0200" in text_of(crosses)
    assert kept == ["r-far-beating", "r-near-running"]
    assert after["held_usd"] == pytest.approx(0.005) and held(home) == ["r-near-running"]


async def tasks_get(client: Client, task_id: str) -> dict[str, object]:
    return await task_request(client, "tasks/get", task_id)


def working_task(home: StateHome, task_id: str, owner: str, pid: int) -> None:
    now = time.time()
    home.execute(
        "INSERT INTO tasks (task_id, tool, status, status_message, created, updated, ttl_ms, poll_ms, owner, pid, "
        "era, result, error) VALUES (?, 'generate_image', 'working', 'Started.', ?, ?, 3600000, 1000, ?, ?, "
        "'2026-07-28', NULL, NULL)",
        (task_id, now, now, owner, pid),
    )


async def test_a_task_of_a_replica_on_another_host_reads_as_lost_once_its_beat_is_stale_and_working_while_fresh(
    home: StateHome,
) -> None:
    async with open_session(
        home.settings(), upstream=create_emulator_app(EmulatorState()), extensions=[TasksDeclared()]
    ) as client:
        with pytest.raises(MCPError, match="task not found"):  # the schema and its tasks table exist
            await tasks_get(client, "t-none")
        register(home, "far-stopped", ELSEWHERE, os.getpid(), STALE)
        register(home, "far-beating", ELSEWHERE, dead_pid(), FRESH)
        working_task(home, "t-far-stopped", "far-stopped", os.getpid())
        working_task(home, "t-far-beating", "far-beating", dead_pid())
        stopped = await tasks_get(client, "t-far-stopped")
        beating = await tasks_get(client, "t-far-beating")
        register(home, "far-beating", ELSEWHERE, dead_pid(), STALE)
        later = await tasks_get(client, "t-far-beating")
        home.execute("DELETE FROM instances WHERE id = 'far-stopped'")  # deregistered at its shutdown
        working_task(home, "t-deregistered", "far-stopped", os.getpid())
        deregistered = await tasks_get(client, "t-deregistered")
    assert stopped["status"] == "failed" and "stopped before it finished" in str(stopped["statusMessage"])
    assert beating["status"] == "working" and beating["statusMessage"] == "Started."
    assert later["status"] == "failed"
    assert deregistered["status"] == "failed"
    rows = dict(home.query("SELECT task_id, status FROM tasks"))
    assert rows == {"t-far-stopped": "failed", "t-far-beating": "failed", "t-deregistered": "failed"}
