"""The index of batch jobs, in the shared state store (`batches` table).

Every server process of the user reads and writes the same index, one row per job, so two
processes submitting at once both keep their job. The index of earlier releases,
`<output folder>/.batches.json`, is imported on first use and then renamed
`.batches.json.migrated` (kept as a backup, never read again). While the store is held in
memory (see `StateStore`), the old file is imported but left where it is (its jobs are the local
user's). The newest `MAX_JOBS` jobs of each user are kept. Each job is its submitter's (`user_id`): a caller reads
only their own jobs, an admin every user's (`caller.py`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from .caller import LOCAL_USER, Caller
from .store import Connection, StateStore, transaction

logger = logging.getLogger(__name__)

LEGACY_INDEX = ".batches.json"
MIGRATED_SUFFIX = ".migrated"
MAX_JOBS = 500
MAX_LEGACY_BYTES = 5_000_000

BatchState = Literal["queued", "running", "done", "lost", "failed"]
_COLUMNS = ("job_id", "model", "count", "submitted_at", "status", "checked_at", "results_file", "origin", "user_id")


class BatchRecord(BaseModel):
    """One submitted batch job."""

    job_id: str
    model: str
    count: int = Field(description="Number of inputs in the batch.")
    submitted_at: str
    status: BatchState = "queued"
    checked_at: str | None = None
    results_file: str | None = Field(default=None, description="Output file holding the results, once done.")
    origin: str | None = Field(
        default=None, description="Where it was queued: 'account:<id>', or 'emulator:<server process>'."
    )
    user_id: str = Field(default=LOCAL_USER, description="Who submitted it.")


class _Legacy(BaseModel):
    jobs: list[BatchRecord] = Field(default_factory=list[BatchRecord])


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BatchStore:
    """Read and update the batch index; `legacy_folder` is where an old `.batches.json` may wait."""

    def __init__(self, store: StateStore, legacy_folder: Path | None = None) -> None:
        self.store = store
        self.legacy_folder = legacy_folder

    async def add(self, record: BatchRecord) -> None:
        def work(conn: Connection) -> None:
            _insert(conn, record, replace=True)
            conn.execute(  # each user's newest: one user's jobs never push out another's
                "DELETE FROM batches WHERE user_id = ? AND job_id NOT IN (SELECT job_id FROM batches WHERE user_id = ? "
                "ORDER BY submitted_at DESC, COALESCE(seq, 0) DESC, job_id DESC LIMIT ?)",
                (record.user_id, record.user_id, MAX_JOBS),
            )

        await self._ready()
        await self.store.run(lambda conn: transaction(conn, work))

    async def get(self, job_id: str, caller: Caller) -> BatchRecord | None:
        """The job, when `caller` may see it (theirs, or any for an admin); None as for an unknown job."""
        await self._ready()
        query = f"SELECT {', '.join(_COLUMNS)} FROM batches WHERE job_id = ?"
        rows = await self.store.run(lambda conn: conn.execute(query, (job_id,)).fetchall())
        record = _record(rows[0]) if rows else None
        return record if record is not None and (caller.admin or record.user_id == caller.user_id) else None

    async def update(self, record: BatchRecord) -> None:
        values = record.model_dump()
        assignments = ", ".join(f"{column} = :{column}" for column in _COLUMNS[1:])
        query = f"UPDATE batches SET {assignments} WHERE job_id = :job_id"
        await self.store.run(lambda conn: conn.execute(query, values))

    async def newest_first(self, caller: Caller) -> list[BatchRecord]:
        """The jobs `caller` may see (theirs, or every user's for an admin), newest first."""
        await self._ready()
        mine = "" if caller.admin else "WHERE user_id = ? "
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM batches {mine}"
            "ORDER BY submitted_at DESC, COALESCE(seq, 0) DESC, job_id DESC"
        )
        bound = () if caller.admin else (caller.user_id,)
        rows = await self.store.run(lambda conn: conn.execute(query, bound).fetchall())
        return [_record(row) for row in rows]

    async def _ready(self) -> None:
        folder = self.legacy_folder
        if folder is not None and (folder / LEGACY_INDEX).is_file():
            await self.store.run(lambda conn: self._import(conn, folder / LEGACY_INDEX))
        self.legacy_folder = None  # looked once per process

    def _import(self, conn: Connection, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_LEGACY_BYTES + 1)
            if len(raw) > MAX_LEGACY_BYTES:
                raise ValueError(f"larger than {MAX_LEGACY_BYTES} bytes")
            legacy = _Legacy.model_validate(json.loads(raw))
        except FileNotFoundError:
            return  # another process imported it first
        except (OSError, ValueError, ValidationError) as exc:
            logger.warning("The old batch index %s could not be imported (%s); it is left as it is", path, exc)
            return

        def work(c: Connection) -> None:
            for record in legacy.jobs[-MAX_JOBS:]:
                _insert(c, record, replace=False)

        transaction(conn, work)
        if self.store.shared:
            with contextlib.suppress(FileNotFoundError):  # another process renamed it first
                os.replace(path, path.with_name(LEGACY_INDEX + MIGRATED_SUFFIX))
            logger.info("Imported %d batch jobs from %s into %s", len(legacy.jobs), path, self.store.where)


def _insert(conn: Connection, record: BatchRecord, *, replace: bool) -> None:
    """Add `record` (the newest in `seq` order), replacing a job of the same id or keeping it (`replace` False)."""
    placeholders = ", ".join(f":{column}" for column in _COLUMNS)
    if replace:
        updates = [f"{column} = excluded.{column}" for column in (*_COLUMNS[1:], "seq")]
        conflict = "DO UPDATE SET " + ", ".join(updates)
    else:
        conflict = "DO NOTHING"
    conn.execute(
        f"INSERT INTO batches ({', '.join(_COLUMNS)}, seq) VALUES ({placeholders}, "
        f"(SELECT COALESCE(MAX(seq), 0) + 1 FROM batches)) ON CONFLICT (job_id) {conflict}",
        record.model_dump(),
    )


def _record(row: tuple[Any, ...]) -> BatchRecord:
    return BatchRecord.model_validate(dict(zip(_COLUMNS, row, strict=True)))
