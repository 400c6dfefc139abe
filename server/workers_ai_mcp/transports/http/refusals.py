"""Refusals logged without flooding the log: one line per cause per interval, with a count of the rest.

Anything taken from the request is escaped before it is logged (a forged path cannot forge a log line).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.types import Scope

logger = logging.getLogger("workers_ai_mcp.transports.http.gate")  # the gate's refusals, as before

LOG_INTERVAL = 60.0
_SHOWN = 120  # characters of a request value kept in a log line


def escape(value: str, limit: int = _SHOWN) -> str:
    """`value` with every character outside printable ASCII escaped, cut to `limit` characters."""
    out = "".join(ch if " " <= ch <= "~" and ch != "\\" else ascii(ch)[1:-1] for ch in value[:limit])
    return out + ("..." if len(value) > limit else "")


@dataclass
class _Cause:
    logged_at: float
    unlogged: int = 0


class RefusalLog:
    """Logs a refusal at WARNING the first time its cause is seen in each interval; counts the rest."""

    def __init__(self, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._causes: dict[str, _Cause] = {}

    def refused(self, cause: str, scope: Scope, detail: str = "") -> None:
        now = self._clock()
        seen = self._causes.get(cause)
        if seen is not None and now - seen.logged_at < self._interval:
            seen.unlogged += 1
            return
        unlogged = seen.unlogged if seen else 0
        self._causes[cause] = _Cause(logged_at=now)
        client = scope.get("client")
        logger.warning(
            "Refused %s %s from %s: %s%s%s",
            escape(str(scope.get("method", "?")), 16),
            escape(route_path(scope)),
            escape(str(client[0])) if client else "an unknown client",
            cause,
            f" ({escape(detail)})" if detail else "",
            f"; {unlogged} more refused for this cause since it was last logged" if unlogged else "",
        )


class OncePerInterval(logging.Filter):
    """Lets a record whose message starts with one of `prefixes` through once per interval per prefix.

    For libraries that log every refused request (uvicorn's "Exceeded concurrency limit.", the SDK's
    "Refusing to open a new session").
    """

    def __init__(
        self, prefixes: Collection[str], interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        prefix = next((p for p in self.prefixes if message.startswith(p)), None)
        if prefix is None:
            return True
        now = self._clock()
        if now - self._last.get(prefix, -self._interval) < self._interval:
            return False
        self._last[prefix] = now
        return True


def install_log_limits(logger_name: str, prefixes: Collection[str]) -> None:
    """Add a `OncePerInterval` filter for `prefixes` to the named logger, once."""
    target = logging.getLogger(logger_name)
    if not any(isinstance(f, OncePerInterval) and f.prefixes == tuple(prefixes) for f in target.filters):
        target.addFilter(OncePerInterval(prefixes))


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
