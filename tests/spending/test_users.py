"""Spending per user in the ledger: every record, reservation and day total names its user; each user's budgets
count only their calls and the deployment's count everyone's, checked in the one reserving transaction; a store
of schema version 3 is migrated with its records the local user's, and its tasks table given its user column
(on PostgreSQL too). The ledger's tests run against SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette

from support.postgres import StateHome, state_home
from support.results import data_of
from support.session import open_session
from workers_ai_mcp.spending.ledger import BudgetExceededError, Budgets, Estimate, Ledger
from workers_ai_mcp.spending.schema import SCHEMA_VERSION, check_schema, migrate
from workers_ai_mcp.spending.store import FILE_NAME, StateStore
from workers_ai_mcp.tools.host.tasks.store import TaskStore

MODEL = "@cf/x/y"
TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: no catalog price
# The tasks table as releases before per-user tasks made it (no user_id).
OLD_TASKS = """
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY, tool TEXT NOT NULL, status TEXT NOT NULL, status_message TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, ttl_ms INTEGER NOT NULL, poll_ms INTEGER NOT NULL,
    owner TEXT NOT NULL, pid INTEGER NOT NULL, era TEXT NOT NULL, result TEXT, error TEXT)
"""


def cents(amount: float) -> Estimate:
    return Estimate(amount)


async def test_each_user_s_budget_counts_only_their_calls_while_the_deployment_s_counts_everyone_s(
    state: StateHome,
) -> None:
    ledger = Ledger(state.store(), Budgets(daily=0.50, user_daily=0.20))
    for key in ("a1", "a2"):
        await ledger.reserve(key, MODEL, cents(0.10), "alice")
        await ledger.record(MODEL, None, 0.10, release=key, user="alice")
    with pytest.raises(BudgetExceededError, match=r"your \$0\.2000 daily budget \(WORKERS_AI_MCP_USER_MAX_COST_USD\)"):
        await ledger.reserve("a3", MODEL, cents(0.10), "alice")
    await ledger.reserve("b1", MODEL, cents(0.20), "bob")  # held, not yet answered: it counts for bob and in total
    with pytest.raises(BudgetExceededError, match="you have already spent or committed about \\$0.2000"):
        await ledger.reserve("b2", MODEL, cents(0.01), "bob")
    await ledger.reserve("c1", MODEL, cents(0.10), "carol")
    with pytest.raises(
        BudgetExceededError, match=r"the deployment's \$0\.5000 daily budget \(WORKERS_AI_MCP_MAX_COST_USD\)"
    ):
        await ledger.reserve("c2", MODEL, cents(0.01), "carol")

    alice, carol = await ledger.committed("alice"), await ledger.committed("carol")
    assert alice.user.today == pytest.approx(0.20) and alice.user.held == 0.0
    assert carol.user.held == pytest.approx(0.10) and carol.total.held == pytest.approx(0.30)
    assert alice.total.today == pytest.approx(0.20) and carol.left(ledger.budgets) == 0.0
    users = {t.user: t for t in await ledger.per_user()}
    assert users["alice"].today == pytest.approx(0.20) and users["bob"].held == pytest.approx(0.20)
    assert [u.model for u in await ledger.totals(0.0, user="alice")] == [MODEL]
    assert await ledger.totals(0.0, user="bob") == []
    await ledger.store.aclose()


async def test_a_user_s_monthly_budget_refuses_in_its_own_words(state: StateHome) -> None:
    ledger = Ledger(state.store(), Budgets(user_monthly=0.05))
    await ledger.record(MODEL, None, 0.05, user="dana")
    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve("d1", MODEL, cents(0.01), "dana")
    await ledger.reserve("e1", MODEL, cents(0.05), "erin")
    await ledger.store.aclose()
    text = str(refused.value)
    assert "this month (UTC) of your $0.0500 monthly budget (WORKERS_AI_MCP_USER_MAX_COST_USD_MONTHLY)" in text
    assert "the operator can raise WORKERS_AI_MCP_USER_MAX_COST_USD_MONTHLY" in text


async def test_a_queued_batch_holds_its_estimate_for_the_user_who_queued_it(state: StateHome) -> None:
    ledger = Ledger(state.store(), Budgets(user_daily=0.10))
    await ledger.hold_batch("job-1", MODEL, 0.10, 5.0, "alice")
    with pytest.raises(BudgetExceededError):
        await ledger.reserve("a1", MODEL, cents(0.01), "alice")
    await ledger.reserve("b1", MODEL, cents(0.10), "bob")
    await ledger.record(MODEL, None, 0.08, kind="batch", release="batch:job-1", user="alice")
    alice = await ledger.committed("alice")
    await ledger.store.aclose()
    assert alice.user.held == 0.0 and alice.user.today == pytest.approx(0.08)


def version_3_file(folder: Path) -> Path:
    """A store as the release before per-user spending left it: records, a day total, a batch and a task."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, target=3)
        now = time.time()
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        conn.execute(
            "INSERT INTO calls (at, model, usage, cost_usd, counted_usd) VALUES (?, ?, '{}', 0.25, 0.25)", (now, MODEL)
        )
        conn.execute("INSERT INTO days (day, counted_usd) VALUES (?, 0.25)", (day,))
        conn.execute(
            "INSERT INTO batches (job_id, model, count, submitted_at, status) VALUES ('old-job', ?, 1, ?, 'queued')",
            (MODEL, "2026-12-01T00:00:00+00:00"),
        )
        conn.execute(OLD_TASKS)
        conn.execute(
            "INSERT INTO tasks VALUES ('old-task', 'generate_image', 'completed', 'Done.', ?, ?, 3600000, 1000, "
            "'gone-1', 1, '2026-07-28', '{\"content\": []}', NULL)",
            (now, now),
        )
        assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    finally:
        conn.close()
    return path


