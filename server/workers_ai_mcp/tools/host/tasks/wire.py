"""A stored task in each protocol era's words.

2026-07-28 (SEP-2663, `io.modelcontextprotocol/tasks`): the task's fields sit at the top of the result,
`ttlMs` / `pollIntervalMs`, the creating answer says `resultType: "task"`, and `tasks/get` inlines
`result` (completed) or `error` (failed). 2025-11-25 (the in-core experimental design): the task is
`{taskId, status, ..., ttl, pollInterval}`, the creating answer wraps it as `{"task": ...}`, and the
result is fetched with `tasks/result`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a start (tools/list, initialize) imports no store
    from .store import TaskRecord

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
RELATED_TASK = "io.modelcontextprotocol/related-task"


def iso(at: float) -> str:
    """ISO 8601 in UTC with milliseconds, as the task's `createdAt` / `lastUpdatedAt`."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def modern_task(record: TaskRecord, *, created: bool = False) -> dict[str, Any]:
    """The SEP-2663 `Task` (`DetailedTask` for `tasks/get`; `CreateTaskResult` when `created`)."""
    task: dict[str, Any] = {"taskId": record.task_id, "status": record.status}
    if record.status_message:
        task["statusMessage"] = record.status_message
    task |= {
        "createdAt": iso(record.created),
        "lastUpdatedAt": iso(record.updated),
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": record.poll_ms,
    }
    if created:
        return {"resultType": "task", **task}
    if record.status == "completed" and record.result is not None:
        task["result"] = record.result
    elif record.status == "failed" and record.error is not None:
        task["error"] = record.error
    return task


def legacy_task(record: TaskRecord) -> dict[str, Any]:
    """The 2025-11-25 `Task`."""
    task: dict[str, Any] = {"taskId": record.task_id, "status": record.status}
    if record.status_message:
        task["statusMessage"] = record.status_message
    return task | {
        "createdAt": iso(record.created),
        "lastUpdatedAt": iso(record.updated),
        "ttl": record.ttl_ms,
        "pollInterval": record.poll_ms,
    }


def legacy_payload(record: TaskRecord) -> dict[str, Any]:
    """What `tasks/result` answers for a completed task: the call's result, tagged with its task."""
    result = dict(record.result or {})
    meta = result.get("_meta")
    result["_meta"] = {**(meta if isinstance(meta, dict) else {}), RELATED_TASK: {"taskId": record.task_id}}
    return result
