"""A streamed call's usage totals, from the usage its chunks carry in whatever convention.

Recorded streams (tests/recorded/streams) show three conventions, sometimes in one stream:
- OpenAI-format chunks on `/ai/run` carrying *increments* (gemma-4, glm-5.3: `prompt_tokens` on the
  first chunk only, then a token or so per chunk, `neurons` on each);
- chunks carrying *cumulative* counts (Cloudflare's own test double: every chunk's counts grow);
- a native `{"response": "", "usage": ...}` event at the end carrying the call's *total*, and a
  zero-filled `{"choices": [], "usage": {0...}}` chunk that can come after the real counts.

So: the native event's usage is the total when present; otherwise chunk counts are summed when they are
increments (a count went down from one chunk to the next) and the largest is kept when they are
cumulative. A zero count never overwrites a real one (moondream's native event has the call's neurons
but zero tokens; its tokens are on the earlier events).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

Usage = dict[str, Any]


class UsageTotals:
    """Usage gathered from a stream's events; `value` is the call's usage so far."""

    def __init__(self) -> None:
        self._chunks: list[Usage] = []
        self._total: Usage | None = None

    def add(self, usage: Usage | None, *, total: bool) -> None:
        """One event's usage: `total` when the event is the native one that reports the call's totals."""
        if not usage or not _has_counts(usage):
            return  # a zero-filled chunk says nothing
        if total:
            self._total = usage if self._total is None else _overlay(self._total, usage)
        else:
            self._chunks.append(usage)

    @property
    def value(self) -> Usage | None:
        gathered = self._gathered()
        if self._total is None:
            return gathered
        return self._total if gathered is None else _overlay(gathered, self._total)

    def _gathered(self) -> Usage | None:
        if not self._chunks:
            return None
        incremental = any(_went_down(before, after) for before, after in itertools.pairwise(self._chunks))
        combine = _sum if incremental else _max
        result: Usage = {}
        for usage in self._chunks:
            result = combine(result, usage)
        return result


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_counts(usage: Usage) -> bool:
    for value in usage.values():
        if _number(value) and value:
            return True
        if isinstance(value, dict) and _has_counts(cast(Usage, value)):
            return True
    return False


def _went_down(before: Usage, after: Usage) -> bool:
    """Whether a count is smaller in the later chunk: chunks then carry increments, not running totals."""
    for key in ("prompt_tokens", "input_tokens", "total_tokens", "completion_tokens", "output_tokens"):
        old, new = before.get(key), after.get(key)
        if _number(old) and _number(new) and cast(float, new) < cast(float, old):
            return True
    return False


Combine = Callable[[float, float], float]


def _add(a: float, b: float) -> float:
    return a + b


def _sum(into: Usage, usage: Usage) -> Usage:
    return _combine(into, usage, _add)


def _max(into: Usage, usage: Usage) -> Usage:
    return _combine(into, usage, max)


def _combine(into: Usage, usage: Usage, how: Combine) -> Usage:
    result = dict(into)
    for key, value in usage.items():
        old = result.get(key)
        if _number(value) and (old is None or _number(old)):
            result[key] = how(old if old is not None else 0, value)
        elif isinstance(value, dict):
            result[key] = _combine(cast(Usage, old) if isinstance(old, dict) else {}, cast(Usage, value), how)
        elif key not in result:
            result[key] = value
    return result


def _overlay(base: Usage, over: Usage) -> Usage:
    """`over`'s counts where they are not zero, `base`'s elsewhere."""
    result = dict(base)
    for key, value in over.items():
        old = result.get(key)
        if isinstance(value, dict):
            result[key] = _overlay(cast(Usage, old) if isinstance(old, dict) else {}, cast(Usage, value))
        elif not (_number(value) and not value and _number(old)):
            result[key] = value
    return result
