"""The local state store: one SQLite file per user, shared by every server process on the machine.

`<state folder>/state.sqlite3` holds the metered calls, the reservations of calls in flight and
the batch index. WAL mode lets readers and one writer work at once; every transaction is short;
a writer waits up to `BUSY_TIMEOUT_MS` for another process's transaction. sqlite3 blocks, so
every use runs on a worker thread (`run`), one at a time per process.

Writes nobody waits for (a call's record, once its answer is known) are written behind (`defer`):
queued, and written by the store's own writer thread some milliseconds later in one transaction
with whatever else was queued meanwhile, so the answer leaves without waiting for SQLite and a
burst of calls commits once. Every `run` writes what is queued
before its own work (a budget check or a report always sees this process's calls), and `close`
(the server's shutdown) writes the rest; so does the interpreter's exit, should a store be left open.

A file locked by another process is waited for, never given up: each try waits `BUSY_TIMEOUT_MS`,
then the store backs off and tries again, for up to `LOCK_WAIT_SECONDS`; past that the use fails
with a sentence (`StoreLockedError`: a budgeted call is not sent) and queued records stay queued,
so a lock held for a while costs a wait, never a split of the spending between file and memory.

Other bad state never stops the server: when the file cannot be opened or written (damaged, of
another application or missing our tables or columns (`schema.check_schema`, which only reads),
read-only, written by a newer release), the store warns once and carries on in memory for this
process, starting from a copy of what it could still read when that copy's schema is whole. The
file itself is never changed or removed then (not even switched to WAL), so nothing is lost.

(Over 300 lines: the connection, its fallback and the write-behind queue share one lock
and one order of writes, so they stay in one class.)
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import stat
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread

from ..client.errors import WorkersAIError
from .schema import StoreSchemaError, StoreTooNewError, check_schema, migrate

logger = logging.getLogger(__name__)

FILE_NAME = "state.sqlite3"
BUSY_TIMEOUT_MS = 2_000
# A store locked by another process past the busy timeout is tried again, backing off from the first
# to the longest pause, for this long in all; then the use that needed it fails with a sentence
# (a budgeted call is not sent; a record stays queued and is written once the lock clears).
LOCK_WAIT_SECONDS = 30.0
LOCK_BACKOFF_SECONDS = (0.05, 1.0)
# How long a queued write waits for others to share its transaction (a burst of calls commits once).
WRITE_BEHIND_SECONDS = 0.01

T = TypeVar("T")


class StoreLockedError(WorkersAIError):
    """Another process kept the store's write lock past `LOCK_WAIT_SECONDS`; nothing was changed."""


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in one write transaction, taken at once (BEGIN IMMEDIATE) so that a check and
    the write that depends on it cannot interleave with another process's."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


