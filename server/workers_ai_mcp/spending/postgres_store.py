"""The PostgreSQL backend of the state store (`WORKERS_AI_MCP_STATE_URL`): one store for many replicas.

psycopg 3's sync connections run on the store's worker threads, so the very closures the SQLite
backend runs (ledger, batch index, tasks) run here too (`sql.Connection` translates their
parameters). A bounded `psycopg_pool.ConnectionPool` lets several requests of one replica use the
database at once; a use waits at most `POOL_TIMEOUT_SECONDS` for a connection.

Every write transaction takes one transaction-scoped advisory lock (`pg_advisory_xact_lock`, keyed by
the schema) right after BEGIN: write transactions of every replica run one after the other, as
SQLite's BEGIN IMMEDIATE makes them, so a budget check and the reservation it allows cannot
interleave with another replica's. Chosen over SERIALIZABLE because the closures then need no retry
loop (a retried closure would re-run its checks and side effects) and a wait is bounded
(`lock_timeout`); the transactions are a few statements long, so one lock costs little.

The tables are the SQLite store's (spending/schema.py): the same numbered `MIGRATIONS`, their column
types translated (`sql.ddl`: REAL is DOUBLE PRECISION here), in the schema `WORKERS_AI_MCP_STATE_SCHEMA`,
with `store_version` in place of PRAGMA user_version. Replicas starting together migrate once: the
migration runs in one transaction under its own advisory lock. Each server run also registers in
`instances` and beats there (see `liveness`), so reservations and tasks of a replica on another
machine expire when it stops, and never while it runs.

An unreachable database never moves the state to memory (a replica with a budget of its own is what
this backend exists to prevent): the use fails with a sentence naming host, port and database
(`StoreUnavailableError`, never the password), a budgeted call is not sent, and a record of an
answered call stays queued until the database answers. The server starts without the database.
"""

from __future__ import annotations

import logging
import os
import threading
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict

from ..redact import Redactor, url_secrets
from .errors import StoreUnavailableError
from .liveness import HEARTBEAT_SECONDS, INSTANCE_TIMEOUT_SECONDS, host_key, own_start
from .schema import MIGRATIONS, SCHEMA_VERSION, Table, expected_tables, registered_tables
from .sql import POSTGRESQL, Connection, ddl, statements, transaction

logger = logging.getLogger(__name__)

POOL_SIZE = 10  # connections per replica at most
POOL_TIMEOUT_SECONDS = 5.0  # a use waits this long for a connection, then fails with a sentence
CONNECT_TIMEOUT_SECONDS = 5
LOCK_TIMEOUT = "30s"  # a write transaction waits this long for another replica's, as SQLite's lock wait
STALE_INSTANCE_SECONDS = 7 * 86400  # rows of runs silent this long are removed
_LOCK_CLASS = 0x57414D  # advisory lock namespace of this server ("WAM"); the key is the schema's
_MIGRATE_CLASS = _LOCK_CLASS + 1
_NOW = "extract(epoch from clock_timestamp())"  # the database's clock: replicas' clocks may disagree

T = TypeVar("T")

_OWN_TABLES = (
    "CREATE TABLE IF NOT EXISTS store_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, "
    "pid_start TEXT, started DOUBLE PRECISION NOT NULL, heartbeat DOUBLE PRECISION NOT NULL)",
)


