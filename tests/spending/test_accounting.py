"""Accounting edges: exact decimal budgets, and reservations of dead, zombie or reused processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette

from support.postgres import StateHome
from support.results import data_of, text_of
from support.session import open_session
from workers_ai_mcp.spending import ledger as ledger_module
from workers_ai_mcp.spending.ledger import BudgetExceededError, Budgets, Estimate, Ledger
from workers_ai_mcp.spending.liveness import process_start

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: no catalog price
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")


async def test_a_thirty_cent_budget_admits_three_calls_of_ten_cents(state: StateHome, emulator_app: Starlette) -> None:
    settings = state.settings(max_cost_usd=0.30, unpriced_call_usd=0.10)
    async with open_session(settings, upstream=emulator_app) as client:
        results = [await client.call_tool("summarize", TEXT) for _ in range(4)]
        report = data_of(await client.call_tool("usage", {}))
    assert [r.is_error for r in results] == [False, False, False, True]
    assert "about $0.3000 today (UTC) of the deployment's $0.3000 daily budget" in text_of(results[3])
    assert report["today"]["budget_left_usd"] == 0


RESERVER = """
import asyncio, sys, time
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.ledger import Budgets, Estimate, Ledger
from workers_ai_mcp.spending.store import open_store
async def main():
    store = open_store(Settings())  # the store the environment names
    await Ledger(store, Budgets(daily=1.0), call_ttl=3600).reserve("call:held", "@cf/x/y", Estimate(0.02))
    print("reserved", flush=True)
    time.sleep(3600)
asyncio.run(main())
"""


def wait_for_zombie(pid: int) -> None:
    with anyio.fail_after(30):
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)


@linux_only
async def test_the_reservation_of_a_killed_server_left_as_a_zombie_stops_holding_the_budget(
    state: StateHome, emulator_app: Starlette
) -> None:
    settings = state.settings(max_cost_usd=0.025, unpriced_call_usd=0.01)
    child = subprocess.Popen([sys.executable, "-c", RESERVER], stdout=subprocess.PIPE, env=os.environ | state.env())
    try:
        assert child.stdout is not None and child.stdout.readline() == b"reserved\n"
        os.kill(child.pid, signal.SIGKILL)
        wait_for_zombie(child.pid)  # killed, never reaped: its pid still answers a signal probe
        async with open_session(settings, upstream=emulator_app) as client:
            result = await client.call_tool("summarize", TEXT)  # 0.02 held by the zombie + 0.01 > 0.025
            report = data_of(await client.call_tool("usage", {}))
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert not result.is_error, text_of(result)
    assert report["held_usd"] == 0


@linux_only
async def test_a_reservation_whose_pid_now_belongs_to_another_process_is_released(state: StateHome) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    try:
        started = process_start(other.pid)
        assert started
        store = state.store()
        ledger = Ledger(store, Budgets(daily=0.03), call_ttl=3600)
        now = time.time()
        rows = [("reused", other.pid, "1"), ("same", other.pid, started)]  # "1": a start before this process's
        await store.run(
            lambda c: c.executemany(
                "INSERT INTO reservations (id, model, amount, pid, created, expires, pid_start) "
                "VALUES (?, 'm', 0.01, ?, ?, ?, ?)",
                [(key, pid, now, now + 3600, start) for key, pid, start in rows],
            )
        )
        await ledger.reserve("mine", "@cf/x/y", Estimate(0.02))  # 0.01 still held by the live process + 0.02
        with pytest.raises(BudgetExceededError, match="already spent or committed about \\$0.0300"):
            await ledger.reserve("more", "@cf/x/y", Estimate(0.001))
        left = await store.run(lambda c: sorted(r[0] for r in c.execute("SELECT id FROM reservations")))
        await store.aclose()
    finally:
        other.kill()
        other.wait()
    assert left == ["mine", "same"]


class ShiftedClock:
    """The `time` module as the ledger sees it, with the wall clock set `offset` seconds ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return REAL_TIME() + self.offset


REAL_TIME = time.time
DAY = 86400.0


async def test_a_clock_jumping_401_days_ahead_and_back_erases_no_history_and_resets_no_budget(
    state: StateHome, emulator_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ShiftedClock()
    monkeypatch.setattr(ledger_module, "time", clock)
    settings = state.settings(max_cost_usd=0.025, unpriced_call_usd=0.01)

    async def calls(count: int) -> list[bool]:  # a new session each time: a new Spending, pruning once
        async with open_session(settings, upstream=emulator_app) as client:
            return [(await client.call_tool("summarize", TEXT)).is_error for _ in range(count)]

    assert await calls(2) == [False, False]  # $0.02 of today's $0.025
    clock.offset = 401 * DAY
    assert await calls(1) == [False]  # another day as far as the clock knows
    clock.offset = 401 * DAY + 3600
    assert await calls(1) == [False]
    clock.offset = 0.0  # corrected
    assert await calls(1) == [True]  # today still holds its $0.02
    assert state.query("SELECT COUNT(*) FROM calls WHERE at < ?", (REAL_TIME() + DAY,)) == [(2,)]


async def test_calls_over_400_days_older_than_the_newest_record_are_dropped_from_a_continuous_history(
    state: StateHome,
) -> None:
    store = state.store()
    ledger = Ledger(store, Budgets())
    now = REAL_TIME()
    ages = (405, 399, 1)  # days
    await store.run(
        lambda c: c.executemany(
            "INSERT INTO calls (at, model, counted_usd) VALUES (?, '@cf/x/y', 0.01)", [(now - a * DAY,) for a in ages]
        )
    )
    await ledger.record("@cf/x/y", None, 0.01)
    await store.aclose()
    left = sorted(round((now - at) / DAY) for (at,) in state.query("SELECT at FROM calls"))
    assert left == [0, 1, 399]