async def test_a_version_3_store_is_migrated_with_every_record_the_local_user_s(tmp_path: Path) -> None:
    path = version_3_file(tmp_path)
    store = StateStore(tmp_path)
    ledger = Ledger(store, Budgets(user_daily=0.30))
    local, other = await ledger.committed("local"), await ledger.committed("alice")
    old_task = await TaskStore(store).get("old-task", "local")
    hidden = await TaskStore(store).get("old-task", "alice")
    with pytest.raises(BudgetExceededError):
        await ledger.reserve("l1", MODEL, cents(0.10), "local")  # the old spending is the local user's
    await ledger.reserve("a1", MODEL, cents(0.10), "alice")
    await store.aclose()

    assert store.shared
    assert local.user.today == pytest.approx(0.25) and other.user.today == 0.0 and other.total.today == 0.25
    assert old_task is not None and old_task.user_id == "local" and old_task.result == {"content": []}
    assert hidden is None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT DISTINCT user_id FROM calls").fetchall() == [("local",)]
        assert conn.execute("SELECT user_id FROM batches").fetchall() == [("local",)]
        assert conn.execute("SELECT user_id, counted_usd FROM user_days").fetchall() == [("local", 0.25)]
        assert conn.execute("SELECT user_id FROM tasks").fetchall() == [("local",)]
        assert check_schema(conn) == SCHEMA_VERSION


async def test_the_local_user_sees_every_user_s_spending_with_a_breakdown_once_there_are_others(
    state: StateHome, emulator_app: Starlette
) -> None:
    settings = state.settings(unpriced_call_usd=0.10, user_max_cost_usd=1.0)
    async with open_session(settings, upstream=emulator_app) as client:
        await client.call_tool("summarize", TEXT)
        alone = data_of(await client.call_tool("usage", {}))
        store = state.store()  # another server process, serving an OAuth user
        await Ledger(store, Budgets()).record(MODEL, None, 0.30, user="alice")
        await store.aclose()
        shared = data_of(await client.call_tool("usage", {}))
    assert alone["user"] == "*" and alone.get("users") is None and alone["today"]["total"]["calls"] == 1
    assert alone["today"]["budget_usd"] == 1.0 and alone["today"]["budget_left_usd"] == pytest.approx(0.9)
    assert shared["today"]["total"]["calls"] == 2
    assert [(u["user"], u["today_usd"]) for u in shared["users"]] == [("alice", 0.3), ("local", 0.1)]


async def test_a_postgresql_schema_of_version_4_is_migrated_with_its_tasks_the_local_user_s(tmp_path: Path) -> None:
    with state_home("postgresql", tmp_path) as state:
        await _migrate_version_4(state)


async def _migrate_version_4(state: StateHome) -> None:
    first = state.store()
    await Ledger(first, Budgets()).record(MODEL, None, 0.25)  # creates the schema at this release's version
    await first.aclose()
    state.execute("DROP TABLE tasks")  # as the release before per-user spending left it: version 4, old tasks
    state.execute("DROP TABLE user_days")
    for table in ("calls", "reservations", "batches"):
        state.execute(f"ALTER TABLE {table} DROP COLUMN user_id")
    state.execute("ALTER TABLE batches DROP COLUMN results_counted")  # migration 6's
    state.execute("UPDATE store_version SET version = 4")
    state.execute(OLD_TASKS.replace(" REAL ", " DOUBLE PRECISION ").replace("REAL,", "DOUBLE PRECISION,"))
    now = time.time()
    state.execute(
        "INSERT INTO tasks VALUES ('old-task', 'generate_image', 'completed', 'Done.', ?, ?, 3600000, 1000, "
        "'gone-1', 1, '2026-07-28', '{\"content\": []}', NULL)",
        (now, now),
    )

    store = state.store()
    ledger = Ledger(store, Budgets(user_daily=0.30))
    local = await ledger.committed("local")
    old_task = await TaskStore(store).get("old-task", "local")
    hidden = await TaskStore(store).get("old-task", "alice")
    await store.aclose()

    assert local.user.today == pytest.approx(0.25)
    assert old_task is not None and old_task.user_id == "local" and hidden is None
    assert state.query("SELECT version FROM store_version") == [(SCHEMA_VERSION,)]
    assert state.query("SELECT user_id, counted_usd FROM user_days") == [("local", 0.25)]
    assert state.query("SELECT user_id FROM tasks") == [("local",)]
