"""`Spending`: prices, guards and records every model call that `WorkersAI` makes.

Each call goes through `metered(...)` with its `ModelCall`, which holds the catalog entry and
schema the tool may already have read (nothing is asked twice): with a budget configured, the
call's price and schema are looked up first and the estimate is checked and reserved in the shared store before anything
is sent; after the answer, its usage is measured, priced, recorded (and the reservation dropped)
and written on the result as a `CallMeta`. A price that cannot be known (catalog unreachable,
model not priced) never fails a call: the call counts as the stated fallback amount, and the
result says so. Every reservation and record is the caller's (`caller.current_caller`, set per
request by the tool host), read once per call, so the answer is counted for whoever the check was for.
Tools need not know any of this.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from ..catalog.call import ModelCall
from ..client import BinaryResult, JsonResult, NotFoundError, ResponseMeta, StreamResult
from ..jsonvalues import as_dict, dicts
from ..settings import Settings
from .caller import current_caller
from .ledger import FALLBACK_SETTING, Budgets, Estimate, Ledger, usd
from .pricing import (
    PROMPT_TOKENS,
    REQUESTS,
    STEPS,
    TILES,
    Pricing,
    estimate_before,
    measure_after,
    reported_cost,
    request_units,
)
from .store import StateStore, open_store

logger = logging.getLogger(__name__)

# After a failed price look-up, calls of that model go unpriced this long before the next try
# (a token without catalog access must not add a failing request to every call).
LOOKUP_RETRY_AFTER = 300.0
CATALOG_DOWN = "the catalog could not be read"

Result = TypeVar("Result", bound=JsonResult | BinaryResult | StreamResult)


@dataclass(frozen=True)
class CallMeta(ResponseMeta):
    """The response's facts plus what the call used and cost."""

    usage: dict[str, float] | None = None  # tokens, or the unit the model is priced in
    cost_usd: float | None = None  # estimated from the catalog price; None when unknown
    price_known: bool = False
    usage_estimated: bool = False  # tokens counted as characters / 4 because the API reported none
    counted_usd: float | None = None  # what usage and budgets count: the cost, else the fallback amount
    spending_note: str | None = None  # the fallback, or spending kept in memory only: said on the result
    # Where `cost_usd` comes from: "neurons" (what the answer reported, exact), "price" (the catalog's
    # price for the measured usage), or None (unknown: the call counts as the fallback, an estimate).
    cost_basis: str | None = None


def _cost(pricing: Pricing | None, usage: dict[str, float] | None) -> tuple[float | None, str | None]:
    """The call's cost and its basis: reported neurons win over the catalog price."""
    reported = reported_cost(usage)
    if reported is not None:
        return reported, "neurons"
    cost = pricing.cost(usage) if pricing is not None and usage is not None else None
    return cost, None if cost is None else "price"


