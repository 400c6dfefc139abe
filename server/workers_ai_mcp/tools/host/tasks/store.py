"""Task state in the shared state store (the `tasks` table of `state.sqlite3`, beside spending and batches).

A task is written before its handle is answered (a `tasks/get` for it resolves at once, as SEP-2663
asks), updated as it works, and holds the tool's final wire result. Every server process of the user
reads the same rows, so another process or a restart still answers `tasks/get`: with the result once
the task ended, or with a "lost" failure when the process that ran it is gone (it stopped, or
crashed, before the task finished). Rows live for their time-to-live and are pruned after it.
A task is its maker's (`user_id`, the caller of the call that made it): every read and change names
the user, and another user's task is answered as an unknown one.

The table is registered with the store (`register_table`: created with its migrations, its columns
checked before a file is used) and also made here (`CREATE TABLE IF NOT EXISTS`, on every use: the
store may have been opened before this module was loaded, or fallen back to memory), not by the
store's numbered migrations, so that the spending store owns its own schema and this module its table.
A column given to the table later (`user_id`) is added to an older file's table the same ways
(`Table.added`, `Connection.ensure`), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

from ....spending.caller import LOCAL_USER
from ....spending.liveness import owner_alive
from ....spending.schema import Table, register_table
from ....spending.store import Connection, StateStore, transaction

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
# The longest status message kept (progress lines are short; a failure's sentence is bounded elsewhere).
MAX_MESSAGE = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY, tool TEXT NOT NULL, status TEXT NOT NULL, status_message TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, ttl_ms INTEGER NOT NULL, poll_ms INTEGER NOT NULL,
    owner TEXT NOT NULL, pid INTEGER NOT NULL, era TEXT NOT NULL, result TEXT, error TEXT,
    user_id TEXT NOT NULL DEFAULT 'local')
"""
_COLUMNS = (
    "task_id, tool, status, status_message, created, updated, ttl_ms, poll_ms, owner, pid, era, result, error, user_id"
)
# Columns given to the table after its first release, with their definitions: added to an older file's table.
ADDED = (("user_id", "TEXT NOT NULL DEFAULT 'local'"),)
LOST = "The server process running this task stopped before it finished; nothing more will come. Call the tool again."
# The store checks the table's columns before it uses a file, as its own (spending/schema.py), and creates
# it with its migrations once this module is loaded; `_ensure` still creates it in a store opened before.
TABLE = Table("tasks", SCHEMA, tuple(_COLUMNS.split(", ")), added=ADDED)
register_table(TABLE)


@dataclass(frozen=True)
class TaskRecord:
    """One task as stored: its state, and its wire result or JSON-RPC error once it ended."""

    task_id: str
    tool: str
    status: TaskStatus
    status_message: str | None
    created: float
    updated: float
    ttl_ms: int
    poll_ms: int
    owner: str  # the server process's run (`StateStore.instance`)
    pid: int
    era: str  # the protocol version of the session that made it
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    user_id: str = LOCAL_USER  # who made it: the only user who may read or cancel it

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def expires(self) -> float:
        return self.created + self.ttl_ms / 1000


def new_task_id() -> str:
    """An unguessable handle (SEP-2663: task ids may act as bearer tokens for their state)."""
    return secrets.token_urlsafe(24)


