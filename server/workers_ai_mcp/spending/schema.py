"""The state store's schema: its versioned migrations, tables other modules add, and the check before use.

The store owns the tables its migrations create (`MIGRATIONS`; `PRAGMA user_version` says how many
have run). Another module keeps a table of its own in the same file by registering it once, at import:

    register_table(Table("tasks", "CREATE TABLE tasks (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
                         ("id", "state")))

A registered table is created when missing (in the transaction that migrates the file), and its
columns are checked like the store's own; the columns it was given later (`Table.added`) may be
missing from an older file, and are added when it is migrated. Tables nobody registered are
tolerated and left alone.

Before anything is written, `check_schema` reads (only reads) the file's version and tables: a file of
another application (tables, but no version of ours) or a damaged one (one of our tables missing, or
missing columns) raises `StoreSchemaError`, and the store leaves it untouched.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass

# One script per schema version. Never edit a released step: add the next one.
MIGRATIONS: tuple[str, ...] = (
    # 1: metered calls, their totals per UTC day, and reservations of calls in flight
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, model TEXT NOT NULL, usage TEXT,
        cost_usd REAL, counted_usd REAL NOT NULL, cached INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL DEFAULT 'call', pid INTEGER);
    CREATE INDEX calls_at ON calls (at);
    CREATE TABLE days (day TEXT PRIMARY KEY, counted_usd REAL NOT NULL);
    CREATE TABLE reservations (
        id TEXT PRIMARY KEY, model TEXT NOT NULL, amount REAL NOT NULL, pid INTEGER,
        created REAL NOT NULL, expires REAL NOT NULL, prompt_tokens REAL)
    """,
    # 2: the batch index (until then `<output folder>/.batches.json`)
    """
    CREATE TABLE batches (
        job_id TEXT PRIMARY KEY, model TEXT NOT NULL, count INTEGER NOT NULL,
        submitted_at TEXT NOT NULL, status TEXT NOT NULL, checked_at TEXT, results_file TEXT,
        origin TEXT);
    CREATE INDEX batches_submitted ON batches (submitted_at)
    """,
    # 3: when a reservation's process started, so a reused pid or a zombie does not keep holding it
    """
    ALTER TABLE reservations ADD COLUMN pid_start TEXT
    """,
    # 4: the server run holding a reservation (with PostgreSQL, replicas on other machines tell by its
    # heartbeat), and the order batches were added in (rowid is SQLite's only)
    """
    ALTER TABLE reservations ADD COLUMN instance TEXT;
    ALTER TABLE batches ADD COLUMN seq INTEGER
    """,
    # 5: whose every call, reservation and batch is (the caller's user id; what came before is the local
    # user's), and each user's total per UTC day beside the deployment's (`days`). Portable SQL: PostgreSQL
    # runs the same steps.
    """
    ALTER TABLE calls ADD COLUMN user_id TEXT NOT NULL DEFAULT 'local';
    ALTER TABLE reservations ADD COLUMN user_id TEXT NOT NULL DEFAULT 'local';
    ALTER TABLE batches ADD COLUMN user_id TEXT NOT NULL DEFAULT 'local';
    CREATE INDEX calls_user_at ON calls (user_id, at);
    CREATE INDEX batches_user_submitted ON batches (user_id, submitted_at);
    CREATE TABLE user_days (
        day TEXT NOT NULL, user_id TEXT NOT NULL, counted_usd REAL NOT NULL, PRIMARY KEY (day, user_id));
    INSERT INTO user_days (day, user_id, counted_usd) SELECT day, 'local', counted_usd FROM days
    """,
    # 6: whether a batch job's results were counted, so that fetching them again (another replica without
    # the results file, a deleted file) never counts them twice; jobs done before were counted then
    """
    ALTER TABLE batches ADD COLUMN results_counted INTEGER NOT NULL DEFAULT 0;
    UPDATE batches SET results_counted = 1 WHERE status = 'done'
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreTooNewError(sqlite3.DatabaseError):
    """The file was written by a newer release with a schema this one does not know."""


class StoreSchemaError(sqlite3.DatabaseError):
    """The file is another application's database, or ours with a table or column missing."""


