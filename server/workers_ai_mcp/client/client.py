"""`WorkersAIClient`: every call the server makes to Workers AI, over one shared HTTP client.

It knows HTTP and Cloudflare (URLs, the envelope, AI Gateway, retries, deadlines, error codes)
and nothing of MCP.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import httpx2

from .. import __version__
from ..jsonvalues import as_dict, dicts
from ..redact import Redactor
from ..settings import Settings
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ResponseDecodeError,
    status_error,
)
from .model_ids import check_model_id
from .results import BinaryResult, JsonResult, ModelPage, ResponseMeta, RunResult
from .retry import parse_retry_after, retry_delay, should_retry
from .streaming import StreamEvent, decode_chunk, decode_events

if TYPE_CHECKING:
    from ..deprecations import CatalogWatch
    from ..metering import Spending

logger = logging.getLogger(__name__)

OnEvent = Callable[[StreamEvent], Awaitable[None]]
_Result = TypeVar("_Result", bound="JsonResult | BinaryResult | StreamResult")

_RETRYABLE_TRANSPORT = (
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.ReadError,
    httpx2.WriteError,
    httpx2.RemoteProtocolError,
    ConnectionError,
)


@dataclass
class StreamResult:
    """Everything a stream carried, gathered."""

    text: str = ""
    reasoning: str = ""
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    tool_calls: list[Any] = field(default_factory=list[Any])
    meta: ResponseMeta = field(default_factory=ResponseMeta)
    delivered: bool = False


def create_http_client(
    settings: Settings,
    transport: httpx2.AsyncBaseTransport | None = None,
    *,
    mounts: Mapping[str, httpx2.AsyncBaseTransport] | None = None,
) -> httpx2.AsyncClient:
    """The one pooled HTTP client of the process, with explicit timeouts.

    `transport` replaces the network for every request (tests); `mounts` replaces it for some
    URL prefixes only (the in-process emulator, while media URLs still go to the network).
    """
    return httpx2.AsyncClient(
        transport=transport,
        mounts=dict(mounts) if mounts else None,
        timeout=httpx2.Timeout(settings.timeout, connect=settings.connect_timeout),
        limits=httpx2.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30),
        headers={"user-agent": f"workers-ai-mcp/{__version__}"},
        follow_redirects=False,
    )


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
        self._http = http if isinstance(http, httpx2.AsyncClient) else None
        self._http_factory = None if isinstance(http, httpx2.AsyncClient) else http
        self.redact = redactor or Redactor()
        self.redact.add(settings.api_token.get_secret_value() if settings.api_token else None)
        self.redact.add(settings.gateway_token.get_secret_value() if settings.gateway_token else None)
        self._sleep = sleep
        self._jitter = jitter
        self._schemas: dict[str, tuple[float, dict[str, Any]]] = {}
        self._infos: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._catalog_locks: dict[str, anyio.Lock] = {}

    @property
    def http(self) -> httpx2.AsyncClient:
        """The one pooled HTTP client; made on first use when built from a factory (it costs a TLS setup)."""
        if self._http is None:
            assert self._http_factory is not None
            self._http = self._http_factory()
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._http_factory is not None and self._http is not None:
            await self._http.aclose()
            self._http = None

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
            return await self._stream(self._run_url(model), body, model=model, headers=headers, on_event=on_event)

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
            return await self._stream(url, payload, model=model, headers=headers, on_event=on_event)

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
        raw = await self._call(
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
        result = await self._call("GET", self._api_url("models/schema"), model=model, params={"model": model})
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
            result = await self._call("GET", f"{self.settings.base_url}/user/tokens/verify", model=None)
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            url = f"{self.settings.base_url}/accounts/{self._account()}/tokens/verify"
            result = await self._call("GET", url, model=None)
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

    def _auth_headers(self) -> dict[str, str]:
        token = self.settings.api_token.get_secret_value() if self.settings.api_token else ""
        return {"authorization": f"Bearer {token}"}

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
        return await self._call("POST", url, model=model, headers=headers, params=query, envelope=True, **payload)

    async def _v1(self, name: str, body: Mapping[str, Any], *, cache_ttl: int | None = None) -> JsonResult:
        model = check_model_id(str(body.get("model", "")))
        headers = self._gateway_headers(cache_ttl)

        async def send() -> JsonResult:
            result = await self._call("POST", self._v1_url(name), model=model, json=dict(body), headers=headers)
            if not isinstance(result, JsonResult):
                raise ResponseDecodeError(f"Workers AI answered /v1/{name} with binary data.")
            return result

        return await self._metered(model, body, send)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        model: str | None,
        envelope: bool = True,
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Send with retries inside the per-call deadline; decode the answer by content type."""
        try:
            with anyio.fail_after(self.settings.timeout):
                response, attempts = await self._send(method, url, model=model, read=True, **kwargs)
                content = response.content
        except TimeoutError:
            raise self._timeout() from None
        meta = ResponseMeta.from_response(response, attempts)
        media_type = response.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if media_type == "text/event-stream":
            return JsonResult(await _gather_sse(content), meta)
        if media_type.endswith("json") or media_type.startswith("text/"):
            try:
                data: Any = json.loads(content)
            except ValueError:
                raise ResponseDecodeError("Workers AI sent an answer that is not valid JSON; try again.") from None
            if raw:
                return JsonResult(data, meta)
            if envelope and isinstance(data, dict) and "success" in data:
                envelope_data = cast(dict[str, Any], data)
                if envelope_data.get("success") is False:
                    raise status_error(
                        response.status_code if response.status_code >= 400 else 400,
                        content,
                        model=model,
                        request_id=meta.request_id,
                        retry_after=None,
                        redact=self.redact,
                    )
                return JsonResult(envelope_data.get("result"), meta)
            return JsonResult(data, meta)
        return BinaryResult(content, media_type, meta)

    async def _stream(
        self, url: str, body: Mapping[str, Any], *, model: str, headers: dict[str, str], on_event: OnEvent
    ) -> StreamResult:
        try:
            with anyio.fail_after(self.settings.timeout):
                restarts = 0
                while True:
                    result = StreamResult()
                    response, attempts = await self._send("POST", url, model=model, json=dict(body), headers=headers)
                    try:
                        result.meta = ResponseMeta.from_response(response, attempts + restarts)
                        await self._read_stream(response, result, on_event)
                        return result
                    except _RETRYABLE_TRANSPORT as exc:
                        # Nothing reached the caller yet: starting again loses nothing.
                        if result.delivered or restarts >= self.settings.max_retries:
                            raise APIConnectionError(
                                f"The Workers AI stream broke ({type(exc).__name__}); try again."
                            ) from None
                        logger.info("Workers AI stream broke before its first event (%s); retrying", type(exc).__name__)
                        await self._backoff(restarts, None)
                        restarts += 1
                    finally:
                        await response.aclose()
        except TimeoutError:
            raise self._timeout() from None

    async def _read_stream(self, response: httpx2.Response, result: StreamResult, on_event: OnEvent) -> None:
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "text/event-stream":
            # Some models ignore `stream` and answer with JSON.
            await _absorb(result, _event_from_json(await response.aread()), on_event)
            return
        async for event in decode_events(response.aiter_lines()):
            await _absorb(result, event, on_event)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        model: str | None,
        headers: dict[str, str] | None = None,
        read: bool = False,
        **kwargs: Any,
    ) -> tuple[httpx2.Response, int]:
        """Send until a success or a final failure.

        With `read`, the body is read here too, so that a connection lost mid-answer is retried like
        one lost before it; otherwise the caller reads (a stream) and closes the open response.
        """
        all_headers = {**self._auth_headers(), **(headers or {})}
        attempt = 0
        while True:
            request = self.http.build_request(method, url, headers=all_headers, **kwargs)
            try:
                response = await self.http.send(request, stream=True)
            except httpx2.TimeoutException as exc:
                if isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout) and attempt < self.settings.max_retries:
                    await self._backoff(attempt, None)
                    attempt += 1
                    continue
                raise self._timeout() from None
            except _RETRYABLE_TRANSPORT as exc:
                if attempt < self.settings.max_retries:
                    logger.info("Workers AI connection failed (%s); retrying", type(exc).__name__)
                    await self._backoff(attempt, None)
                    attempt += 1
                    continue
                raise APIConnectionError(
                    f"Could not reach Workers AI ({type(exc).__name__}) after {attempt + 1} attempts; "
                    "check the network and WORKERS_AI_BASE_URL, then try again."
                ) from None
            if response.status_code < 400:
                if not read:
                    return response, attempt + 1
                try:
                    await response.aread()
                    return response, attempt + 1
                except _RETRYABLE_TRANSPORT as exc:
                    if attempt >= self.settings.max_retries:
                        raise APIConnectionError(
                            f"The connection to Workers AI broke mid-answer ({type(exc).__name__}) "
                            f"after {attempt + 1} attempts; try again."
                        ) from None
                    logger.info("Workers AI connection broke mid-answer (%s); retrying", type(exc).__name__)
                    await self._backoff(attempt, None)
                    attempt += 1
                    continue
                finally:
                    await response.aclose()
            content = await response.aread()
            await response.aclose()
            retry_after = parse_retry_after(response.headers)
            error = status_error(
                response.status_code,
                content,
                model=model,
                request_id=response.headers.get("cf-ai-req-id"),
                retry_after=retry_after,
                redact=self.redact,
            )
            if should_retry(response.status_code) and _retry_may_help(error) and attempt < self.settings.max_retries:
                logger.info("Workers AI answered HTTP %s; retrying", response.status_code)
                await self._backoff(attempt, retry_after)
                attempt += 1
                continue
            if attempt:
                error.message += f" Gave up after {attempt + 1} attempts."
            raise error

    async def _backoff(self, attempt: int, retry_after: float | None) -> None:
        await self._sleep(retry_delay(attempt, retry_after, self._jitter()))

    def _timeout(self) -> APITimeoutError:
        return APITimeoutError(
            f"Workers AI did not finish within {self.settings.timeout:g} s; try a smaller request "
            "(fewer max_tokens, a shorter input) or try again."
        )


