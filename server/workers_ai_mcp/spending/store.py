"""The state store: usage, reservations, budgets, batches and tasks, shared by every server process.

Two backends hold the same tables (spending/schema.py) behind the same closures: SQLite, the
embedded default (`sqlite_store`: one file in the state folder, shared by the processes of one
machine), and PostgreSQL (`postgres_store`, `WORKERS_AI_MCP_STATE_URL`: shared by replicas on
many machines). A closure gets a `sql.Connection` whose SQL is the same on both; `transaction`
runs it as one write transaction that no other process's write transaction interleaves with
(SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so a budget check and
the reservation it allows are atomic across every process and replica.

Drivers block, so every use runs on a worker thread (`run`): one at a time per process on
SQLite's one connection, several at once from PostgreSQL's pool.

Writes nobody waits for (a call's record, once its answer is known) are written behind (`defer`):
queued, and written by the store's own writer thread some milliseconds later in one transaction
with whatever else was queued meanwhile, so the answer leaves without waiting for the database and a
burst of calls commits once. Every `run` writes what is queued before its own work (a budget check
or a report always sees this process's calls), and `close` (the server's shutdown) writes the rest;
so does the interpreter's exit, should a store be left open. While the store cannot be used (locked,
unreachable: `StoreLockedError`), queued writes stay queued, in order, and are tried again.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import anyio
import anyio.to_thread

from ..settings import Settings, SettingsError
from .errors import StoreLockedError, StoreUnavailableError
from .sql import Connection, transaction
from .sqlite_store import FILE_NAME, SqliteBackend

if TYPE_CHECKING:
    from .postgres_store import PostgresBackend

__all__ = [
    "FILE_NAME",
    "Connection",
    "StateStore",
    "StoreLockedError",
    "StoreUnavailableError",
    "open_store",
    "require_driver",
    "transaction",
]

logger = logging.getLogger(__name__)

# How long a queued write waits for others to share its transaction (a burst of calls commits once).
WRITE_BEHIND_SECONDS = 0.01
# After a failed write of the queue (store locked or unreachable), the writer tries again this much later.
RETRY_SECONDS = 1.0

T = TypeVar("T")


class Backend(Protocol):
    """Where the tables live: `attempt` runs a closure with a connection, waiting out what can be waited."""

    concurrent: bool  # True: uses may run at once (a pool); False: one connection, one use at a time
    errors: tuple[type[Exception], ...]  # the driver's errors: a queued write failing with one is dropped

    @property
    def path(self) -> Path | None: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def shared(self) -> bool: ...

    @property
    def opened(self) -> bool: ...

    @property
    def where(self) -> str: ...

    def attempt(self, work: Callable[[Connection], T]) -> T: ...

    def close(self) -> None: ...


class StateStore:
    """The state store of one server process: SQLite in `folder` (None: in memory), or `backend`."""

    def __init__(self, folder: Path | None, *, backend: Backend | None = None, instance: str | None = None) -> None:
        self.instance = instance or new_instance()  # this process's run of the server
        self.backend: Backend = backend if backend is not None else SqliteBackend(folder)
        self._lock = threading.Lock()  # the order of writes (and SQLite's one connection)
        self._queued: list[Callable[[Connection], object]] = []
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer: tuple[threading.Thread, threading.Event] | None = None  # the thread, its stop signal

    @property
    def path(self) -> Path | None:
        return self.backend.path

    @property
    def problem(self) -> str | None:
        """Why this process keeps its state in memory, when it does (SQLite only)."""
        return self.backend.problem

    @property
    def shared(self) -> bool:
        """True while the state lives where every server process finds it."""
        return self.backend.shared

    @property
    def opened(self) -> bool:
        """True once the store was used (and so `shared` and `problem` are known)."""
        return self.backend.opened

    @property
    def where(self) -> str:
        """The file, the database (never its password), or "memory"."""
        return self.backend.where

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` with a connection on a worker thread, after writing what is queued."""
        return await anyio.to_thread.run_sync(self.run_sync, work)

    def run_sync(self, work: Callable[[Connection], T]) -> T:
        with self._lock:
            self._write_queued()
            if not self.backend.concurrent:
                return self.backend.attempt(work)
        return self.backend.attempt(work)

    def defer(self, write: Callable[[Connection], object]) -> None:
        """Queue `write` to run inside a write transaction soon, on the writer thread, in queue order."""
        with self._queue_lock:
            self._queued.append(write)
            started = None
            if self._writer is None:
                stop = threading.Event()
                started = threading.Thread(target=self._write_behind, args=(stop,), name="state-writer", daemon=True)
                self._writer = (started, stop)
                _open_stores.add(self)
        self._wake.set()
        if started is not None:
            started.start()

    def flush(self) -> None:
        """Write everything queued now (blocking); what the store kept out is lost, and said so."""
        with self._lock:
            try:
                self._write_queued()
            except StoreLockedError as exc:
                with self._queue_lock:
                    lost, self._queued = len(self._queued), []
                logger.error("%d queued write(s) to the state store %s were lost: %s", lost, self.where, exc)

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def close(self) -> None:
        """Write what is queued, stop the writer thread, close the connections (a later use reopens them)."""
        with self._queue_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            thread, stop = writer
            stop.set()
            self._wake.set()
            thread.join()
        self.flush()
        with self._lock:
            self.backend.close()
        _open_stores.discard(self)

    def _write_queued(self) -> None:
        """Write the queued writes in one transaction (the caller holds `_lock`).

        While the store cannot be used (locked past the wait, unreachable), the writes stay queued (in
        order, ahead of any queued since) and `StoreLockedError` says so; they are written when it answers.
        """
        with self._queue_lock:
            writes, self._queued = self._queued, []
        if not writes:
            return

        def work(conn: Connection) -> None:
            for write in writes:
                write(conn)

        try:
            self.backend.attempt(lambda conn: transaction(conn, work))
        except StoreLockedError:
            with self._queue_lock:
                self._queued[:0] = writes
            raise
        except self.backend.errors:
            logger.exception("%d queued write(s) to the state store were lost", len(writes))

    def _write_behind(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.wait()
            stop.wait(WRITE_BEHIND_SECONDS)  # let the answer go first, and gather the writes of a burst
            self._wake.clear()
            with self._lock:
                try:
                    self._write_queued()
                except StoreLockedError:
                    self._wake.set()  # still queued: tried again after a pause
                    failed = True
                else:
                    failed = False
            if failed:
                stop.wait(RETRY_SECONDS)


def new_instance() -> str:
    """A name for this process's run of the server (its pid, and a random part: pids are reused)."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def open_store(settings: Settings) -> StateStore:
    """The store `settings` name: PostgreSQL at `state_url` when set, else SQLite in the state folder."""
    if settings.state_url is None:
        return StateStore(settings.state_dir)
    instance = new_instance()
    backend = _postgres_backend()(settings.state_url.get_secret_value(), settings.state_schema, instance=instance)
    return StateStore(None, backend=backend, instance=instance)


def require_driver(settings: Settings) -> None:
    """Raise `SettingsError` (install the `postgres` extra) when `settings` name a PostgreSQL store and its
    driver cannot be imported: checked when the server starts, since the store itself opens at a first call."""
    if settings.state_url is not None:
        _postgres_backend()


def _postgres_backend() -> type[PostgresBackend]:
    try:
        from .postgres_store import PostgresBackend  # imports psycopg: only a deployment that asked for it pays
    except ImportError as exc:
        if exc.name not in ("psycopg", "psycopg_pool") and "psycopg" not in str(exc):
            raise
        raise SettingsError(
            "WORKERS_AI_MCP_STATE_URL names a PostgreSQL database, but its driver is not installed: install "
            "workers-ai-mcp[postgres] (for example `uv tool install 'workers-ai-mcp[postgres]'` or "
            "`pip install 'workers-ai-mcp[postgres]'`)."
        ) from None
    return PostgresBackend


# Stores with a writer thread; what they still hold is written when the interpreter exits.
_open_stores: weakref.WeakSet[StateStore] = weakref.WeakSet()


@atexit.register
def _write_open_stores() -> None:
    for store in list(_open_stores):
        store.flush()