@dataclass(frozen=True)
class Table:
    """A table another module keeps in the store: `create` (statements split on ';') and its columns.

    `added` are the columns given to the table after files with it were written, each with its
    definition (`("user_id", "TEXT NOT NULL DEFAULT 'local'")`): a file whose table lacks them is
    upgraded (`ALTER TABLE ... ADD COLUMN`) when it is migrated, not taken for a damaged one.
    """

    name: str
    create: str
    columns: tuple[str, ...]
    added: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> frozenset[str]:
        """The columns a file's table must have before it is upgraded."""
        return frozenset(self.columns) - {name for name, _ in self.added}


_registered: dict[str, Table] = {}


def register_table(table: Table) -> None:
    """Have the store create `table` when missing and check its columns before use (call at import)."""
    if table.name in expected_tables(SCHEMA_VERSION):
        raise ValueError(f"the table {table.name} belongs to the state store itself")
    _registered[table.name] = table


def registered_tables() -> tuple[Table, ...]:
    return tuple(_registered.values())


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


def _tables(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {name: frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')) for name in names}


@functools.cache
def expected_tables(version: int) -> dict[str, frozenset[str]]:
    """The store's own tables and their columns at `version` (from running its migrations in memory)."""
    conn = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS[:version]:
            for statement in _statements(script):
                conn.execute(statement)
        return _tables(conn)
    finally:
        conn.close()


def check_schema(conn: sqlite3.Connection) -> int:
    """The file's schema version, after checking (reading only) that its tables are ours and whole.

    Version and tables are read in one read transaction: another process migrating the file at the same
    moment is seen before or after, never halfway (version 0 with its new tables would look foreign).
    """
    if conn.in_transaction:
        return _check(conn)
    conn.execute("BEGIN")
    try:
        return _check(conn)
    finally:
        conn.execute("COMMIT")


def _check(conn: sqlite3.Connection) -> int:
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise StoreTooNewError(f"schema version {found} is newer than this release's {SCHEMA_VERSION}")
    present = _tables(conn)
    if found == 0:
        if present:  # our migrations run in one transaction: a file of ours is never left at 0 with tables
            shown = ", ".join(sorted(present)[:5])
            raise StoreSchemaError(f"it is another application's database (tables {shown}, no schema version of ours)")
        return found
    wanted = dict(expected_tables(found))
    wanted.update({t.name: t.required for t in registered_tables() if t.name in present})
    for name, columns in wanted.items():
        if name not in present:
            raise StoreSchemaError(f"its table {name} is missing")
        missing = sorted(columns - present[name])
        if missing:
            raise StoreSchemaError(f"its table {name} lacks the column(s) {', '.join(missing)}")
    return found


def ensure_table(conn: sqlite3.Connection, table: Table, columns: frozenset[str] | None = None) -> None:
    """Create `table` when it is missing, else add the columns it lacks of those it was given later.

    `columns` are the table's columns as found (None: read them; an empty set: the table is missing).
    """
    if columns is None:
        columns = frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{table.name}")'))
    if not columns:
        for statement in _statements(table.create):
            conn.execute(statement)
        return
    for name, definition in table.added:
        if name not in columns:
            conn.execute(f'ALTER TABLE "{table.name}" ADD COLUMN {name} {definition}')


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to version `target` (and, at the latest, add missing registered tables) in one
    transaction; returns the version found before."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            raise StoreTooNewError(f"schema version {found} is newer than this release's {SCHEMA_VERSION}")
        for script in MIGRATIONS[found:target]:
            for statement in _statements(script):
                conn.execute(statement)
        if target > found:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        if target == SCHEMA_VERSION:
            present = _tables(conn)
            for table in registered_tables():
                ensure_table(conn, table, present.get(table.name, frozenset()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