def describe_url(url: str) -> str:
    """'database <db> on <host>:<port>' from a PostgreSQL URL (never its password or user)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "a database whose URL cannot be read"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or 5432)
    database = str(parts.get("dbname") or parts.get("user") or "postgres")
    return f"database {database} on {host}:{port}"


class PostgresBackend:
    """The tables in schema `schema` of the PostgreSQL database at `url`, for the server run `instance`."""

    concurrent = True
    errors: tuple[type[Exception], ...] = (psycopg.Error,)
    path = None
    problem = None
    shared = True

    def __init__(self, url: str, schema: str, *, instance: str) -> None:
        self._url = url
        self.schema = schema
        self.instance = instance
        self.description = describe_url(url)
        self._redact = Redactor(url_secrets(url))
        key = zlib.crc32(schema.encode()) - 2**31  # a signed 32-bit key: one lock per schema
        self._write_lock = f"SELECT pg_advisory_xact_lock({_LOCK_CLASS}, {key})"
        self._migrate_lock = f"SELECT pg_advisory_xact_lock({_MIGRATE_CLASS}, {key})"
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._ready = False
        self._ensured: set[str] = set()
        self._setup = threading.Lock()
        self._beat: tuple[threading.Thread, threading.Event] | None = None

    @property
    def opened(self) -> bool:
        return self._ready

    @property
    def where(self) -> str:
        return f"PostgreSQL {self.description}, schema {self.schema}"

    def attempt(self, work: Callable[[Connection], T]) -> T:
        try:
            with self._open().connection() as raw:
                conn = self._wrap(raw)
                if not self._ready:
                    self._prepare(conn)
                return work(conn)
        except psycopg_pool.PoolTimeout:
            raise self._unavailable(self._probe()) from None
        except psycopg.OperationalError as exc:
            raise self._unavailable(str(exc)) from None

    def close(self) -> None:
        beat, self._beat = self._beat, None
        if beat is not None:
            beat[1].set()
            beat[0].join()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._ready:
            try:
                with pool.connection(timeout=POOL_TIMEOUT_SECONDS) as raw:
                    raw.execute("DELETE FROM instances WHERE id = %s", (self.instance,))
            except (psycopg.Error, psycopg_pool.PoolTimeout):
                pass  # its heartbeat stops: other replicas see it gone after INSTANCE_TIMEOUT_SECONDS
        pool.close()
        self._ready = False

    # ---- internals -----------------------------------------------------------------------------

    def _open(self) -> psycopg_pool.ConnectionPool:
        with self._setup:
            if self._pool is None:
                self._pool = psycopg_pool.ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=POOL_SIZE,
                    timeout=POOL_TIMEOUT_SECONDS,
                    kwargs={
                        "autocommit": True,
                        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                        "application_name": "workers-ai-mcp",
                    },
                    configure=self._configure,
                    check=psycopg_pool.ConnectionPool.check_connection,
                    name="workers-ai-mcp-state",
                    open=True,
                )
            return self._pool

    def _configure(self, raw: psycopg.Connection[Any]) -> None:
        raw.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))

    def _wrap(self, raw: psycopg.Connection[Any]) -> Connection:
        return Connection(raw, POSTGRESQL, begin=self._begin, ensure=self._ensure)

    def _begin(self, conn: Connection) -> None:
        """A write transaction: after every other replica's (the schema's write lock)."""
        _begin_under(conn, self._write_lock)

    def _begin_migration(self, conn: Connection) -> None:
        """A schema change: after every other replica's (the schema's migration lock)."""
        _begin_under(conn, self._migrate_lock)

    def _ensure(self, conn: Connection, table: Table) -> None:
        if table.name in self._ensured:
            return
        transaction(conn, lambda c: _ensure_table(c, table), begin=self._begin_migration)
        self._ensured.add(table.name)

    def _prepare(self, conn: Connection) -> None:
        """Migrate (once per process, once across replicas), check the tables, register this run."""
        with self._setup:
            if self._ready:
                return
            transaction(conn, self._migrate, begin=self._begin_migration)
            missing = self._missing_columns(conn)
            if missing:
                raise self._unavailable(f"its schema {self.schema} is not this server's or is damaged: {missing}")
            conn.execute(
                "INSERT INTO instances (id, host, pid, pid_start, started, heartbeat) "
                f"VALUES (?, ?, ?, ?, {_NOW}, {_NOW}) ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat",
                (self.instance, host_key(), os.getpid(), own_start(os.getpid())),
            )
            conn.execute(f"DELETE FROM instances WHERE heartbeat < {_NOW} - ?", (STALE_INSTANCE_SECONDS,))
            self._ready = True
            stop = threading.Event()
            thread = threading.Thread(target=self._heartbeat, args=(stop,), name="state-heartbeat", daemon=True)
            self._beat = (thread, stop)
            thread.start()
            logger.info("State store: %s", self.where)

    def _migrate(self, conn: Connection) -> None:
        found_schema = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (self.schema,)).fetchone()
        if found_schema is None:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')  # a plain identifier (settings check it)
        for statement in _OWN_TABLES:
            conn.execute(statement)
        row = conn.execute("SELECT version FROM store_version").fetchone()
        found = 0 if row is None else int(row[0])
        if found > SCHEMA_VERSION:
            raise self._unavailable(
                f"its schema {self.schema} was written by a newer release (schema version {found}, this release "
                f"knows {SCHEMA_VERSION}); upgrade this server"
            )
        for script in MIGRATIONS[found:]:
            _run_script(conn, script)
        for table in registered_tables():
            _ensure_table(conn, table)
            self._ensured.add(table.name)
        if row is None:
            conn.execute("INSERT INTO store_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif found < SCHEMA_VERSION:
            conn.execute("UPDATE store_version SET version = ?", (SCHEMA_VERSION,))

    def _missing_columns(self, conn: Connection) -> str:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?", (self.schema,)
        ).fetchall()
        present: dict[str, set[str]] = {}
        for table, column in rows:
            present.setdefault(str(table), set()).add(str(column))
        wanted = dict(expected_tables(SCHEMA_VERSION))
        wanted.update({t.name: frozenset(t.columns) for t in registered_tables()})
        for name, columns in wanted.items():
            lacking = sorted(columns - present.get(name, set()))
            if lacking:
                return f"its table {name} lacks the column(s) {', '.join(lacking)}"
        return ""

    def _heartbeat(self, stop: threading.Event) -> None:
        """Say every `HEARTBEAT_SECONDS` that this run is alive (a failed beat is tried at the next)."""
        while not stop.wait(HEARTBEAT_SECONDS):
            pool = self._pool
            if pool is None:
                return
            try:
                with pool.connection(timeout=HEARTBEAT_SECONDS) as raw:
                    raw.execute(f"UPDATE instances SET heartbeat = {_NOW} WHERE id = %s", (self.instance,))
            except (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as exc:
                logger.debug("The state store's heartbeat failed: %s", self._redact(str(exc)))

    def _probe(self) -> str:
        """Why no connection came: one direct attempt, for its error (the pool only says it timed out)."""
        try:
            with psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True):
                return f"no connection of the pool came free within {POOL_TIMEOUT_SECONDS:.0f} s"
        except psycopg.Error as exc:
            return str(exc)

    def _unavailable(self, reason: str) -> StoreUnavailableError:
        """One sentence: the driver's first line says why (its hints, such as "Is the server running", follow)."""
        lines = [line for line in reason.splitlines() if line.strip()]
        reason = self._redact(" ".join(lines[0].split()).rstrip(".") if lines else "no reason given")
        logger.warning("The state store (PostgreSQL %s) could not be used: %s", self.description, reason)
        return StoreUnavailableError(
            f"The spending store, the PostgreSQL {self.description}, could not be used ({reason}), so spending "
            "could not be read or checked and a model call that needed it was not sent (the record of one already "
            "answered waits and is written once the database answers); check that the database is up and that "
            "WORKERS_AI_MCP_STATE_URL is right."
        )


def _begin_under(conn: Connection, lock: str) -> None:
    conn.execute("BEGIN")
    conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    conn.execute(lock)


def _ensure_table(conn: Connection, table: Table) -> None:
    """Create `table` when missing (as on SQLite, its script runs only then: it need not say IF NOT EXISTS)
    and add the columns it was given later."""
    exists = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
    if conn.execute(exists, (table.name,)).fetchone() is None:
        _run_script(conn, table.create)
    for name, definition in table.added:
        conn.execute(ddl(f'ALTER TABLE "{table.name}" ADD COLUMN IF NOT EXISTS {name} {definition}', POSTGRESQL))


def _run_script(conn: Connection, script: str) -> None:
    """A schema script written in SQLite's column types, run in PostgreSQL's."""
    for statement in statements(ddl(script, POSTGRESQL)):
        conn.execute(statement)


__all__ = ["INSTANCE_TIMEOUT_SECONDS", "PostgresBackend", "describe_url"]
