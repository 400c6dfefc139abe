"""`Spending`: prices, guards and records every model call that `WorkersAI` makes.

Each call goes through `metered(...)`: with a budget configured, the call's price and schema
are looked up first and the estimate is checked (and held) before anything is sent; after the
answer, its usage is measured, priced, recorded in the ledger and written on the result as a
`CallMeta`. Price look-ups use the catalog's cached model info; a failed look-up means "price
unknown", never a failed call. Tools need not know any of this.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..client import BinaryResult, JsonResult, ResponseMeta, StreamResult, WorkersAIError
from ..jsonvalues import as_dict, dicts
from ..settings import Settings
from .ledger import SpendingGuard, UsageLedger
from .models import ModelInfo
from .pricing import PROMPT_TOKENS, REQUESTS, STEPS, TILES, Pricing, estimate_before, measure_after, request_units

logger = logging.getLogger(__name__)

# After a failed price look-up, calls of that model go unpriced this long before the next try
# (a token without catalog access must not add a failing request to every call).
LOOKUP_RETRY_AFTER = 300.0

Result = TypeVar("Result", bound=JsonResult | BinaryResult | StreamResult)


@dataclass(frozen=True)
class CallMeta(ResponseMeta):
    """The response's facts plus what the call used and cost."""

    usage: dict[str, float] | None = None  # tokens, or the unit the model is priced in
    cost_usd: float | None = None  # estimated from the catalog price; None when unknown
    price_known: bool = False
    usage_estimated: bool = False  # tokens counted as characters / 4 because the API reported none


class Catalog(Protocol):
    """What metering needs from the catalog: cached model info and schemas."""

    async def model_info(self, model: str) -> ModelInfo | None: ...

    async def model_schema(self, model: str) -> dict[str, Any]: ...


