"""The index of batch jobs this installation submitted: `<output folder>/.batches.json`.

Small JSON, re-read on every use and replaced atomically (temp file, then rename) on every change,
so that it survives restarts and a crash never leaves it half-written. The leading dot keeps it
out of what media inputs may read. The newest `MAX_JOBS` jobs are kept.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

logger = logging.getLogger(__name__)

INDEX_NAME = ".batches.json"
MAX_JOBS = 500

BatchState = Literal["queued", "running", "done"]


class BatchRecord(BaseModel):
    """One submitted batch job."""

    job_id: str
    model: str
    count: int = Field(description="Number of inputs in the batch.")
    submitted_at: str
    status: BatchState = "queued"
    checked_at: str | None = None
    results_file: str | None = Field(default=None, description="Output file holding the results, once done.")


class _Index(BaseModel):
    version: int = 1
    jobs: list[BatchRecord] = Field(default_factory=list[BatchRecord])


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BatchStore:
    """Read and update the batch index in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / INDEX_NAME

    def add(self, record: BatchRecord) -> None:
        index = self._load()
        jobs = [job for job in index.jobs if job.job_id != record.job_id] + [record]
        index.jobs = jobs[-MAX_JOBS:]
        self._save(index)

    def get(self, job_id: str) -> BatchRecord | None:
        return next((job for job in self._load().jobs if job.job_id == job_id), None)

    def update(self, record: BatchRecord) -> None:
        index = self._load()
        index.jobs = [record if job.job_id == record.job_id else job for job in index.jobs]
        self._save(index)

    def newest_first(self) -> list[BatchRecord]:
        return list(reversed(self._load().jobs))

    def _load(self) -> _Index:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return _Index()
        except OSError as exc:
            logger.warning("Could not read the batch index %s (%s)", self.path, type(exc).__name__)
            return _Index()
        try:
            return _Index.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            # Keep the damaged file for inspection; start a new index rather than fail every batch call.
            aside = self.path.with_name(f"{INDEX_NAME}.damaged-{int(time.time())}")
            logger.warning("The batch index %s is damaged; moved it to %s", self.path, aside.name)
            os.replace(self.path, aside)
            return _Index()

    def _save(self, index: _Index) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".batches-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(index.model_dump_json(indent=1))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
