"""`WorkersAIClient`: every call the server makes to Workers AI, over one shared HTTP client.

It knows Cloudflare (endpoints, URLs, AI Gateway headers, the catalog and its caches, metering)
and nothing of MCP; `sender.py` does the sending (retries, deadlines, decoding).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import httpx2

from ..jsonvalues import as_dict, dicts
from ..redact import Redactor
from ..settings import Settings
from .errors import (
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ResponseDecodeError,
)
from .model_ids import check_model_id
from .results import BinaryResult, JsonResult, ModelPage, RunResult
from .sender import OnEvent, Sender, StreamResult, create_http_client

if TYPE_CHECKING:
    from ..deprecations import CatalogWatch
    from ..metering import Spending

logger = logging.getLogger(__name__)

_Result = TypeVar("_Result", bound="JsonResult | BinaryResult | StreamResult")


class WorkersAIClient:
    """Typed calls to the Workers AI REST API."""

    def __init__(
        self,
        settings: Settings,
        http: httpx2.AsyncClient | Callable[[], httpx2.AsyncClient],
        *,
        redactor: Redactor | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        spending: Spending | None = None,
        catalog_watch: CatalogWatch | None = None,
    ) -> None:
        """`http` is the shared HTTP client, or a factory that makes it on first use (and `aclose` closes it).

        `spending` prices, guards and records model calls; `catalog_watch` checks default models.
        """
        self.settings = settings
        self.spending = spending
        self.catalog_watch = catalog_watch
        self.redact = redactor or Redactor()
        self.redact.add(settings.api_token.get_secret_value() if settings.api_token else None)
        self.redact.add(settings.gateway_token.get_secret_value() if settings.gateway_token else None)
        self._sender = Sender(settings, http, redact=self.redact, sleep=sleep, jitter=jitter)
        self._schemas: dict[str, tuple[float, dict[str, Any]]] = {}
        self._infos: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._catalog_locks: dict[str, anyio.Lock] = {}

    @property
    def http(self) -> httpx2.AsyncClient:
        """The one pooled HTTP client (made on first use when built from a factory)."""
        return self._sender.http

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        await self._sender.aclose()

    # ---- public calls -------------------------------------------------------------------------

    async def run(
        self,
        model: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, str] | None = None,
        cache_ttl: int | None = None,
    ) -> RunResult:
        """`POST ai/run/{model}` with a JSON body, or raw `body` bytes of `content_type`."""
        check_model_id(model)

        async def send() -> RunResult:
            return await self._run(
                model, inputs, body=body, content_type=content_type, query=query, cache_ttl=cache_ttl
            )

        return await self._metered(model, inputs if body is None else None, send)

    async def stream_run(
        self, model: str, inputs: Mapping[str, Any], on_event: OnEvent, *, cache_ttl: int | None = None
    ) -> StreamResult:
        """`ai/run/{model}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        check_model_id(model)
        body = {**inputs, "stream": True}
        headers = self._gateway_headers(cache_ttl)

        async def send() -> StreamResult:
            return await self._sender.stream(
                self._run_url(model), body, model=model, headers=headers, on_event=on_event
            )

        return await self._metered(model, inputs, send)

    async def chat_completions(self, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        """OpenAI-compatible `/ai/v1/chat/completions` (a bare `chat.completion` object)."""
        return await self._v1("chat/completions", body, cache_ttl=cache_ttl)

    async def stream_chat_completions(
        self, body: Mapping[str, Any], on_event: OnEvent, *, cache_ttl: int | None = None
    ) -> StreamResult:
        """`/ai/v1/chat/completions` with `stream: true`."""
        model = check_model_id(str(body.get("model", "")))
        payload = {**body, "stream": True, "stream_options": {"include_usage": True}}
        headers = self._gateway_headers(cache_ttl)

        async def send() -> StreamResult:
            url = self._v1_url("chat/completions")
            return await self._sender.stream(url, payload, model=model, headers=headers, on_event=on_event)

        return await self._metered(model, body, send)

    async def completions(self, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        """OpenAI-compatible `/ai/v1/completions`."""
        return await self._v1("completions", body, cache_ttl=cache_ttl)

    async def embeddings(self, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        """OpenAI-compatible `/ai/v1/embeddings`."""
        return await self._v1("embeddings", body, cache_ttl=cache_ttl)

    async def responses(self, body: Mapping[str, Any]) -> JsonResult:
        """OpenAI-compatible `/ai/v1/responses` (gpt-oss models, not streamed)."""
        return await self._v1("responses", body)

    async def search_models(
        self,
        *,
        search: str | None = None,
        task: str | None = None,
        author: str | None = None,
        source: int | None = None,
        hide_experimental: bool | None = None,
        include_deprecated: bool | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> ModelPage:
        """`GET ai/models/search`, one page."""
        found = await self._search_page(
            search=search,
            task=task,
            author=author,
            source=source,
            hide_experimental=hide_experimental,
            include_deprecated=include_deprecated,
            page=page,
            per_page=per_page,
        )
        await self._watch_catalog()
        return found

    async def _search_page(
        self,
        *,
        search: str | None = None,
        task: str | None = None,
        author: str | None = None,
        source: int | None = None,
        hide_experimental: bool | None = None,
        include_deprecated: bool | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> ModelPage:
        params: dict[str, str] = {"page": str(page), "per_page": str(per_page)}
        params |= {key: value for key, value in (("search", search), ("task", task), ("author", author)) if value}
        if source is not None:
            params["source"] = str(source)
        for key, flag in (("hide_experimental", hide_experimental), ("include_deprecated", include_deprecated)):
            if flag is not None:
                params[key] = "true" if flag else "false"
        raw = await self._sender.call(
            "GET", self._api_url("models/search"), model=None, params=params, envelope=True, raw=True
        )
        envelope = as_dict(raw.data)
        models = dicts(envelope.get("result"))
        info = as_dict(envelope.get("result_info"))
        return ModelPage(
            models=models,
            page=int(info.get("page", page)),
            per_page=int(info.get("per_page", per_page)),
            count=int(info.get("count", len(models))),
            total_count=int(info["total_count"]) if isinstance(info.get("total_count"), int) else None,
        )

    async def model_schema(self, model: str) -> dict[str, Any]:
        """`GET ai/models/schema`: `{input, output}` JSON Schemas, cached for the configured TTL."""
        check_model_id(model)
        cached = self._schemas.get(model)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        result = await self._sender.call("GET", self._api_url("models/schema"), model=model, params={"model": model})
        schema = as_dict(result.data)
        self._schemas[model] = (now + self.settings.schema_cache_ttl, schema)
        return schema

    async def model_info(self, model: str) -> dict[str, Any] | None:
        """The catalog row of `model` (task, properties, price), or None when it is not listed; cached.

        Concurrent first calls for one model share a single look-up.
        """
        check_model_id(model)
        cached = self._cached_info(model)
        if cached is not None:
            return cached[0]
        async with self._catalog_lock(model):
            cached = self._cached_info(model)
            if cached is not None:
                return cached[0]
            if self.catalog_watch is not None and self.catalog_watch.pending:
                async with self._catalog_lock(""):
                    await self._watch_catalog()  # reads the whole catalog once, filling this cache
                cached = self._cached_info(model)
                if cached is not None:
                    return cached[0]
            page = await self._search_page(search=model.rsplit("/", 1)[-1], per_page=50, include_deprecated=True)
            info = next((m for m in page.models if m.get("name") == model), None)
            self._infos[model] = (time.monotonic() + self.settings.schema_cache_ttl, info)
            return info

    def _cached_info(self, model: str) -> tuple[dict[str, Any] | None] | None:
        cached = self._infos.get(model)
        return (cached[1],) if cached and cached[0] > time.monotonic() else None

    def _catalog_lock(self, key: str) -> anyio.Lock:
        return self._catalog_locks.setdefault(key, anyio.Lock())

    @property
    def deprecations(self) -> list[Any]:
        """`DeprecationNotice`s for configured default models, once the catalog has been read."""
        return list(self.catalog_watch.notices) if self.catalog_watch is not None else []

    async def verify_token(self) -> dict[str, Any]:
        """Check the token: user tokens first, then account-owned tokens."""
        try:
            result = await self._sender.call("GET", f"{self.settings.base_url}/user/tokens/verify", model=None)
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            url = f"{self.settings.base_url}/accounts/{self._account()}/tokens/verify"
            result = await self._sender.call("GET", url, model=None)
        return as_dict(result.data)

    async def queue_batch(self, model: str, requests: list[dict[str, Any]]) -> JsonResult:
        """Queue an async batch (`?queueRequest=true`); the answer carries a `request_id`."""
        check_model_id(model)

        async def send() -> JsonResult:
            result = await self._run(model, {"requests": requests}, query={"queueRequest": "true"}, skip_cache=True)
            if not isinstance(result, JsonResult):
                raise ResponseDecodeError("Workers AI answered a batch submission with binary data.")
            return result

        return await self.spending.submit_batch(self, model, requests, send) if self.spending else await send()

    async def poll_batch(self, model: str, request_id: str) -> JsonResult:
        """Poll an async batch by its `request_id` (never from a gateway cache: the answer changes)."""
        check_model_id(model)

        async def send() -> JsonResult:
            result = await self._run(model, {"request_id": request_id}, skip_cache=True)
            if not isinstance(result, JsonResult):
                raise ResponseDecodeError("Workers AI answered a batch poll with binary data.")
            return result

        return await self.spending.poll_batch(self, model, request_id, send) if self.spending else await send()

    # ---- URLs and headers ---------------------------------------------------------------------

    def _account(self) -> str:
        missing = self.settings.missing_credentials()
        if missing:
            raise ConfigurationError(
                f"Workers AI is not configured: set {' and '.join(missing)} (an API token with the "
                "'Workers AI' Read permission and your account id), or start the server with --emulator "
                "to try every tool without an account."
            )
        return cast(str, self.settings.account_id)

    def _api_url(self, path: str) -> str:
        return f"{self.settings.base_url}/accounts/{self._account()}/ai/{path}"

    def _gateway_base(self) -> str | None:
        if not self.settings.gateway_id:
            return None
        return f"{self.settings.gateway_url}/{self._account()}/{self.settings.gateway_id}/workers-ai"

    def _run_url(self, model: str) -> str:
        gateway = self._gateway_base()
        return f"{gateway}/run/{model}" if gateway else self._api_url(f"run/{model}")

    def _v1_url(self, name: str) -> str:
        gateway = self._gateway_base()
        return f"{gateway}/v1/{name}" if gateway else self._api_url(f"v1/{name}")

    def _gateway_headers(self, cache_ttl: int | None, *, skip_cache: bool = False) -> dict[str, str]:
        if not self.settings.gateway_id:
            return {}
        headers: dict[str, str] = {}
        if self.settings.gateway_token:
            headers["cf-aig-authorization"] = f"Bearer {self.settings.gateway_token.get_secret_value()}"
        ttl = cache_ttl if cache_ttl is not None else self.settings.gateway_cache_ttl
        if ttl is not None and not skip_cache:
            headers["cf-aig-cache-ttl"] = str(ttl)
        if self.settings.gateway_skip_cache or skip_cache:
            headers["cf-aig-skip-cache"] = "true"
        return headers

    # ---- sending ------------------------------------------------------------------------------

    async def _metered(
        self, model: str, inputs: Mapping[str, Any] | None, send: Callable[[], Awaitable[_Result]]
    ) -> _Result:
        if self.spending is None:
            return await send()
        return await self.spending.metered(self, model, inputs, send)

    async def _watch_catalog(self) -> None:
        """On the first catalog read, read it all once: default-model deprecations, and a warm price cache."""
        watch = self.catalog_watch
        if watch is None or not watch.pending:
            return
        rows = await watch.sweep(self._search_page)
        expiry = time.monotonic() + self.settings.schema_cache_ttl
        for row in rows:
            if isinstance(row.get("name"), str):
                self._infos[row["name"]] = (expiry, row)

    async def _run(
        self,
        model: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        query: Mapping[str, str] | None = None,
        cache_ttl: int | None = None,
        skip_cache: bool = False,
    ) -> RunResult:
        url = self._run_url(model)
        if body is not None:
            payload: dict[str, Any] = {"content": body}
            headers = {"content-type": content_type or "application/octet-stream"}
        else:
            payload = {"json": dict(inputs or {})}
            headers = {}
        headers |= self._gateway_headers(cache_ttl, skip_cache=skip_cache)
        return await self._sender.call(
            "POST", url, model=model, headers=headers, params=query, envelope=True, **payload
        )

    async def _v1(self, name: str, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        model = check_model_id(str(body.get("model", "")))
        headers = self._gateway_headers(cache_ttl)

        async def send() -> JsonResult:
            result = await self._sender.call("POST", self._v1_url(name), model=model, json=dict(body), headers=headers)
            if not isinstance(result, JsonResult):
                raise ResponseDecodeError(f"Workers AI answered /v1/{name} with binary data.")
            return result

        return await self._metered(model, body, send)


__all__ = ["APIStatusError", "StreamResult", "WorkersAIClient", "create_http_client"]
