"""The running account of this process's Workers AI calls, and the optional budget that guards it.

Everything runs on the server's one event loop and no method awaits, so each update is atomic
with respect to concurrent tool calls. Money still in flight (a call sent but not answered, a
batch queued but not finished) is held against the budget until it is settled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..client.errors import InvalidRequestError
from .pricing import COMPLETION_TOKENS, PROMPT_TOKENS

BUDGET_SETTING = "WORKERS_AI_MCP_MAX_COST_USD"
CALL_CAP_SETTING = "WORKERS_AI_MCP_MAX_CALL_COST_USD"
_NOT_UNITS = frozenset({PROMPT_TOKENS, COMPLETION_TOKENS, "total_tokens"})


class BudgetExceededError(InvalidRequestError):
    """A call was refused before sending because its estimated cost would cross a configured cap."""


@dataclass
class ModelUsage:
    """Totals for one model (or, with model "*", for all)."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: dict[str, float] = field(default_factory=dict[str, float])
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    cached_calls: int = 0

    def add(self, usage: Mapping[str, float] | None, cost: float | None, *, cached: bool) -> None:
        self.calls += 1
        usage = usage or {}
        self.prompt_tokens += int(usage.get(PROMPT_TOKENS, 0))
        self.completion_tokens += int(usage.get(COMPLETION_TOKENS, 0))
        for unit, amount in usage.items():
            if unit not in _NOT_UNITS:
                self.units[unit] = round(self.units.get(unit, 0.0) + amount, 6)
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += cost
        self.cached_calls += int(cached)


class UsageLedger:
    """Calls, tokens, other units and estimated USD per model since the process started."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._models: dict[str, ModelUsage] = {}
        self._held: dict[object, float] = {}

    def record(
        self, model: str, usage: Mapping[str, float] | None, cost: float | None, *, cached: bool = False
    ) -> None:
        """Count one answered call."""
        self._models.setdefault(model, ModelUsage(model)).add(usage, cost, cached=cached)

    def hold(self, key: object, amount: float) -> None:
        """Count `amount` against the budget until `release(key)`."""
        self._held[key] = self._held.get(key, 0.0) + amount

    def release(self, key: object) -> float | None:
        return self._held.pop(key, None)

    @property
    def spent(self) -> float:
        return sum(m.cost_usd for m in self._models.values())

    @property
    def held(self) -> float:
        return sum(self._held.values())

    def models(self) -> list[ModelUsage]:
        """Per-model totals, the most expensive first."""
        return sorted(self._models.values(), key=lambda m: (-m.cost_usd, -m.calls, m.model))

    def totals(self) -> ModelUsage:
        total = ModelUsage("*")
        for m in self._models.values():
            total.calls += m.calls
            total.prompt_tokens += m.prompt_tokens
            total.completion_tokens += m.completion_tokens
            for unit, amount in m.units.items():
                total.units[unit] = round(total.units.get(unit, 0.0) + amount, 6)
            total.cost_usd += m.cost_usd
            total.unpriced_calls += m.unpriced_calls
            total.cached_calls += m.cached_calls
        return total


class SpendingGuard:
    """Refuses a call whose estimated cost would cross the session budget or the per-call cap."""

    def __init__(
        self, ledger: UsageLedger, *, max_cost_usd: float | None = None, max_call_cost_usd: float | None = None
    ) -> None:
        self.ledger = ledger
        self.max_cost_usd = max_cost_usd
        self.max_call_cost_usd = max_call_cost_usd

    @property
    def active(self) -> bool:
        return self.max_cost_usd is not None or self.max_call_cost_usd is not None

    def check(self, model: str, estimate: float | None) -> None:
        """Raise `BudgetExceededError` if the call may not be sent; `estimate` None means unknown."""
        cap = self.max_call_cost_usd
        if cap is not None and estimate is not None and estimate > cap:
            raise BudgetExceededError(
                f"This call to {model} could cost up to about {usd(estimate)}, more than the per-call cap of "
                f"{usd(cap)} ({CALL_CAP_SETTING}); nothing was sent. Ask for less (fewer max_tokens, steps "
                f"or pixels, a shorter input), or raise {CALL_CAP_SETTING}."
            )
        budget = self.max_cost_usd
        if budget is None:
            return
        committed = self.ledger.spent + self.ledger.held
        if committed >= budget or (estimate is not None and committed + estimate > budget):
            could = f"could cost up to about {usd(estimate)}, and " if estimate is not None else ""
            raise BudgetExceededError(
                f"This call to {model} {could}this session has already spent or committed about {usd(committed)} "
                f"of its {usd(budget)} budget ({BUDGET_SETTING}); nothing was sent. Raise {BUDGET_SETTING} "
                "and restart the server to spend more (the usage tool shows where it went)."
            )


def usd(amount: float) -> str:
    """Dollars with two significant digits for sub-cent amounts: $2.50, $0.0123, $0.0080, $0.000053."""
    if amount >= 1:
        return f"${amount:,.2f}"
    decimals = 4 if amount <= 0 else max(4, 1 - math.floor(math.log10(amount)))
    return f"${amount:.{decimals}f}"