class StateStore:
    """The SQLite store of one server process; `folder` None keeps it in memory from the start."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / FILE_NAME if folder is not None else None
        self.problem: str | None = None  # why this process keeps its state in memory, when it does
        self.instance = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this process's run of the server
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the connection, and the order of writes
        self._queued: list[Callable[[sqlite3.Connection], object]] = []
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer: tuple[threading.Thread, threading.Event] | None = None  # the thread, its stop signal

    @property
    def shared(self) -> bool:
        """True while the state lives in the shared file."""
        return self.path is not None and self.problem is None

    @property
    def opened(self) -> bool:
        """True once the connection is open (and so `shared` and `problem` are known)."""
        return self._conn is not None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "memory"

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the connection on a worker thread; a failing file is swapped for memory once."""
        return await anyio.to_thread.run_sync(self.run_sync, work)

    def run_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            self._write_queued()
            return self._attempt(work)

    def defer(self, write: Callable[[sqlite3.Connection], object]) -> None:
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
        """Write everything queued now (blocking); what a lock kept out is lost, and said so."""
        with self._lock:
            try:
                self._write_queued()
            except StoreLockedError:
                with self._queue_lock:
                    lost, self._queued = len(self._queued), []
                logger.error("%d queued write(s) to the state store %s were lost to its lock", lost, self.path)

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)

    def close(self) -> None:
        """Write what is queued, stop the writer thread, close the connection (a later use reopens it)."""
        with self._queue_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            thread, stop = writer
            stop.set()
            self._wake.set()
            thread.join()
        self.flush()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        _open_stores.discard(self)

    # ---- internals -----------------------------------------------------------------------------

    def _attempt(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work`; a file locked by another process is waited for, any other failure swaps it for memory."""
        pause, longest = LOCK_BACKOFF_SECONDS
        waited = 0.0
        while True:
            try:
                return work(self._connection())
            except sqlite3.Error as exc:
                if not self.shared:
                    raise
                if not _locked(exc):
                    self._fall_back(exc)
                    return work(self._connection())
                waited += BUSY_TIMEOUT_MS / 1000
                if waited + pause > LOCK_WAIT_SECONDS:
                    raise self._still_locked(waited) from None
                if waited == BUSY_TIMEOUT_MS / 1000:
                    logger.info("The state store %s is locked by another process; waiting for it", self.path)
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, longest)

    def _still_locked(self, waited: float) -> StoreLockedError:
        logger.warning("The state store %s stayed locked by another process for %.0f s", self.path, waited)
        return StoreLockedError(
            f"The spending store {self.path} stayed locked by another process for over {waited:.0f} s, so spending "
            "could not be read or checked: a model call that needed it was not sent (the record of one already "
            "answered waits for the lock). Try again once that process is done with it."
        )

    def _write_queued(self) -> None:
        """Write the queued writes in one transaction (the caller holds `_lock`).

        While another process keeps the file locked past the wait, the writes stay queued (in order, ahead
        of any queued since) and `StoreLockedError` says so; they are written when the lock clears.
        """
        with self._queue_lock:
            writes, self._queued = self._queued, []
        if not writes:
            return

        def work(conn: sqlite3.Connection) -> None:
            for write in writes:
                write(conn)

        try:
            self._attempt(lambda conn: transaction(conn, work))
        except StoreLockedError:
            with self._queue_lock:
                self._queued[:0] = writes
            raise
        except sqlite3.Error:
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
                    self._wake.set()  # still queued: tried again after the next pause

    # ---- internals -----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if self.path is None or self.problem is not None:
            self._conn = _memory()
            return self._conn
        try:
            self._conn = _open_file(self.path)
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.Error) and _locked(exc):
                raise  # waited for by `_attempt`
            self._fall_back(exc)
            assert self._conn is not None
        return self._conn

    def _fall_back(self, exc: BaseException) -> None:
        assert self.path is not None
        if self._conn is not None:
            self._conn.close()
        self.problem = _describe(self.path, exc)
        logger.warning(
            "The state store %s cannot be used (%s); usage, budgets and batch jobs are kept in memory for this "
            "process only, and the file is left as it is.",
            self.path,
            self.problem,
        )
        self._conn = _memory(copy_of=self.path)


# Stores with a writer thread; what they still hold is written when the interpreter exits.
_open_stores: weakref.WeakSet[StateStore] = weakref.WeakSet()


@atexit.register
def _write_open_stores() -> None:
    for store in list(_open_stores):
        store.flush()


class StoreSymlinkError(OSError):
    """The store file or its folder is a symbolic link: never followed (it would write another file)."""


def _refuse_symlinks(path: Path) -> None:
    """Refuse a store whose folder or file (or its journal files) is a symbolic link, touching no target.

    The folder is opened with O_NOFOLLOW | O_DIRECTORY (a symlink fails there); the files are `lstat`ed,
    so a dangling link is refused too rather than creating a database where it points.
    """
    folder = path.parent
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        if folder.is_symlink():  # a dangling link for the folder
            raise StoreSymlinkError(f"its folder {folder} is a symbolic link, which is never followed") from None
        return  # created below, as a real folder
    except OSError as exc:
        if folder.is_symlink():
            raise StoreSymlinkError(f"its folder {folder} is a symbolic link, which is never followed") from None
        raise exc
    os.close(fd)
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        try:
            mode = os.lstat(folder / name).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise StoreSymlinkError(f"{name} is a symbolic link, which is never followed")


def _open_file(path: Path) -> sqlite3.Connection:
    _refuse_symlinks(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False, cached_statements=64
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        check_schema(conn)  # reads only: a foreign, damaged or newer file is refused before anything is written
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes of the process, not of the OS
        migrate(conn)
        return conn
    except BaseException:
        conn.close()
        raise


def _memory(copy_of: Path | None = None) -> sqlite3.Connection:
    """An in-memory store, starting from a copy of the file when it can still be read and its schema is whole."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    if copy_of is not None and not _linked(copy_of) and copy_of.is_file():
        for mode in ("ro", "ro&immutable=1"):
            try:
                source = sqlite3.connect(f"{copy_of.as_uri()}?mode={mode}", uri=True, timeout=0.2)
                try:
                    source.backup(conn)
                finally:
                    source.close()
                check_schema(conn)
                migrate(conn)
                return conn
            except sqlite3.Error:
                conn.close()
                conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    migrate(conn)
    return conn


def _locked(exc: sqlite3.Error) -> bool:
    """True for SQLITE_BUSY and SQLITE_LOCKED (another connection holds the lock), whatever the extended code."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (5, 6)
    return "locked" in str(exc) or "busy" in str(exc)


def _linked(path: Path) -> bool:
    return path.is_symlink() or path.parent.is_symlink()


def _describe(path: Path, exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, StoreSymlinkError):
        return text
    if isinstance(exc, StoreTooNewError):
        return f"{path.name} was written by a newer release ({text})"
    if isinstance(exc, StoreSchemaError):
        return f"{path.name} is not a state store of this server or is damaged: {text}"
    if "not a database" in text or "malformed" in text:
        return f"{path.name} is damaged ({text})"
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return f"{path.name} cannot be written ({text})"
    return f"{type(exc).__name__}: {text}"
