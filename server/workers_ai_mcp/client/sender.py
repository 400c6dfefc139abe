"""Sending to Workers AI: one pooled HTTP client, retries, the per-call deadline, decoding answers.

The endpoints and URLs live in `client.py`; this module only knows how to get an answer back, or
an error that says why not. One call makes at most `max_retries + 1` requests, whatever fails
(connections, error statuses, streams that break and start again). Every read is capped
(`reading.py`), and every string of an answer is redacted before it leaves (`redact.py`).
Over 300 lines because a call's one retry budget is spent here, across sending, reading and
restarting streams; split, the budget would have to travel between modules.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import anyio
import httpx2

from .. import __version__
from ..redact import Redactor
from ..settings import DEFAULT_BASE_URL, DEFAULT_GATEWAY_URL, Settings
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DailyAllocationError,
    RedirectError,
    ResponseDecodeError,
    empty_answer_error,
    redirect_error,
    status_error,
)
from .reading import answer_cap, capped_chunks, media_type, read_capped, read_prefix, stream_cap
from .request import Request
from .results import BinaryResult, JsonResult, ResponseMeta, RunResult, StreamResult
from .retry import parse_retry_after, retry_delay, should_retry
from .streaming import (
    LINE_SETTING,
    Gatherer,
    OnEvent,
    decode_events,
    event_from_json,
    gather_sse,
    is_empty_result,
    native_body,
    sse_lines,
)

logger = logging.getLogger(__name__)

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
class _Budget:
    """The requests one call may still make: `max_retries + 1` in all, stream restarts included."""

    limit: int
    used: int = 0
    # False for a request that must not be sent twice (a batch submission): retried only when nothing
    # can have reached Cloudflare (the connection never opened), or when it said so itself (429).
    idempotent: bool = True

    @property
    def left(self) -> bool:
        return self.used < self.limit


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
        # Only what `reading.py` inflates in bounded pieces.
        headers={"user-agent": f"workers-ai-mcp/{__version__}", "accept-encoding": "gzip, deflate"},
        follow_redirects=False,
    )


class Sender:
    """Sends requests with the API token, retries what is worth retrying, decodes what comes back."""

    def __init__(
        self,
        settings: Settings,
        http: httpx2.AsyncClient | Callable[[], httpx2.AsyncClient],
        *,
        redact: Redactor,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.redact = redact
        self._http = http if isinstance(http, httpx2.AsyncClient) else None
        self._http_factory = None if isinstance(http, httpx2.AsyncClient) else http
        self._sleep = sleep
        self._jitter = jitter

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

    def _auth_headers(self) -> dict[str, str]:
        token = self.settings.api_token.get_secret_value() if self.settings.api_token else ""
        return {"authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        url: str,
        *,
        model: str | None,
        request: Request | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
        idempotent: bool = True,
    ) -> RunResult:
        """Send `request` (none for a GET) with retries inside the per-call deadline; decode the answer by
        content type. Cloudflare's envelope is unwrapped to its `result` (`raw` keeps it whole) and an
        envelope that says `success: false` is an error."""
        content: dict[str, Any] = {}
        if request is not None:
            content, content_headers = request.content()
            headers = {**headers, **content_headers} if headers and content_headers else headers or content_headers
            params = request.query or params or None
        try:
            with anyio.fail_after(self.settings.timeout):
                budget = _Budget(self.settings.max_retries + 1, idempotent=idempotent)
                response, body, budget = await self._send(
                    method, url, model=model, headers=headers, params=params, read=True, budget=budget, **content
                )
                if not body or body.isspace():
                    raise empty_answer_error(response.status_code, model)
                kind = media_type(response, "application/json")
                gathered = (
                    await gather_sse(body, self.redact, max_line=self.settings.max_stream_line_bytes)
                    if kind == "text/event-stream"
                    else None
                )
        except (TimeoutError, httpx2.TimeoutException):
            raise self._timeout() from None
        meta = ResponseMeta.from_response(response, budget.used, redact=self.redact)
        if gathered is not None:
            return JsonResult(native_body(gathered), meta, streamed=gathered)
        if not (kind.endswith("json") or kind.startswith("text/")):
            return BinaryResult(body, kind, meta)  # media bytes are not text: nothing to redact
        return JsonResult(self._decoded(response, body, url, model, meta, raw=raw), meta)

    def _decoded(
        self, response: httpx2.Response, body: bytes, url: str, model: str | None, meta: ResponseMeta, *, raw: bool
    ) -> Any:
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise ResponseDecodeError("Workers AI sent an answer that is not valid JSON; try again.") from None
        if raw or not isinstance(data, dict):
            return self.redact.json(data)
        if cast(dict[str, Any], data).get("success") is False:
            raise status_error(
                response.status_code if response.status_code >= 400 else 400,
                body,
                model=model,
                request_id=meta.request_id,
                retry_after=None,
                redact=self.redact,
                url_setting=self._custom_url(url),
            )
        data = cast(dict[str, Any], self.redact.json(data))
        return data.get("result") if "success" in data else data

    async def stream(
        self, url: str, body: Mapping[str, Any], *, model: str, headers: dict[str, str], on_event: OnEvent
    ) -> StreamResult:
        """POST for an event stream; `on_event` sees each (redacted) event as it arrives.

        A stream that breaks before anything reached `on_event` starts again, within the call's one budget.
        """
        budget = _Budget(self.settings.max_retries + 1)
        try:
            with anyio.fail_after(self.settings.timeout):
                while True:
                    response, _, _ = await self._send(
                        "POST", url, model=model, json=dict(body), headers=headers, budget=budget
                    )
                    gatherer = Gatherer(self.redact, on_event)
                    try:
                        result = await self._read_stream(response, gatherer, model)
                        if result is None:  # an empty JSON answer to a stream request: ask again unstreamed
                            return await self._unstreamed(
                                url, body, model=model, headers=headers, budget=budget, gatherer=gatherer
                            )
                        result.meta = ResponseMeta.from_response(response, budget.used, redact=self.redact)
                        return result
                    except _RETRYABLE_TRANSPORT as exc:
                        # Nothing reached the caller yet: starting again loses nothing.
                        if gatherer.result.delivered or not budget.left:
                            raise APIConnectionError(
                                f"The Workers AI stream broke ({type(exc).__name__}) after {budget.used} "
                                f"attempt{'s' if budget.used > 1 else ''}; try again."
                            ) from None
                        logger.info("Workers AI stream broke before its first event (%s); retrying", type(exc).__name__)
                        await self._backoff(budget.used - 1, None)
                    finally:
                        await response.aclose()
        except (TimeoutError, httpx2.TimeoutException):
            raise self._timeout() from None

    async def _read_stream(self, response: httpx2.Response, gatherer: Gatherer, model: str) -> StreamResult | None:
        """The stream gathered; None when the model answered the stream request with an empty JSON result."""
        kind = media_type(response)
        if kind != "text/event-stream":
            # Some models ignore `stream` and answer with JSON; gpt-oss and Kimi answer it with an empty result.
            content = await read_capped(response, answer_cap(self.settings, "application/json"))
            if not content or content.isspace():
                raise empty_answer_error(response.status_code, model)
            if is_empty_result(content):
                return None
            await gatherer.add(event_from_json(content))
            return await gatherer.finish()
        async for event in decode_events(self._lines(capped_chunks(response, stream_cap(self.settings)))):
            await gatherer.add(event)
        return await gatherer.finish()

    async def _unstreamed(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        model: str,
        headers: dict[str, str],
        budget: _Budget,
        gatherer: Gatherer,
    ) -> StreamResult:
        """The same request once more with `stream: false`, its answer delivered as the stream's one event.

        Cloudflare's own client does this for the models whose /ai/run stream answers an empty JSON
        result (gpt-oss, Kimi); it is decided from that answer, not from a list of models.
        """
        logger.info("Workers AI answered a stream request with an empty result; asking again without streaming")
        unstreamed = {**body, "stream": False}
        response, content, _ = await self._send(
            "POST", url, model=model, json=unstreamed, headers=headers, read=True, budget=budget
        )
        if not content or content.isspace():
            raise empty_answer_error(response.status_code, model)  # (an empty result again is the tool's to word)
        await gatherer.add(event_from_json(content))
        result = await gatherer.finish()
        result.meta = ResponseMeta.from_response(response, budget.used, redact=self.redact)
        return result

    def _lines(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
        return sse_lines(chunks, max_line=self.settings.max_stream_line_bytes, setting=LINE_SETTING)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        model: str | None,
        headers: Mapping[str, str] | None = None,
        read: bool = False,
        budget: _Budget | None = None,
        **kwargs: Any,
    ) -> tuple[httpx2.Response, bytes, _Budget]:
        """Send until a success or a final failure, spending from `budget` (a fresh one per call by default).

        With `read`, the body is read here too (within its cap), so that a connection lost mid-answer
        is retried like one lost before it; otherwise the caller reads (a stream) and closes the response.
        """
        budget = budget or _Budget(self.settings.max_retries + 1)
        all_headers = {**self._auth_headers(), **(headers or {})}
        while True:
            budget.used += 1
            request = self.http.build_request(method, url, headers=all_headers, **kwargs)
            try:
                response = await self._open(request, budget)
                if response.status_code >= 400:
                    raise await self._status_error(response, url, model, budget)
                if 300 <= response.status_code < 400:
                    await response.aclose()
                    raise self._redirect(response, url)
                if not read:
                    return response, b"", budget
                return response, await self._read_answer(response, budget), budget
            except _Retry as retry:
                await self._backoff(budget.used - 1, retry.after)

    async def _open(self, request: httpx2.Request, budget: _Budget) -> httpx2.Response:
        """The response's head, or `_Retry` for a connection failure the budget can try again."""
        try:
            return await self.http.send(request, stream=True)
        except httpx2.TimeoutException as exc:
            if isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout) and budget.left:
                raise _Retry() from None
            raise self._timeout() from None
        except httpx2.LocalProtocolError:
            # Its text quotes the offending header, which may be the token: never pass it on.
            raise APIConnectionError(
                "A request header is not valid HTTP (a control character in a token?); its value is not shown. "
                "Check CLOUDFLARE_API_TOKEN and CLOUDFLARE_AI_GATEWAY_TOKEN."
            ) from None
        except _RETRYABLE_TRANSPORT as exc:
            if not budget.idempotent and not isinstance(exc, httpx2.ConnectError):
                raise _not_repeated(type(exc).__name__) from None
            if budget.left:
                logger.info("Workers AI connection failed (%s); retrying", type(exc).__name__)
                raise _Retry() from None
            raise APIConnectionError(
                f"Could not reach Workers AI ({type(exc).__name__}) after {budget.used} attempts; "
                "check the network and WORKERS_AI_BASE_URL, then try again."
            ) from None

    async def _read_answer(self, response: httpx2.Response, budget: _Budget) -> bytes:
        """A successful answer's body within its cap; a connection lost mid-answer is retried like one lost before."""
        try:
            return await read_capped(response, answer_cap(self.settings, media_type(response)))
        except _RETRYABLE_TRANSPORT as exc:
            if not budget.idempotent:
                raise _not_repeated(type(exc).__name__) from None
            if not budget.left:
                raise APIConnectionError(
                    f"The connection to Workers AI broke mid-answer ({type(exc).__name__}) "
                    f"after {budget.used} attempts; try again."
                ) from None
            logger.info("Workers AI connection broke mid-answer (%s); retrying", type(exc).__name__)
            raise _Retry() from None
        finally:
            await response.aclose()

    def _redirect(self, response: httpx2.Response, url: str) -> RedirectError:
        return redirect_error(
            response.status_code,
            response.headers.get("location"),
            url_setting=self._url_setting_name(url),
            request_id=response.headers.get("cf-ai-req-id"),
            redact=self.redact,
        )

    async def _status_error(
        self, response: httpx2.Response, url: str, model: str | None, budget: _Budget
    ) -> APIStatusError:
        """The error an HTTP 4xx/5xx answer means, or `_Retry` when trying again may help and the budget allows."""
        try:
            content = await read_prefix(response, self.settings.max_error_body_bytes)
        except _RETRYABLE_TRANSPORT:
            content = b""  # the status alone still says what happened
        finally:
            await response.aclose()
        status = response.status_code
        retry_after = parse_retry_after(response.headers)
        error = status_error(
            status,
            content,
            model=model,
            request_id=response.headers.get("cf-ai-req-id"),
            retry_after=retry_after,
            redact=self.redact,
            url_setting=self._custom_url(url),
        )
        repeatable = budget.idempotent or status == 429  # a 429 says Cloudflare took nothing on
        if should_retry(status) and repeatable and _retry_may_help(error) and budget.left:
            logger.info("Workers AI answered HTTP %s; retrying", status)
            raise _Retry(retry_after)
        if budget.used > 1:
            error.message += f" Gave up after {budget.used} attempts."
        return error

    def _url_setting_name(self, url: str) -> str:
        gateway = self.settings.gateway_id and url.startswith(self.settings.gateway_url)
        return "CLOUDFLARE_AI_GATEWAY_URL" if gateway else "WORKERS_AI_BASE_URL"

    def _custom_url(self, url: str) -> tuple[str, str] | None:
        """The URL setting `url` was built from, with its value, if it is not the default."""
        name = self._url_setting_name(url)
        if name == "CLOUDFLARE_AI_GATEWAY_URL":
            value, default = self.settings.gateway_url, DEFAULT_GATEWAY_URL
        else:
            value, default = self.settings.base_url, DEFAULT_BASE_URL
        return (name, value) if value != default and url.startswith(value) else None

    async def _backoff(self, attempt: int, retry_after: float | None) -> None:
        await self._sleep(retry_delay(attempt, retry_after, self._jitter()))

    def _timeout(self) -> APITimeoutError:
        return APITimeoutError(
            f"Workers AI did not finish within {self.settings.timeout:g} s; try a smaller request "
            "(fewer max_tokens, a shorter input) or try again."
        )


class _Retry(Exception):
    """The attempt failed in a way the next attempt may not: back off (`after` seconds if the answer said)."""

    def __init__(self, after: float | None = None) -> None:
        super().__init__()
        self.after = after


def _not_repeated(cause: str) -> APIConnectionError:
    return APIConnectionError(
        f"The connection to Workers AI broke ({cause}) after the request may have reached Cloudflare; it is "
        "not sent again, since a second one could be queued and billed twice. Check the batch jobs already "
        "queued (and the Cloudflare dashboard) before submitting it again."
    )


def _retry_may_help(error: APIStatusError) -> bool:
    # The daily allocation (4006, documented as 3036) will not come back within a retry's wait.
    return not isinstance(error, DailyAllocationError)


__all__ = ["OnEvent", "Sender", "StreamResult", "create_http_client"]
