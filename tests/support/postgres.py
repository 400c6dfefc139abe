"""The two homes of the state store for tests: a SQLite file in the test's folder, or a PostgreSQL schema.

`state_home` (a fixture, see conftest) is parametrized over both; a PostgreSQL run uses the server
`scripts/postgres.sh` starts (`WORKERS_AI_MCP_TEST_POSTGRES_URL`, read at import: the autouse
fixture clears WORKERS_AI_* variables), in a schema of its own that is dropped afterwards. Under CI
a missing or unreachable server fails the test; elsewhere it is skipped, with the reason.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.settings import make_settings
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.store import FILE_NAME, StateStore, open_store

URL_VARIABLE = "WORKERS_AI_MCP_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(URL_VARIABLE)
BACKENDS = ("sqlite", "postgresql")


def require_postgres() -> str:
    """The test server's URL; fails under CI (never skipped there), skips elsewhere, when it is missing or down."""
    problem = None
    if not POSTGRES_URL:
        problem = f"{URL_VARIABLE} is not set (source scripts/postgres.sh to start a throwaway server)"
    else:
        import psycopg

        try:
            psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
        except psycopg.Error as exc:
            problem = f"the PostgreSQL server of {URL_VARIABLE} cannot be reached: {type(exc).__name__}"
    if problem is None:
        assert POSTGRES_URL is not None
        return POSTGRES_URL
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run under CI: {problem}")
    pytest.skip(problem)


@dataclass
class StateHome:
    """Where a test's server processes keep their state; `query`/`execute` read and write it directly."""

    kind: str
    tmp_path: Path
    url: str | None = None
    schema: str | None = None

    @property
    def postgres(self) -> bool:
        return self.kind == "postgresql"

    def settings(self, **overrides: object) -> Settings:
        extra: dict[str, object] = {}
        if self.url is not None:
            extra = {"state_url": self.url, "state_schema": self.schema}
        return make_settings(self.tmp_path, **(extra | overrides))

    def env(self) -> dict[str, str]:
        """Environment for a server subprocess: the shared state folder, or the database and schema."""
        env = {"WORKERS_AI_MCP_STATE_DIR": str(self.tmp_path / "state")}
        if self.url is not None and self.schema is not None:
            env |= {"WORKERS_AI_MCP_STATE_URL": self.url, "WORKERS_AI_MCP_STATE_SCHEMA": self.schema}
        return env

    def store(self) -> StateStore:
        return open_store(self.settings())

    def query(self, sql: str, params: Sequence[Any] = (), *, emulator: bool = False) -> list[tuple[Any, ...]]:
        """Rows of `sql` (in SQLite's `?` spelling), read from the store; `emulator`: the --emulator store."""
        if not self.postgres:
            path = self.tmp_path / "state" / ("emulator" if emulator else "") / FILE_NAME
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)  # a missing file fails, never created
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        with self._postgres(emulator) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Write to the store as another process would."""
        if not self.postgres:
            with sqlite3.connect(self.tmp_path / "state" / FILE_NAME) as conn:
                conn.execute(sql, params)
            return
        with self._postgres(False) as conn:
            conn.execute(sql.replace("?", "%s"), params)

    @contextmanager
    def _postgres(self, emulator: bool) -> Iterator[Any]:
        import psycopg
        from psycopg import sql as pgsql

        assert self.url is not None and self.schema is not None
        schema = f"{self.schema}_emulator" if emulator else self.schema
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
            yield conn

    def drop(self) -> None:
        if self.url is None or self.schema is None:
            return
        import psycopg
        from psycopg import sql as pgsql

        with psycopg.connect(self.url, autocommit=True) as conn:
            for schema in (self.schema, f"{self.schema}_emulator"):
                conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(schema)))


@contextmanager
def state_home(kind: str, tmp_path: Path) -> Iterator[StateHome]:
    """A fresh home of `kind` ("sqlite" or "postgresql"); a PostgreSQL schema is dropped at the end."""
    if kind == "sqlite":
        yield StateHome(kind, tmp_path)
        return
    home = StateHome(kind, tmp_path, url=require_postgres(), schema=f"test_{secrets.token_hex(6)}")
    try:
        yield home
    finally:
        home.drop()