class Spending:
    """The ledger in the state store, consulted around every model call of one client."""

    def __init__(
        self,
        store: StateStore | None = None,
        *,
        max_cost_usd: float | None = None,
        max_cost_usd_monthly: float | None = None,
        max_call_cost_usd: float | None = None,
        unpriced_call_usd: float = 0.01,
        call_ttl: float = 120.0,
        user_max_cost_usd: float | None = None,
        user_max_cost_usd_monthly: float | None = None,
    ) -> None:
        self.store = store or StateStore(None)
        budgets = Budgets(
            max_cost_usd, max_cost_usd_monthly, max_call_cost_usd, unpriced_call_usd,
            user_daily=user_max_cost_usd, user_monthly=user_max_cost_usd_monthly,
        )  # fmt: skip
        self.ledger = Ledger(self.store, budgets, call_ttl=call_ttl)
        self._lookup_failed: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Spending:
        return cls(
            open_store(settings),
            max_cost_usd=settings.max_cost_usd,
            max_cost_usd_monthly=settings.max_cost_usd_monthly,
            max_call_cost_usd=settings.max_call_cost_usd,
            unpriced_call_usd=settings.unpriced_call_usd,
            call_ttl=settings.timeout + 60.0,  # the call's deadline, and a margin
            user_max_cost_usd=settings.user_max_cost_usd,
            user_max_cost_usd_monthly=settings.user_max_cost_usd_monthly,
        )

    @property
    def budgets(self) -> Budgets:
        return self.ledger.budgets

    async def aclose(self) -> None:
        await self.store.aclose()

    async def metered(
        self, call: ModelCall, inputs: Mapping[str, Any] | None, send: Callable[[], Awaitable[Result]]
    ) -> Result:
        """Guard, send, then price and record the answer."""
        key = f"call:{uuid.uuid4().hex}"
        user = current_caller().user_id
        await self._guard(call, inputs, key, user)
        try:
            result = await send()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.ledger.release(key)
            raise
        return await self._settle(call, inputs, result, key, user)

    async def submit_batch(
        self, call: ModelCall, requests: list[dict[str, Any]], send: Callable[[], Awaitable[JsonResult]]
    ) -> JsonResult:
        """Guard a batch submission; its estimate stays held until the batch's results are priced."""
        key = f"call:{uuid.uuid4().hex}"
        model = call.model
        inputs = {"requests": requests}
        user = current_caller().user_id
        estimate = await self._guard(call, inputs, key, user)
        try:
            result = await send()
        finally:
            with anyio.CancelScope(shield=True):
                await self.ledger.release(key)
        job = result.object.get("request_id")
        if isinstance(job, str):
            amount = estimate.amount if estimate is not None else 0.0
            prompt = sum(request_units(r)[PROMPT_TOKENS] for r in requests)
            await self.ledger.hold_batch(job, model, amount, prompt, user)
        pricing, _ = await self._pricing(call)
        return self._labelled(result, None, None, priced=pricing is not None and pricing.known, estimated=False)

    async def poll_batch(self, call: ModelCall, job: str, send: Callable[[], Awaitable[JsonResult]]) -> JsonResult:
        """A poll costs nothing; the answer that carries the results is priced and recorded once (for the
        caller, which the batch tools set to the job's owner)."""
        result = await send()
        data = result.object
        responses = dicts(data.get("responses"))
        if "responses" not in data:
            return result
        pricing, unknown = await self._pricing(call)
        reported = as_dict(data.get("usage"))
        if not any(isinstance(v, int | float) and v > 0 for v in reported.values()):
            reported = {}  # all-zero usage on a finished batch means "not reported"
        outputs = [r.get("result") for r in responses]
        usage, estimated = measure_after(pricing, None, outputs, reported)
        if usage is not None and pricing is not None:
            prompt = await self.ledger.batch_prompt_tokens(job)
            if PROMPT_TOKENS not in reported and prompt is not None:
                usage[PROMPT_TOKENS] = prompt
            if REQUESTS in pricing.rates:
                usage[REQUESTS] = float(len(responses))
        cost = pricing.cost(usage) if pricing is not None and usage is not None else None
        counted = await self.ledger.record_batch(job, call.model, usage, cost, current_caller().user_id)
        return self._labelled(
            result, usage, cost, priced=pricing is not None and pricing.known, estimated=estimated,
            counted=0.0 if counted is None else counted, unknown=unknown or "the batch did not say how much it used",
            again=counted is None,
        )  # fmt: skip

    async def forget_batch(self, job: str) -> None:
        """Drop the hold of a batch whose results can no longer be fetched."""
        await self.ledger.release(f"batch:{job}")

    # ---- internals -----------------------------------------------------------------------------

    async def _guard(self, call: ModelCall, inputs: Mapping[str, Any] | None, key: str, user: str) -> Estimate | None:
        if not self.budgets.active:
            return None
        pricing, unknown = await self._pricing(call)
        amount = None
        if pricing is not None and pricing.known:
            amount = estimate_before(await call.info(), inputs, schema=await call.input_schema())
        if amount is None:
            reason = unknown or "its cost cannot be estimated before the call"
            estimate = Estimate(self.budgets.fallback, reason)
        else:
            estimate = Estimate(amount)
        await self.ledger.reserve(key, call.model, estimate, user)
        return estimate

    async def _settle(
        self, call: ModelCall, inputs: Mapping[str, Any] | None, result: Result, key: str, user: str
    ) -> Result:
        pricing, unknown = await self._pricing(call)
        schema = None
        if pricing is not None and (STEPS in pricing.rates or TILES in pricing.rates):
            try:
                schema = await call.input_schema()
            except NotFoundError:
                schema = None  # the model answered: the answer stands, priced without its schema
        if isinstance(result, JsonResult):
            output: Any = result.data
            reported = result.object.get("usage")
        elif isinstance(result, BinaryResult):
            output, reported = None, None
        else:
            output, reported = result.text, result.usage
        usage, estimated = measure_after(pricing, inputs, output, as_dict(reported), schema=schema)
        cost, basis = _cost(pricing, usage)
        cached = (result.meta.gateway_cache_status or "").upper() == "HIT"
        if cached and cost is not None:
            cost = 0.0  # answered from the AI Gateway cache: no model ran
        counted = await self.ledger.record(call.model, usage, cost, cached=cached, release=key, user=user)
        labelled = self._labelled(
            result, usage, cost, priced=basis == "neurons" or pricing is not None and pricing.known,
            estimated=estimated, counted=counted, unknown=unknown or "the answer did not say how much was used",
        )  # fmt: skip
        return dataclasses.replace(labelled, meta=dataclasses.replace(labelled.meta, cost_basis=basis))

    async def _pricing(self, call: ModelCall) -> tuple[Pricing | None, str | None]:
        """The model's pricing when it is known, and otherwise why not."""
        model = call.model
        if self._lookup_failed.get(model, 0.0) > time.monotonic():
            return None, CATALOG_DOWN
        info = await call.info()
        if call.info_error is not None:
            logger.warning("No price for %s: the catalog look-up failed (%s)", model, type(call.info_error).__name__)
            self._lookup_failed[model] = time.monotonic() + LOOKUP_RETRY_AFTER
            return None, CATALOG_DOWN
        if info is None:
            return None, "the model is not in the catalog"
        pricing = Pricing.of(info)
        if pricing is None:
            return None, "the catalog lists no price for it"
        if not pricing.known:
            return pricing, f"its price is in units this server cannot measure ({', '.join(pricing.unknown_units)})"
        return pricing, None

    def _labelled(
        self,
        result: Result,
        usage: dict[str, float] | None,
        cost: float | None,
        *,
        priced: bool,
        estimated: bool,
        counted: float | None = None,
        unknown: str | None = None,
        again: bool = False,
    ) -> Result:
        notes: list[str] = []
        if again:
            notes.append("These batch results were counted when they were first fetched; this fetch counts nothing.")
        if counted is not None and cost is None and counted > 0:
            notes.append(
                f"The cost is unknown ({unknown}); it counts as {usd(counted)} ({FALLBACK_SETTING}) in usage "
                "and budgets."
            )
        if not self.store.shared and self.store.path is not None:
            notes.append(f"Spending is tracked in memory for this server process only: {self.store.problem}.")
        facts = {f.name: getattr(result.meta, f.name) for f in dataclasses.fields(ResponseMeta)}
        meta = CallMeta(
            **facts, usage=usage, cost_usd=cost, price_known=priced, usage_estimated=estimated,
            counted_usd=counted, spending_note=" ".join(notes) or None,
        )  # fmt: skip
        return dataclasses.replace(result, meta=meta)