class TaskStore:
    """Create, read, update and prune tasks in the shared store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def create(self, tool: str, era: str, ttl_ms: int, poll_ms: int, user_id: str = LOCAL_USER) -> TaskRecord:
        now = time.time()
        record = TaskRecord(
            task_id=new_task_id(), tool=tool, status="working", status_message="Started.", created=now,
            updated=now, ttl_ms=ttl_ms, poll_ms=poll_ms, owner=self.store.instance, pid=os.getpid(), era=era,
            user_id=user_id,
        )  # fmt: skip

        def work(conn: Connection) -> None:
            conn.execute("DELETE FROM tasks WHERE created + ttl_ms / 1000.0 < ?", (now,))
            conn.execute(f"INSERT INTO tasks ({_COLUMNS}) VALUES ({', '.join('?' * 14)})", _row(record))

        await self.store.run(lambda conn: _ensure(conn) or transaction(conn, work))
        return record

    async def get(self, task_id: str, user_id: str = LOCAL_USER) -> TaskRecord | None:
        """`user_id`'s task, or None when it is unknown, another user's or past its time-to-live; a task whose
        process is gone is lost."""

        def read(conn: Connection) -> tuple[TaskRecord | None, bool]:
            _ensure(conn)
            found: tuple[Any, ...] | None = conn.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ? AND user_id = ?", (task_id, user_id)
            ).fetchone()
            if found is None:
                return None, True
            record = _record(found)
            return record, record.terminal or owner_alive(conn, self.store.instance, record.owner, record.pid, None)

        record, alive = await self.store.run(read)
        if record is None:
            return None
        if record.expires < time.time():
            return None
        if not alive:
            lost = replace(record, status="failed", status_message=LOST, error={"code": -32603, "message": LOST})
            await self.finish(lost)
            return lost
        return record

    async def list(self, era: str, limit: int, before: float | None, user_id: str = LOCAL_USER) -> list[TaskRecord]:
        """`user_id`'s tasks made by sessions of protocol `era`, newest first, created before `before` (a page's
        cursor)."""

        def read(conn: Connection) -> list[tuple[Any, ...]]:
            _ensure(conn)
            rows: list[tuple[Any, ...]] = conn.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE era = ? AND user_id = ? AND created < ? "
                "AND created + ttl_ms / 1000.0 >= ? ORDER BY created DESC LIMIT ?",
                (era, user_id, before if before is not None else float("inf"), time.time(), limit),
            ).fetchall()
            return rows

        return [_record(row) for row in await self.store.run(read)]

    async def note(self, task_id: str, message: str) -> bool:
        """A working task's status message (its progress); False when the task ended meanwhile."""
        text = message[:MAX_MESSAGE]

        def work(conn: Connection) -> int:
            cursor = conn.execute(
                "UPDATE tasks SET status_message = ?, updated = ? WHERE task_id = ? AND status = 'working'",
                (text, time.time(), task_id),
            )
            return cursor.rowcount

        return bool(await self.store.run(lambda conn: _ensure(conn) or transaction(conn, work)))

    async def finish(self, record: TaskRecord) -> bool:
        """Write a terminal state, unless the task already has one (a cancelled task stays cancelled)."""

        def work(conn: Connection) -> int:
            cursor = conn.execute(
                "UPDATE tasks SET status = ?, status_message = ?, updated = ?, result = ?, error = ? "
                "WHERE task_id = ? AND status NOT IN ('completed', 'failed', 'cancelled')",
                (
                    record.status, (record.status_message or "")[:MAX_MESSAGE] or None, time.time(),
                    _json(record.result), _json(record.error), record.task_id,
                ),
            )  # fmt: skip
            return cursor.rowcount

        return bool(await self.store.run(lambda conn: _ensure(conn) or transaction(conn, work)))


def _ensure(conn: Connection) -> None:
    conn.ensure(TABLE)


def _row(record: TaskRecord) -> tuple[Any, ...]:
    return (
        record.task_id, record.tool, record.status, record.status_message, record.created, record.updated,
        record.ttl_ms, record.poll_ms, record.owner, record.pid, record.era, _json(record.result),
        _json(record.error), record.user_id,
    )  # fmt: skip


def _record(row: tuple[Any, ...]) -> TaskRecord:
    task_id, tool, status, message, created, updated, ttl_ms, poll_ms, owner, pid, era, result, error, user_id = row
    return TaskRecord(
        task_id=task_id, tool=tool, status=status, status_message=message, created=created, updated=updated,
        ttl_ms=ttl_ms, poll_ms=poll_ms, owner=owner, pid=pid, era=era, result=_parsed(result), error=_parsed(error),
        user_id=user_id,
    )  # fmt: skip


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parsed(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value: dict[str, Any] = json.loads(text)
    return value