class Spending:
    """Ledger plus guard, consulted around every model call of one client."""

    def __init__(
        self,
        ledger: UsageLedger | None = None,
        *,
        max_cost_usd: float | None = None,
        max_call_cost_usd: float | None = None,
    ) -> None:
        self.ledger = ledger or UsageLedger()
        self.guard = SpendingGuard(self.ledger, max_cost_usd=max_cost_usd, max_call_cost_usd=max_call_cost_usd)
        self._batch_prompt_tokens: dict[str, float] = {}
        self._lookup_failed: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Spending:
        return cls(max_cost_usd=settings.max_cost_usd, max_call_cost_usd=settings.max_call_cost_usd)

    async def metered(
        self, catalog: Catalog, model: str, inputs: Mapping[str, Any] | None, send: Callable[[], Awaitable[Result]]
    ) -> Result:
        """Guard, send, then price and record the answer."""
        ticket = object()
        await self._guard(catalog, model, inputs, ticket)
        try:
            result = await send()
        finally:
            self.ledger.release(ticket)
        return await self._settle(catalog, model, inputs, result)

    async def submit_batch(
        self, catalog: Catalog, model: str, requests: list[dict[str, Any]], send: Callable[[], Awaitable[JsonResult]]
    ) -> JsonResult:
        """Guard a batch submission; its estimate stays held until the batch's results are priced."""
        ticket = object()
        inputs = {"requests": requests}
        estimate = await self._guard(catalog, model, inputs, ticket)
        try:
            result = await send()
        finally:
            self.ledger.release(ticket)
        job = as_dict(result.data).get("request_id")
        if isinstance(job, str):
            if estimate is not None:
                self.ledger.hold(job, estimate)
            self._batch_prompt_tokens[job] = sum(request_units(r)[PROMPT_TOKENS] for r in requests)
        pricing = Pricing.of(await self._info(catalog, model))
        return _labelled(result, None, None, priced=pricing is not None and pricing.known, estimated=False)

    async def poll_batch(
        self, catalog: Catalog, model: str, job: str, send: Callable[[], Awaitable[JsonResult]]
    ) -> JsonResult:
        """A poll costs nothing; the answer that carries the results is priced and recorded once."""
        result = await send()
        data = as_dict(result.data)
        responses = dicts(data.get("responses"))
        if "responses" not in data:
            return result
        self.ledger.release(job)
        pricing = Pricing.of(await self._info(catalog, model))
        reported = as_dict(data.get("usage"))
        if not any(isinstance(v, int | float) and v > 0 for v in reported.values()):
            reported = {}  # all-zero usage on a finished batch means "not reported"
        outputs = [r.get("result") for r in responses]
        usage, estimated = measure_after(pricing, None, outputs, reported)
        if usage is not None and pricing is not None:
            prompt = self._batch_prompt_tokens.pop(job, None)
            if PROMPT_TOKENS not in reported and prompt is not None:
                usage[PROMPT_TOKENS] = prompt
            if REQUESTS in pricing.rates:
                usage[REQUESTS] = float(len(responses))
        cost = pricing.cost(usage) if pricing is not None and usage is not None else None
        self.ledger.record(model, usage, cost)
        return _labelled(result, usage, cost, priced=pricing is not None and pricing.known, estimated=estimated)

    # ---- internals -----------------------------------------------------------------------------

    async def _guard(
        self, catalog: Catalog, model: str, inputs: Mapping[str, Any] | None, ticket: object
    ) -> float | None:
        if not self.guard.active:
            return None
        info = await self._info(catalog, model)
        schema = await self._input_schema(catalog, model) if Pricing.of(info) is not None else None
        estimate = estimate_before(info, inputs, schema=schema)
        self.guard.check(model, estimate)
        if estimate is not None:
            self.ledger.hold(ticket, estimate)
        return estimate

    async def _settle(self, catalog: Catalog, model: str, inputs: Mapping[str, Any] | None, result: Result) -> Result:
        pricing = Pricing.of(await self._info(catalog, model))
        schema = None
        if pricing is not None and (STEPS in pricing.rates or TILES in pricing.rates):
            schema = await self._input_schema(catalog, model)
        if isinstance(result, JsonResult):
            output: Any = result.data
            reported = as_dict(result.data).get("usage")
        elif isinstance(result, BinaryResult):
            output, reported = None, None
        else:
            output, reported = result.text, result.usage
        usage, estimated = measure_after(pricing, inputs, output, as_dict(reported), schema=schema)
        cost = pricing.cost(usage) if pricing is not None and usage is not None else None
        cached = (result.meta.gateway_cache_status or "").upper() == "HIT"
        if cached and cost is not None:
            cost = 0.0  # answered from the AI Gateway cache: no model ran
        self.ledger.record(model, usage, cost, cached=cached)
        return _labelled(result, usage, cost, priced=pricing is not None and pricing.known, estimated=estimated)

    async def _info(self, catalog: Catalog, model: str) -> ModelInfo | None:
        if self._lookup_failed.get(model, 0.0) > time.monotonic():
            return None
        try:
            return await catalog.model_info(model)
        except WorkersAIError as exc:
            logger.info("No price for %s: the catalog look-up failed (%s)", model, type(exc).__name__)
            self._lookup_failed[model] = time.monotonic() + LOOKUP_RETRY_AFTER
            return None

    async def _input_schema(self, catalog: Catalog, model: str) -> dict[str, Any] | None:
        try:
            return as_dict((await catalog.model_schema(model)).get("input"))
        except WorkersAIError:
            return None


def _labelled(
    result: Result, usage: dict[str, float] | None, cost: float | None, *, priced: bool, estimated: bool
) -> Result:
    facts = {f.name: getattr(result.meta, f.name) for f in dataclasses.fields(ResponseMeta)}
    meta = CallMeta(**facts, usage=usage, cost_usd=cost, price_known=priced, usage_estimated=estimated)
    return dataclasses.replace(result, meta=meta)
