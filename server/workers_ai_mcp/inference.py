"""`WorkersAI`: the one object tools call for inference and catalog look-ups.

Every model call goes guard → client → settle: `Spending` checks the budget before anything is
sent and prices the answer after; the client sends. Before the guard, a call whose estimate is above
`WORKERS_AI_MCP_CONFIRM_ABOVE_USD` is put to the gate of the tool call in progress (`CALL_GATE`,
set by the tool host: it asks the person, see tools/host/consent.py); with no gate to ask, it is
refused. A dry run's gate is handed every call's estimate and stops it before it is sent. Model ids
enter here and are checked once; each call carries one `ModelCall` (made by the tool when it reads
the model's schema or entry itself, else here), so the catalog is asked at most once per fact per
call. Catalog look-ups go through the `Catalog`'s caches. Tools never reach the HTTP client directly
(media URL fetching borrows its pool).

Over 300 lines: every way a tool reaches a model (run, stream, v1, stream v1, batch) passes the same
three steps here, with the consent gate and the wrong-task check before them; split, each path would
repeat the steps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx2

from .catalog.cache import Catalog
from .catalog.call import ModelCall
from .catalog.deprecations import CatalogWatch, DeprecationNotice
from .catalog.models import ModelInfo
from .catalog.task_tools import CURRENT_TOOL, wrong_task
from .client import InvalidRequestError, JsonResult, ModelPage, RunResult, StreamResult, WorkersAIClient, check_model_id
from .client.request import Request
from .client.sender import OnEvent
from .defaults import DEFAULTS
from .settings import Settings
from .spending.caller import current_caller
from .spending.ledger import FALLBACK_SETTING, usd
from .spending.metering import Spending
from .spending.pricing import Pricing, estimate_before

CONFIRM_SETTING = "WORKERS_AI_MCP_CONFIRM_ABOVE_USD"


@dataclass(frozen=True)
class PlannedCall:
    """A model call about to be sent: its model, what it is estimated to cost, and the budget left."""

    model: str
    estimate_usd: float
    price_known: bool  # False: the estimate is the fallback amount (`unknown_because` says why)
    unknown_because: str | None = None
    budget_left_usd: float | None = None  # the least left of the caller's and the deployment's budgets, if any is set

    @property
    def cost_words(self) -> str:
        """The estimate in words: the amount, or the fallback amount and why no price is known."""
        if self.price_known:
            return f"about {usd(self.estimate_usd)}"
        return f"{usd(self.estimate_usd)} ({FALLBACK_SETTING}: {self.unknown_because or 'no price is known'})"


class ConsentRefusedError(InvalidRequestError):
    """A call above the confirmation threshold was not consented to; nothing was sent."""


class CallGate(Protocol):
    """What the tool call in progress does with a call before it is sent: return to send it, raise to stop."""

    @property
    def every_call(self) -> bool:
        """True for a dry run: every call is handed over, not only those above the threshold."""
        ...

    async def __call__(self, planned: PlannedCall) -> None: ...


# The gate of the tool call in progress; None outside a tool call (nothing to ask: calls above the
# threshold are refused).
CALL_GATE: ContextVar[CallGate | None] = ContextVar("workers_ai_mcp_call_gate", default=None)

Result = TypeVar("Result", bound=RunResult | StreamResult)


class WorkersAI:
    """Inference (metered) and the catalog, over one Workers AI client."""

    def __init__(self, settings: Settings, client: WorkersAIClient, *, spending: Spending | None = None) -> None:
        self.settings = settings
        self.client = client
        self.catalog = Catalog(settings, client, watch=CatalogWatch(settings))
        self.spending = spending or Spending.from_settings(settings)

    @property
    def http(self) -> httpx2.AsyncClient:
        """The one pooled HTTP client, for fetching media URLs."""
        return self.client.http

    async def aclose(self) -> None:
        try:
            await self.client.aclose()
        finally:
            await self.spending.aclose()

    # ---- inference ----------------------------------------------------------------------------

    def prepare(self, model: str) -> ModelCall:
        """The per-call context of `model`, its id checked: ids enter here, and a crafted one
        (`@cf/../../user/tokens`) stops before any request. Nothing is looked up until asked."""
        return ModelCall(self.catalog, check_model_id(model))

    async def run(
        self,
        model: str | ModelCall,
        request: Request | Mapping[str, Any],
        *,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> RunResult:
        """`ai/run/{model}` with `request` in any wire form (a mapping is JSON inputs)."""
        call = model if isinstance(model, ModelCall) else self.prepare(model)
        if not isinstance(request, Request):
            request = Request(inputs=request)

        await self.before_send(call, request.priced_inputs)

        async def send() -> RunResult:
            return await self.client.run(call.model, request, cache_ttl=cache_ttl, affinity=affinity)

        return await self._metered(call, request.priced_inputs, send)

    async def stream_run(
        self,
        model: str | ModelCall,
        inputs: Mapping[str, Any],
        on_event: OnEvent,
        *,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> StreamResult:
        """`ai/run/{model}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        call = model if isinstance(model, ModelCall) else self.prepare(model)

        await self.before_send(call, inputs)

        async def send() -> StreamResult:
            return await self.client.stream_run(call.model, inputs, on_event, cache_ttl=cache_ttl, affinity=affinity)

        return await self._metered(call, inputs, send)

    async def v1(
        self,
        name: str,
        body: Mapping[str, Any],
        *,
        call: ModelCall | None = None,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> JsonResult:
        """An OpenAI-compatible endpoint `/ai/v1/{name}`; `body["model"]` names the model."""
        call = call or self.prepare(str(body.get("model", "")))

        await self.before_send(call, body)

        async def send() -> JsonResult:
            return await self.client.v1(name, body, cache_ttl=cache_ttl, affinity=affinity)

        return await self._metered(call, body, send)

    async def stream_v1(
        self,
        name: str,
        body: Mapping[str, Any],
        on_event: OnEvent,
        *,
        call: ModelCall | None = None,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> StreamResult:
        """`/ai/v1/{name}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        call = call or self.prepare(str(body.get("model", "")))

        await self.before_send(call, body)

        async def send() -> StreamResult:
            return await self.client.stream_v1(name, body, on_event, cache_ttl=cache_ttl, affinity=affinity)

        return await self._metered(call, body, send)

    async def _metered(
        self, call: ModelCall, inputs: Mapping[str, Any] | None, send: Callable[[], Awaitable[Result]]
    ) -> Result:
        """Refuse a model of another task than the running tool's before anything is sent; then meter.

        The shipped default of the tool is known to fit it, so its calls skip the catalog look-up."""
        default = next((d for d in DEFAULTS if d.tool == CURRENT_TOOL.get()), None)
        if default is not None and call.model != default.model:
            info = await call.info()
            refusal = wrong_task(default.tool, call.model, info.task if info is not None else None)
            if refusal is not None:
                raise InvalidRequestError(refusal)
        return await self.spending.metered(call, inputs, send)

    async def queue_batch(self, model: str, requests: list[dict[str, Any]]) -> JsonResult:
        """Queue an async batch; its estimate stays held against the budget until its results are priced."""
        call = self.prepare(model)
        await self.before_send(call, {"requests": requests})

        async def send() -> JsonResult:
            return await self.client.queue_batch(model, requests)

        return await self.spending.submit_batch(call, requests, send)

    async def poll_batch(self, model: str, request_id: str) -> JsonResult:
        """Poll an async batch; the answer that carries its results is priced and recorded once."""
        call = self.prepare(model)
        gate = CALL_GATE.get()
        if gate is not None and gate.every_call:  # a dry run: polling is free, and nothing is sent
            await gate(PlannedCall(call.model, 0.0, price_known=True))

        async def send() -> JsonResult:
            return await self.client.poll_batch(model, request_id)

        return await self.spending.poll_batch(call, request_id, send)

    # ---- consent --------------------------------------------------------------------------------

    async def before_send(self, call: ModelCall, inputs: Mapping[str, Any] | None) -> None:
        """Put a call above the confirmation threshold (or any call, in a dry run) to the gate of the
        tool call in progress; refuse it when there is none. Returns when the call may be sent."""
        gate = CALL_GATE.get()
        threshold = self.settings.confirm_above_usd
        dry_run = gate is not None and gate.every_call
        if threshold is None and not dry_run:
            return
        planned = await self.plan(call, inputs)
        if not dry_run and (threshold is None or planned.estimate_usd <= threshold):
            return
        if gate is not None:
            await gate(planned)
        else:
            raise ConsentRefusedError(
                f"This call of {planned.model} is estimated at {planned.cost_words}, above {CONFIRM_SETTING}="
                f"{self.settings.confirm_above_usd:g}, and there is no one to ask for consent; nothing was sent."
            )

    async def plan(self, call: ModelCall, inputs: Mapping[str, Any] | None) -> PlannedCall:
        """What a call is estimated to cost before it is sent, as the spending guard counts it: the
        catalog price for the request's size, else the fallback amount; and the budget left."""
        info = await call.info()
        pricing = Pricing.of(info) if call.info_error is None else None
        amount: float | None = None
        why: str | None = None
        if pricing is not None and pricing.known:
            amount = estimate_before(info, inputs, schema=await call.input_schema())
        elif call.info_error is not None:
            why = "the catalog could not be read"
        elif info is None:
            why = "the model is not in the catalog"
        elif pricing is None:
            why = "the catalog lists no price for it"
        else:
            why = "its price is in units this server cannot measure"
        left = await self.budget_left()
        if amount is None:
            reason = why or "its cost cannot be estimated before the call"
            return PlannedCall(call.model, self.spending.budgets.fallback, False, reason, left)
        return PlannedCall(call.model, amount, True, None, left)

    async def budget_left(self) -> float | None:
        """What the caller may still spend: the least left of their budgets and the deployment's (spent or held
        counted), or None when no budget over a window is set."""
        budgets = self.spending.budgets
        if not budgets.windowed:
            return None
        standing = await self.spending.ledger.committed(current_caller().user_id)
        return standing.left(budgets)

    # ---- catalog ------------------------------------------------------------------------------

    async def search_models(self, **filters: Any) -> ModelPage:
        """One page of the catalog (see `Catalog.search`)."""
        return await self.catalog.search(**filters)

    async def model_schema(self, model: str) -> dict[str, Any]:
        """`{input, output}` of `model`, whatever the catalog says (an error if it cannot be read)."""
        return await self.catalog.model_schema(check_model_id(model))

    async def model_info(self, model: str) -> ModelInfo | None:
        """What the catalog says about `model`, or None when it does not list it."""
        return await self.catalog.model_info(check_model_id(model))

    @property
    def deprecations(self) -> list[DeprecationNotice]:
        return self.catalog.deprecations

    async def verify_token(self) -> dict[str, Any]:
        return await self.client.verify_token()