def _retry_may_help(error: APIStatusError) -> bool:
    # The daily allocation (3036) will not come back within a retry's wait.
    return error.code != 3036


async def _absorb(result: StreamResult, event: StreamEvent, on_event: OnEvent) -> None:
    result.delivered = True
    result.text += event.text
    result.reasoning += event.reasoning
    result.usage = event.usage or result.usage
    result.finish_reason = event.finish_reason or result.finish_reason
    result.tool_calls.extend(event.tool_calls)
    await on_event(event)


def _event_from_json(content: bytes) -> StreamEvent:
    try:
        data: Any = json.loads(content)
    except ValueError:
        raise ResponseDecodeError("Workers AI sent an answer that is not valid JSON; try again.") from None
    if isinstance(data, dict) and "result" in data and "success" in data:
        data = cast(dict[str, Any], data)["result"]
    if not isinstance(data, dict):
        raise ResponseDecodeError("Workers AI sent an unexpected answer to a streamed request.")
    return decode_chunk(cast(dict[str, Any], data))


async def _gather_sse(content: bytes) -> dict[str, Any]:
    async def lines():
        for line in content.decode("utf-8", "replace").splitlines():
            yield line

    result = StreamResult()

    async def ignore(_: StreamEvent) -> None:
        return None

    async for event in decode_events(lines()):
        await _absorb(result, event, ignore)
    gathered: dict[str, Any] = {"response": result.text}
    if result.usage:
        gathered["usage"] = result.usage
    if result.tool_calls:
        gathered["tool_calls"] = result.tool_calls
    return gathered


__all__ = ["APIStatusError", "StreamResult", "WorkersAIClient", "create_http_client"]
