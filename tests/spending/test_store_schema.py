"""The store's schema is checked before use: foreign or damaged files are refused untouched, extra tables kept.

The tests taking `state` run on SQLite and PostgreSQL; those building a file by hand are SQLite's (a
damaged PostgreSQL schema is refused with a sentence instead: test_postgres_store)."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette

from support.postgres import StateHome
from support.results import data_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.spending import schema
from workers_ai_mcp.spending.ledger import Budgets, Ledger
from workers_ai_mcp.spending.schema import Table, migrate, register_table
from workers_ai_mcp.spending.sql import SQLITE, Connection
from workers_ai_mcp.spending.store import FILE_NAME, StateStore

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}


def ours(conn: sqlite3.Connection) -> None:
    migrate(conn)


def without_reservations(conn: sqlite3.Connection) -> None:
    migrate(conn)
    conn.execute("DROP TABLE reservations")


def calls_with_other_columns(conn: sqlite3.Connection) -> None:
    migrate(conn)
    conn.execute("DROP TABLE calls")
    conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, note TEXT)")


def another_application(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('my notes')")


def make_file(folder: Path, build: Callable[[sqlite3.Connection], None]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        build(conn)
    finally:
        conn.close()
    return path


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (without_reservations, "its table reservations is missing"),
        (calls_with_other_columns, "its table calls lacks the column(s) at, cached"),
        (another_application, "another application's database (tables notes"),
    ],
)
@pytest.mark.parametrize("budget", [None, 0.015])
async def test_a_foreign_or_damaged_store_file_is_refused_with_one_warning_left_untouched_and_tools_keep_working(
    tmp_path: Path,
    emulator_app: Starlette,
    caplog: pytest.LogCaptureFixture,
    build: Callable[[sqlite3.Connection], None],
    problem: str,
    budget: float | None,
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=budget, unpriced_call_usd=0.01)
    path = make_file(settings.state_dir, build)
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING):
        async with open_session(settings, upstream=emulator_app) as client:
            first = data_of(await client.call_tool("summarize", TEXT))
            second = await client.call_tool("summarize", TEXT)
            jobs = data_of(await client.call_tool("list_batches", {}))
            report = data_of(await client.call_tool("usage", {}))
    assert problem in first["call"]["spending_note"] and "in memory" in first["call"]["spending_note"]
    assert second.is_error == (budget is not None)
    if budget is not None:
        assert "this process (its spending is kept in memory" in text_of(second)
    assert jobs["jobs"] == [] and report["store"] == "memory"
    assert report["today"]["total"]["calls"] == (1 if budget is not None else 2)
    assert len([r for r in caplog.records if "cannot be used" in r.getMessage()]) == 1
    assert path.read_bytes() == before and journal_mode(path) == "delete"
    assert not (settings.state_dir / f"{FILE_NAME}-wal").exists()


async def test_tables_the_store_does_not_own_are_tolerated_and_left_alone(state: StateHome) -> None:
    first = state.store()
    await Ledger(first, Budgets()).record("@cf/x/y", None, 0.01)
    await first.aclose()
    state.execute("CREATE TABLE notes (body TEXT)")
    state.execute("INSERT INTO notes VALUES ('kept')")
    store = state.store()
    await Ledger(store, Budgets()).record("@cf/x/y", None, 0.01)
    await store.aclose()
    assert store.shared
    assert state.query("SELECT body FROM notes") == [("kept",)]
    assert state.query("SELECT COUNT(*) FROM calls") == [(2,)]


def columns_of(conn: Connection, table: str) -> list[str]:
    if conn.dialect == SQLITE:
        return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return [str(row[0]) for row in rows]


def add_widget(conn: Connection, name: str) -> None:
    conn.execute("INSERT INTO widgets (id, state) VALUES (?, 'on')", (name,))


WIDGETS = Table("widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, state TEXT)", ("id", "state"))


async def test_a_registered_table_is_created_in_a_store_written_before_it_and_left_as_it_is_after(
    state: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "_registered", {})
    older = state.store()
    await Ledger(older, Budgets()).record("@cf/x/y", None, 0.01)  # written before the table was registered
    await older.aclose()
    register_table(WIDGETS)
    columns: list[list[str]] = []
    for _ in range(2):  # created by the first, found whole by the second (its script is not run again)
        store = state.store()
        await store.run(functools.partial(add_widget, name=store.instance))
        columns.append(await store.run(lambda c: columns_of(c, "widgets")))
        await store.aclose()
        assert store.shared
    assert columns == [["id", "state"], ["id", "state"]]
    assert len(state.query("SELECT id FROM widgets")) == 2
    with pytest.raises(ValueError, match="belongs to the state store"):
        register_table(Table("calls", "CREATE TABLE calls (x)", ("x",)))


async def test_a_store_file_whose_registered_table_is_damaged_keeps_this_process_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "_registered", {})
    register_table(WIDGETS)

    def widgets_without_state(conn: sqlite3.Connection) -> None:
        migrate(conn)
        conn.execute("DROP TABLE widgets")
        conn.execute("CREATE TABLE widgets (id TEXT)")

    make_file(tmp_path / "damaged", widgets_without_state)
    damaged = StateStore(tmp_path / "damaged")
    await Ledger(damaged, Budgets()).record("@cf/x/y", None, 0.01)
    await damaged.aclose()
    assert not damaged.shared and "its table widgets lacks the column(s) state" in (damaged.problem or "")


async def test_batch_jobs_done_before_the_results_were_marked_count_as_counted_after_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, target=5)
        for job, status in (("finished", "done"), ("waiting", "queued")):
            conn.execute(
                "INSERT INTO batches (job_id, model, count, submitted_at, status) VALUES (?, '@cf/x/y', 1, ?, ?)",
                (job, "2026-12-01T00:00:00+00:00", status),
            )
    finally:
        conn.close()
    store = StateStore(tmp_path)
    ledger = Ledger(store, Budgets())
    assert await ledger.record_batch("finished", "@cf/x/y", None, 0.5) is None  # counted when it was fetched
    assert await ledger.record_batch("waiting", "@cf/x/y", None, 0.5) == 0.5
    assert await ledger.record_batch("waiting", "@cf/x/y", None, 0.5) is None
    await store.aclose()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT job_id, results_counted FROM batches ORDER BY job_id").fetchall() == [
            ("finished", 1),
            ("waiting", 1),
        ]
        assert check.execute("SELECT COUNT(*) FROM calls").fetchone() == (1,)
