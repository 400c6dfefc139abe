"""`WorkersAI`: the one object tools call for inference and catalog look-ups.

Every model call goes guard → client → settle: `Spending` checks the budget before anything is
sent and prices the answer after; the client sends. Catalog look-ups go through the `Catalog`'s
caches. Tools never reach the HTTP client directly (media URL fetching borrows its pool).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx2

from .catalog.cache import Catalog
from .catalog.deprecations import CatalogWatch, DeprecationNotice
from .catalog.models import ModelInfo
from .catalog.requests import Request
from .client import (
    BinaryResult,
    JsonResult,
    ModelPage,
    NotFoundError,
    RunResult,
    StreamResult,
    WorkersAIClient,
    WorkersAIError,
    check_model_id,
)
from .client.sender import OnEvent
from .jsonvalues import as_dict
from .settings import Settings
from .spending.metering import Spending

logger = logging.getLogger(__name__)

_Result = TypeVar("_Result", bound=JsonResult | BinaryResult | StreamResult)


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

    async def run(
        self,
        model: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        cache_ttl: int | None = None,
    ) -> RunResult:
        """`ai/run/{model}` with JSON `inputs`, or a raw `body` of `content_type`."""
        check_model_id(model)

        async def send() -> RunResult:
            return await self.client.run(model, inputs, body=body, content_type=content_type, cache_ttl=cache_ttl)

        return await self._metered(model, inputs if body is None else None, send)

    async def send(self, model: str, request: Request, *, cache_ttl: int | None = None) -> RunResult:
        """`ai/run/{model}` with a `Request` in any wire form (JSON, raw body, multipart, query)."""
        check_model_id(model)
        files = {name: (part.filename, part.data, part.content_type) for name, part in request.files.items()}

        async def send() -> RunResult:
            return await self.client.run(
                model,
                request.inputs,
                body=request.body,
                content_type=request.content_type,
                query=request.query or None,
                form=request.form if request.multipart else None,
                files=files if request.multipart else None,
                cache_ttl=cache_ttl,
            )

        return await self._metered(model, request.priced_inputs, send)

    async def stream_run(
        self, model: str, inputs: Mapping[str, Any], on_event: OnEvent, *, cache_ttl: int | None = None
    ) -> StreamResult:
        """`ai/run/{model}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        check_model_id(model)

        async def send() -> StreamResult:
            return await self.client.stream_run(model, inputs, on_event, cache_ttl=cache_ttl)

        return await self._metered(model, inputs, send)

    async def v1(self, name: str, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        """An OpenAI-compatible endpoint `/ai/v1/{name}`; `body["model"]` names the model."""
        check_model_id(str(body.get("model", "")))

        async def send() -> JsonResult:
            return await self.client.v1(name, body, cache_ttl=cache_ttl)

        return await self._metered(str(body.get("model", "")), body, send)

    async def stream_v1(
        self, name: str, body: Mapping[str, Any], on_event: OnEvent, *, cache_ttl: int | None = None
    ) -> StreamResult:
        """`/ai/v1/{name}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        model = check_model_id(str(body.get("model", "")))

        async def send() -> StreamResult:
            return await self.client.stream_v1(name, body, on_event, cache_ttl=cache_ttl)

        return await self._metered(model, body, send)

    async def queue_batch(self, model: str, requests: list[dict[str, Any]]) -> JsonResult:
        """Queue an async batch; its estimate stays held against the budget until its results are priced."""

        async def send() -> JsonResult:
            return await self.client.queue_batch(model, requests)

        return await self.spending.submit_batch(self.catalog, model, requests, send)

    async def poll_batch(self, model: str, request_id: str) -> JsonResult:
        """Poll an async batch; the answer that carries its results is priced and recorded once."""

        async def send() -> JsonResult:
            return await self.client.poll_batch(model, request_id)

        return await self.spending.poll_batch(self.catalog, model, request_id, send)

    # ---- catalog ------------------------------------------------------------------------------

    async def search_models(self, **filters: Any) -> ModelPage:
        """One page of the catalog (see `Catalog.search`)."""
        return await self.catalog.search(**filters)

    async def model_schema(self, model: str) -> dict[str, Any]:
        return await self.catalog.model_schema(model)

    async def model_schema_or_none(self, model: str) -> dict[str, Any] | None:
        """The model's `{input, output}` schemas, or None when they cannot be read now: the call then goes
        unchecked. A catalog that is down or a token without catalog access must not stop a call the model
        may take; a model Cloudflare says does not exist still fails here."""
        try:
            return await self.catalog.model_schema(model)
        except NotFoundError:
            raise  # no such model: sending the call cannot help
        except WorkersAIError as exc:
            logger.warning("The schema of %s could not be read (%s); the input is sent unchecked", model, exc)
            return None

    async def input_schema_or_none(self, model: str) -> dict[str, Any] | None:
        """The model's input schema, or None when it cannot be read now (see `model_schema_or_none`)."""
        schema = await self.model_schema_or_none(model)
        return None if schema is None else as_dict(schema.get("input"))

    async def model_info_or_none(self, model: str) -> ModelInfo | None:
        """What the catalog says about the model, or None when it is not listed or cannot be read now."""
        try:
            return await self.catalog.model_info(model)
        except WorkersAIError:
            return None

    async def model_info(self, model: str) -> ModelInfo | None:
        return await self.catalog.model_info(model)

    @property
    def deprecations(self) -> list[DeprecationNotice]:
        return self.catalog.deprecations

    async def verify_token(self) -> dict[str, Any]:
        return await self.client.verify_token()

    async def _metered(
        self, model: str, inputs: Mapping[str, Any] | None, send: Callable[[], Awaitable[_Result]]
    ) -> _Result:
        return await self.spending.metered(self.catalog, model, inputs, send)
