"""The embedded backend of the state store: one SQLite file per user, shared by the processes of one machine.

`<state folder>/state.sqlite3` in WAL mode lets readers and one writer work at once; a writer waits
up to `BUSY_TIMEOUT_MS` for another process's transaction, and BEGIN IMMEDIATE (`begin_write`)
takes the write lock at once, so a check and the write depending on it cannot interleave with
another process's. sqlite3 blocks, so every use runs on the store's worker thread, one at a time.

A file locked by another process is waited for, never given up: each try waits `BUSY_TIMEOUT_MS`,
then the backend backs off and tries again, for up to `LOCK_WAIT_SECONDS`; past that the use fails
with a sentence (`StoreLockedError`: a budgeted call is not sent; queued records stay queued).

Other bad state never stops the server: when the file cannot be opened or written (damaged, of
another application or missing our tables or columns (`schema.check_schema`, which only reads),
read-only, written by a newer release), the backend warns once and carries on in memory for this
process, starting from a copy of what it could still read when that copy's schema is whole. The
file itself is never changed or removed then (not even switched to WAL), so nothing is lost.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import StoreLockedError
from .schema import StoreSchemaError, StoreTooNewError, Table, check_schema, ensure_table, migrate
from .sql import SQLITE, Connection, transaction

logger = logging.getLogger(__name__)

FILE_NAME = "state.sqlite3"
BUSY_TIMEOUT_MS = 2_000
# A store locked by another process past the busy timeout is tried again, backing off from the first
# to the longest pause, for this long in all; then the use that needed it fails with a sentence
# (a budgeted call is not sent; a record stays queued and is written once the lock clears).
LOCK_WAIT_SECONDS = 30.0
LOCK_BACKOFF_SECONDS = (0.05, 1.0)

T = TypeVar("T")


def _begin_immediate(conn: Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _create(conn: Connection, table: Table) -> None:
    """Make `table` whole: one look at its columns on every use (as cheap as CREATE ... IF NOT EXISTS), and a
    write transaction only when it is missing or lacks a column added later (another process may add it too)."""
    columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table.name}")')}
    if columns and all(name in columns for name, _ in table.added):
        return
    if conn.in_transaction:
        ensure_table(conn.raw, table)
    else:
        transaction(conn, lambda c: ensure_table(c.raw, table))


class SqliteBackend:
    """The SQLite file of one server process; `folder` None keeps it in memory from the start."""

    concurrent = False  # one connection: uses run one at a time
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / FILE_NAME if folder is not None else None
        self.problem: str | None = None  # why this process keeps its state in memory, when it does
        self._conn: Connection | None = None

    @property
    def shared(self) -> bool:
        return self.path is not None and self.problem is None

    @property
    def opened(self) -> bool:
        return self._conn is not None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "memory"

    def attempt(self, work: Callable[[Connection], T]) -> T:
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

    def close(self) -> None:
        if self._conn is not None:
            self._conn.raw.close()
            self._conn = None

    def _still_locked(self, waited: float) -> StoreLockedError:
        logger.warning("The state store %s stayed locked by another process for %.0f s", self.path, waited)
        return StoreLockedError(
            f"The spending store {self.path} stayed locked by another process for over {waited:.0f} s, so spending "
            "could not be read or checked: a model call that needed it was not sent (the record of one already "
            "answered waits for the lock). Try again once that process is done with it."
        )

    def _connection(self) -> Connection:
        if self._conn is not None:
            return self._conn
        if self.path is None or self.problem is not None:
            self._conn = _wrap(_memory())
            return self._conn
        try:
            self._conn = _wrap(_open_file(self.path))
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.Error) and _locked(exc):
                raise  # waited for by `attempt`
            self._fall_back(exc)
            assert self._conn is not None
        return self._conn

    def _fall_back(self, exc: BaseException) -> None:
        assert self.path is not None
        self.close()
        self.problem = _describe(self.path, exc)
        logger.warning(
            "The state store %s cannot be used (%s); usage, budgets and batch jobs are kept in memory for this "
            "process only, and the file is left as it is.",
            self.path,
            self.problem,
        )
        self._conn = _wrap(_memory(copy_of=self.path))


def _wrap(conn: sqlite3.Connection) -> Connection:
    return Connection(conn, SQLITE, begin=_begin_immediate, ensure=_create)


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
