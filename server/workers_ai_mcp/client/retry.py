"""Retry policy as pure functions, so that it can be checked as a table.

Inference costs money, so only answers that say "try again" are retried: 408, 409, 429 and
5xx, plus failures to connect. Never another 4xx.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 30.0

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def should_retry(status: int) -> bool:
    """Whether an error status is worth another attempt."""
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if sane."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return _sane(float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _sane(float(raw))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return _sane(parsed.timestamp() - current)


def _sane(seconds: float) -> float | None:
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def retry_delay(attempt: int, retry_after: float | None, jitter: float) -> float:
    """Seconds to sleep before retry number `attempt` (0-based); `jitter` is in [0, 1).

    A server's `Retry-After` wins when it is within `MAX_RETRY_AFTER`; otherwise exponential
    backoff from `INITIAL_DELAY`, capped at `MAX_DELAY`, shortened by up to a quarter at random.
    """
    if retry_after is not None and retry_after <= MAX_RETRY_AFTER:
        return retry_after
    backoff = min(INITIAL_DELAY * 2**attempt, MAX_DELAY)
    return backoff * (1 - 0.25 * jitter)
