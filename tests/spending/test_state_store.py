"""The state store itself: schema versions and migrations, reservations that expire, and bad files."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette

from support.emulated import model_calls
from support.postgres import StateHome
from support.results import data_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.spending import sqlite_store
from workers_ai_mcp.spending.ledger import BudgetExceededError, Budgets, Estimate, Ledger
from workers_ai_mcp.spending.schema import SCHEMA_VERSION, migrate
from workers_ai_mcp.spending.store import FILE_NAME, StateStore

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_a_version_1_store_is_migrated_in_place_and_keeps_its_calls(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 0
    conn.execute(
        "INSERT INTO calls (at, model, usage, cost_usd, counted_usd) VALUES (?, '@cf/x/y', '{\"prompt_tokens\": 7}', "
        "0.5, 0.5)",
        (time.time(),),
    )
    conn.close()
    assert version_of(path) == 1
    store = StateStore(tmp_path)
    models = await Ledger(store, Budgets()).totals(0.0)
    tables = await store.run(lambda c: [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")])
    await store.aclose()
    assert [(m.model, m.calls, m.prompt_tokens, m.cost_usd) for m in models] == [("@cf/x/y", 1, 7, 0.5)]
    assert "batches" in tables and store.shared
    assert version_of(path) == SCHEMA_VERSION


async def test_a_store_written_by_a_newer_release_is_read_into_memory_and_left_untouched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / FILE_NAME
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    store = StateStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        ledger = Ledger(store, Budgets(daily=1.0))
        await ledger.record("@cf/x/y", {"prompt_tokens": 1}, 0.25)
        await ledger.record("@cf/x/y", {"prompt_tokens": 1}, 0.25)
        committed = await ledger.committed()
    await store.aclose()
    assert committed.total.today == 0.5 and not store.shared and "newer release" in (store.problem or "")
    assert len([r for r in caplog.records if "cannot be used" in r.getMessage()]) == 1
    assert path.read_bytes() == before


async def test_reservations_expire_and_those_of_gone_processes_are_dropped(state: StateHome) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead_pid = int(gone.stdout)
    store = state.store()
    ledger = Ledger(store, Budgets(daily=0.03), call_ttl=3600)
    now = time.time()
    rows = [
        ("expired", 0.01, os.getpid(), now - 10),
        ("dead", 0.01, dead_pid, now + 3600),
        ("live", 0.01, os.getppid(), now + 3600),
    ]
    await store.run(
        lambda c: c.executemany(
            "INSERT INTO reservations (id, model, amount, pid, created, expires) VALUES (?, 'm', ?, ?, 0, ?)", rows
        )
    )
    await ledger.reserve("mine", "@cf/x/y", Estimate(0.02))  # 0.01 held by the live parent + 0.02
    with pytest.raises(BudgetExceededError, match="already spent or committed about \\$0.0300"):
        await ledger.reserve("more", "@cf/x/y", Estimate(0.001, "the catalog could not be read"))
    left = await store.run(lambda c: sorted(r[0] for r in c.execute("SELECT id FROM reservations")))
    await store.aclose()
    assert left == ["live", "mine"]


async def test_a_damaged_store_file_leaves_a_working_server_that_says_spending_is_in_memory(
    tmp_path: Path, emulator_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=0.015, unpriced_call_usd=0.01)
    settings.state_dir.mkdir(parents=True)
    damaged = settings.state_dir / FILE_NAME
    damaged.write_bytes(b"this is not a database, it is what a crash left behind" * 100)
    before = damaged.read_bytes()
    with caplog.at_level(logging.WARNING):
        async with open_session(settings, upstream=emulator_app) as client:
            first = data_of(await client.call_tool("summarize", TEXT))
            refused = await client.call_tool("summarize", TEXT)
            submitted = data_of(await client.call_tool("list_batches", {}))
            report = data_of(await client.call_tool("usage", {}))
    assert "Spending is tracked in memory for this server process only" in first["call"]["spending_note"]
    assert "is damaged" in first["call"]["spending_note"]
    assert refused.is_error and "this process (its spending is kept in memory" in text_of(refused)
    assert submitted["jobs"] == []
    assert report["store"] == "memory" and report["note"].startswith("Spending is kept in memory")
    assert report["today"]["total"]["calls"] == 1
    assert len([r for r in caplog.records if "cannot be used" in r.getMessage()]) == 1
    assert damaged.read_bytes() == before


async def test_an_unwritable_state_folder_falls_back_to_memory(tmp_path: Path, emulator_app: Starlette) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    settings = make_settings(tmp_path, state_dir=blocker / "state")
    async with open_session(settings, upstream=emulator_app) as client:
        result = data_of(await client.call_tool("translate", {"text": "hello", "target_lang": "fr"}))
        report = data_of(await client.call_tool("usage", {}))
    assert "in memory for this server process only" in result["call"]["spending_note"]
    assert report["store"] == "memory" and report["today"]["total"]["calls"] == 1


LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as another process's long transaction holds it
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def rows_in(path: Path, table: str) -> int:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


async def test_a_store_locked_for_four_seconds_by_another_process_costs_a_wait_and_nothing_moves_to_memory(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=1.0, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        data_of(await client.call_tool("summarize", TEXT))
        holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(settings.state_dir / FILE_NAME), "4"], stdout=subprocess.PIPE
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
            during = data_of(await client.call_tool("summarize", TEXT))  # its budget check waits for the lock
            after = data_of(await client.call_tool("summarize", TEXT))
            report = data_of(await client.call_tool("usage", {}))
        finally:
            holder.kill()
            holder.wait()
            if holder.stdout is not None:
                holder.stdout.close()
    assert all("in memory" not in (r["call"].get("spending_note") or "") for r in (during, after))
    assert report["store"] == str(settings.state_dir / FILE_NAME) and report["today"]["total"]["calls"] == 3
    assert rows_in(settings.state_dir / FILE_NAME, "calls") == 3


async def test_a_store_locked_past_the_wait_refuses_a_budgeted_call_with_a_sentence_and_goes_on_in_the_file(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "LOCK_WAIT_SECONDS", 3.0)
    settings = make_settings(tmp_path, max_cost_usd=1.0, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        data_of(await client.call_tool("summarize", TEXT))
        holder = sqlite3.connect(settings.state_dir / FILE_NAME, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # a transaction that outlasts the wait
        try:
            sent = len(model_calls(emulator_state))
            refused = await client.call_tool("summarize", TEXT)
            assert len(model_calls(emulator_state)) == sent
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = data_of(await client.call_tool("summarize", TEXT))
        report = data_of(await client.call_tool("usage", {}))
    assert refused.is_error and "stayed locked by another process" in text_of(refused)
    assert "was not sent" in text_of(refused)
    assert "in memory" not in (after["call"].get("spending_note") or "")
    assert report["store"] == str(settings.state_dir / FILE_NAME) and report["today"]["total"]["calls"] == 2


async def test_recorded_calls_are_written_behind_the_answer_and_all_land_when_the_store_closes(
    state: StateHome,
) -> None:
    store = state.store()
    ledger = Ledger(store, Budgets())
    for _ in range(50):
        await ledger.record("@cf/x/y", {"prompt_tokens": 1}, 0.001)
    await store.aclose()
    (count, total), *_ = state.query("SELECT COUNT(*), SUM(counted_usd) FROM calls")
    assert count == 50 and total == pytest.approx(0.05)


async def test_a_budget_check_sees_every_call_this_process_recorded_before_it(state: StateHome) -> None:
    store = state.store()
    ledger = Ledger(store, Budgets(daily=0.05))
    for number in range(5):
        await ledger.reserve(f"call:{number}", "@cf/x/y", Estimate(0.01))
        await ledger.record("@cf/x/y", None, 0.01, release=f"call:{number}")
    with pytest.raises(BudgetExceededError, match="already spent or committed about \\$0.0500"):
        await ledger.reserve("call:5", "@cf/x/y", Estimate(0.001))
    await store.aclose()


def test_calls_still_queued_when_the_interpreter_exits_are_written(state: StateHome) -> None:
    script = (
        "import asyncio\n"
        "from workers_ai_mcp.settings import Settings\n"
        "from workers_ai_mcp.spending.ledger import Budgets, Ledger\n"
        "from workers_ai_mcp.spending.store import open_store\n"
        "async def main():\n"
        "    ledger = Ledger(open_store(Settings()), Budgets())\n"
        "    for _ in range(20):\n"
        "        await ledger.record('@cf/x/y', None, 0.01)\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env=os.environ | state.env())
    assert state.query("SELECT COUNT(*) FROM calls") == [(20,)]
