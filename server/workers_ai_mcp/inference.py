"""`WorkersAI`: the one object tools call for inference and catalog look-ups.

Every model call goes guard → client → settle: `Spending` checks the budget before anything is
sent and prices the answer after; the client sends. Model ids enter here and are checked once;
each call carries one `ModelCall` (made by the tool when it reads the model's schema or entry
itself, else here), so the catalog is asked at most once per fact per call. Catalog look-ups go
through the `Catalog`'s caches. Tools never reach the HTTP client directly (media URL fetching
borrows its pool).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

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
from .spending.metering import Spending

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
        self, model: str | ModelCall, request: Request | Mapping[str, Any], *, cache_ttl: int | None = None
    ) -> RunResult:
        """`ai/run/{model}` with `request` in any wire form (a mapping is JSON inputs)."""
        call = model if isinstance(model, ModelCall) else self.prepare(model)
        if not isinstance(request, Request):
            request = Request(inputs=request)

        async def send() -> RunResult:
            return await self.client.run(call.model, request, cache_ttl=cache_ttl)

        return await self._metered(call, request.priced_inputs, send)

    async def stream_run(
        self, model: str | ModelCall, inputs: Mapping[str, Any], on_event: OnEvent, *, cache_ttl: int | None = None
    ) -> StreamResult:
        """`ai/run/{model}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        call = model if isinstance(model, ModelCall) else self.prepare(model)

        async def send() -> StreamResult:
            return await self.client.stream_run(call.model, inputs, on_event, cache_ttl=cache_ttl)

        return await self._metered(call, inputs, send)

    async def v1(
        self, name: str, body: Mapping[str, Any], *, call: ModelCall | None = None, cache_ttl: int | None = None
    ) -> JsonResult:
        """An OpenAI-compatible endpoint `/ai/v1/{name}`; `body["model"]` names the model."""
        call = call or self.prepare(str(body.get("model", "")))

        async def send() -> JsonResult:
            return await self.client.v1(name, body, cache_ttl=cache_ttl)

        return await self._metered(call, body, send)

    async def stream_v1(
        self,
        name: str,
        body: Mapping[str, Any],
        on_event: OnEvent,
        *,
        call: ModelCall | None = None,
        cache_ttl: int | None = None,
    ) -> StreamResult:
        """`/ai/v1/{name}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        call = call or self.prepare(str(body.get("model", "")))

        async def send() -> StreamResult:
            return await self.client.stream_v1(name, body, on_event, cache_ttl=cache_ttl)

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

        async def send() -> JsonResult:
            return await self.client.queue_batch(model, requests)

        return await self.spending.submit_batch(call, requests, send)

    async def poll_batch(self, model: str, request_id: str) -> JsonResult:
        """Poll an async batch; the answer that carries its results is priced and recorded once."""
        call = self.prepare(model)

        async def send() -> JsonResult:
            return await self.client.poll_batch(model, request_id)

        return await self.spending.poll_batch(call, request_id, send)

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
