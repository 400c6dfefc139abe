"""Sending to Workers AI: one pooled HTTP client, retries, the per-call deadline, decoding answers.

The endpoints and URLs live in `client.py`; this module only knows how to get an answer back, or
an error that says why not.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import httpx2

from .. import __version__
from ..redact import Redactor
from ..settings import Settings
from .errors import APIConnectionError, APIStatusError, APITimeoutError, ResponseDecodeError, status_error
from .results import BinaryResult, JsonResult, ResponseMeta
from .retry import parse_retry_after, retry_delay, should_retry
from .streaming import StreamEvent, decode_chunk, decode_events

logger = logging.getLogger(__name__)

OnEvent = Callable[[StreamEvent], Awaitable[None]]

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

    async def stream(
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
