"""`WorkersAIClient`: every call the server makes to Workers AI, over one shared HTTP client.

It knows Cloudflare's endpoints, URLs and AI Gateway headers, and nothing of prices, catalogs
or MCP; `sender.py` does the sending (retries, deadlines, decoding).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

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
from .request import Request
from .results import JsonResult, ModelPage, RunResult
from .sender import OnEvent, Sender, StreamResult, create_http_client

_QUEUE = {"queueRequest": "true"}


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
    ) -> None:
        """`http` is the shared HTTP client, or a factory that makes it on first use (and `aclose` closes it)."""
        self.settings = settings
        self.redact = redactor or Redactor()
        self.redact.add(settings.api_token.get_secret_value() if settings.api_token else None)
        self.redact.add(settings.gateway_token.get_secret_value() if settings.gateway_token else None)
        self._sender = Sender(settings, http, redact=self.redact, sleep=sleep, jitter=jitter)

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
        request: Request | Mapping[str, Any],
        *,
        cache_ttl: int | None = None,
        skip_cache: bool = False,
        idempotent: bool = True,
        affinity: str | None = None,
    ) -> RunResult:
        """`POST ai/run/{model}` with `request` as it is (a mapping is JSON inputs); `skip_cache` keeps
        the AI Gateway's cache out of it (an answer that changes); a request that is not `idempotent` is
        retried only when it cannot have reached Cloudflare."""
        if not isinstance(request, Request):
            request = Request(inputs=request)
        headers = self._gateway_headers(cache_ttl, skip_cache=skip_cache) | _affinity(affinity)
        return await self._sender.call(
            "POST", self._run_url(model), model=model, request=request, headers=headers, idempotent=idempotent
        )

    async def stream_run(
        self,
        model: str,
        inputs: Mapping[str, Any],
        on_event: OnEvent,
        *,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> StreamResult:
        """`ai/run/{model}` with `stream: true`; `on_event` sees each chunk as it arrives."""
        url = self._run_url(model)
        body = {**inputs, "stream": True}
        headers = self._gateway_headers(cache_ttl) | _affinity(affinity)
        return await self._sender.stream(url, body, model=model, headers=headers, on_event=on_event)

    async def v1(
        self, name: str, body: Mapping[str, Any], *, cache_ttl: int | None = None, affinity: str | None = None
    ) -> JsonResult:
        """An OpenAI-compatible endpoint, `/ai/v1/{name}` (`completions`, `responses`, ...); bare OpenAI objects."""
        model = str(body.get("model", ""))  # in the body, never the path
        headers = self._gateway_headers(cache_ttl) | _affinity(affinity)
        result = await self._sender.call(
            "POST", self._v1_url(name), model=model, request=Request(inputs=body), headers=headers
        )
        if not isinstance(result, JsonResult):
            raise ResponseDecodeError(f"Workers AI answered /v1/{name} with binary data.")
        return result

    async def stream_v1(
        self,
        name: str,
        body: Mapping[str, Any],
        on_event: OnEvent,
        *,
        cache_ttl: int | None = None,
        affinity: str | None = None,
    ) -> StreamResult:
        """`/ai/v1/{name}` with `stream: true` (OpenAI chunks, or one JSON body); `on_event` sees each chunk."""
        model = str(body.get("model", ""))  # in the body, never the path
        headers = self._gateway_headers(cache_ttl) | _affinity(affinity)
        payload = {**body, "stream": True}
        return await self._sender.stream(self._v1_url(name), payload, model=model, headers=headers, on_event=on_event)

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
        params: dict[str, str] = {"page": str(page), "per_page": str(per_page)}
        params |= {key: value for key, value in (("search", search), ("task", task), ("author", author)) if value}
        if source is not None:
            params["source"] = str(source)
        for key, flag in (("hide_experimental", hide_experimental), ("include_deprecated", include_deprecated)):
            if flag is not None:
                params[key] = "true" if flag else "false"
        raw = await self._sender.call("GET", self._api_url("models/search"), model=None, params=params, raw=True)
        envelope = raw.object
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
        """`GET ai/models/schema`: `{input, output}` JSON Schemas (the id goes in the query, never the path)."""
        result = await self._sender.call("GET", self._api_url("models/schema"), model=model, params={"model": model})
        return result.object

    async def verify_token(self) -> dict[str, Any]:
        """Check the token: user tokens first, then account-owned tokens."""
        try:
            result = await self._sender.call("GET", f"{self.settings.base_url}/user/tokens/verify", model=None)
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            url = f"{self.settings.base_url}/accounts/{self._account()}/tokens/verify"
            result = await self._sender.call("GET", url, model=None)
        return result.object

    async def queue_batch(self, model: str, requests: list[dict[str, Any]]) -> JsonResult:
        """Queue an async batch (`?queueRequest=true`); the answer carries a `request_id`."""
        # Not idempotent: once the submission may have reached Cloudflare, another one could queue (and bill)
        # the batch twice, so only a connection that never opened is tried again.
        queue = Request(inputs={"requests": requests}, query=_QUEUE)
        result = await self.run(model, queue, skip_cache=True, idempotent=False)
        if not isinstance(result, JsonResult):
            raise ResponseDecodeError("Workers AI answered a batch submission with binary data.")
        return result

    async def poll_batch(self, model: str, request_id: str) -> JsonResult:
        """Poll an async batch by its `request_id`, as Cloudflare's REST docs do (`?queueRequest=true`).

        Never from a gateway cache: the answer changes.
        """
        result = await self.run(model, Request(inputs={"request_id": request_id}, query=_QUEUE), skip_cache=True)
        if not isinstance(result, JsonResult):
            raise ResponseDecodeError("Workers AI answered a batch poll with binary data.")
        return result

    async def account_call(
        self,
        method: str,
        path: str,
        *,
        request: Request | None = None,
        params: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> RunResult:
        """`{method} /accounts/{id}/{path}` with the token, retries and decoding of every call: the one way
        the endpoint modules (`documents`, `search`, `finetunes`) reach the account's other APIs."""
        url = f"{self.settings.base_url}/accounts/{self._account()}/{path}"
        return await self._sender.call(method, url, model=None, request=request, params=params, raw=raw)

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
        """The URL of `ai/run/{model}`: the one place an id becomes part of a path, so it is checked here."""
        check_model_id(model)
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


def _affinity(value: str | None) -> dict[str, str]:
    """`x-session-affinity`: a conversation's turns go to the same prefix cache (cloudflare-docs
    workers-ai/features/prompt-caching); cached prompt tokens are billed at their own rate."""
    return {"x-session-affinity": value} if value else {}


__all__ = ["APIStatusError", "StreamResult", "WorkersAIClient", "create_http_client"]
