"""Whether the server process that holds a reservation or runs a task is still there.

On one machine (SQLite's store, or a PostgreSQL replica on the same host) the process itself says:
its pid runs, started when the row says, and is not a zombie (`process_alive`, from /proc). Across
machines a pid means nothing, so with PostgreSQL each server run keeps a row in `instances` (its
host, pid and a heartbeat written every few seconds by the database's clock, see `postgres_store`):
a row of another host is alive while its heartbeat is younger than `INSTANCE_TIMEOUT_SECONDS`, and
gone once the run deregistered or stopped beating. "Same host" means the same kernel boot and the
same pid namespace (`host_key`), the only case where a pid read from /proc is the row's process.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

from .sql import SQLITE, Connection

# A replica whose heartbeat is older than this is gone (it beats every `HEARTBEAT_SECONDS`).
HEARTBEAT_SECONDS = 5.0
INSTANCE_TIMEOUT_SECONDS = 30.0


def process_start(pid: int) -> str | None:
    """When `pid` started, from /proc (clock ticks since boot); "" when it is not running (gone, or a
    zombie nobody reaped); None where /proc does not say (not Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "" if _has_proc() else None
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    if len(fields) < 20:
        return None
    return "" if fields[0] in ("Z", "X", "x") else fields[19]


@functools.cache
def own_start(pid: int) -> str | None:
    """This process's start time, read once per pid (a fork is another pid)."""
    return process_start(pid) or None


@functools.cache
def _has_proc() -> bool:
    return Path(f"/proc/{os.getpid()}/stat").exists()


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether the process that made a reservation (or a task) still runs: same pid, same start time when
    given, not a zombie."""
    now_started = process_start(pid)
    if now_started is not None:
        return now_started != "" and (started is None or now_started == started)
    if os.name != "posix":
        return True  # no cheap, harmless probe elsewhere: the reservation's expiry applies
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def host_key() -> str:
    """This machine as far as pids go: host name, kernel boot and pid namespace (containers have their own)."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass
    return " ".join(parts)


def owner_alive(conn: Connection, own: str, instance: str | None, pid: int, started: str | None) -> bool:
    """Whether the run `instance` (pid `pid`, started `started`) still holds what it wrote; `own` is this run."""
    if instance == own or (instance is None and pid == os.getpid()):
        return True
    if conn.dialect == SQLITE or instance is None:
        return process_alive(pid, started)
    row = conn.execute(
        "SELECT host, extract(epoch from clock_timestamp()) - heartbeat FROM instances WHERE id = ?", (instance,)
    ).fetchone()
    if row is None:
        return False  # deregistered at its shutdown, or dropped as stale
    host, silent = row
    if host == host_key():
        return process_alive(pid, started)
    return float(silent) <= INSTANCE_TIMEOUT_SECONDS
