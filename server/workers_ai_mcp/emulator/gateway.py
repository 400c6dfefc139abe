"""AI Gateway URL shape (`/v1/{account}/{gateway}/workers-ai/...`): optional gateway auth and a response cache."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .context import emulator_state
from .envelope import CloudflareError
from .state import CachedAnswer

Endpoint = Callable[[Request], Awaitable[Response]]


def _header(request: Request, *names: str) -> str:
    return next((value for name in names if (value := request.headers.get(name)) is not None), "").strip()


def _ttl(request: Request) -> int:
    raw = _header(request, "cf-aig-cache-ttl", "cf-cache-ttl")
    try:
        return max(0, int(raw)) if raw else 0
    except ValueError:
        return 0


def _check_gateway_token(request: Request, expected: str | None) -> None:
    if expected is None:
        return
    scheme, _, token = _header(request, "cf-aig-authorization").partition(" ")
    if scheme.lower() != "bearer" or token.strip() != expected:
        raise CloudflareError(401, 2009, "Unauthorized: this gateway requires a valid cf-aig-authorization token")


def through_gateway(endpoint: Endpoint) -> Endpoint:
    """The endpoint behind the gateway: cf-aig-* headers on every answer, HIT/MISS caching when a TTL is set."""

    async def handler(request: Request) -> Response:
        state = emulator_state(request)
        headers = {"cf-aig-log-id": state.new_id()}
        skip = _header(request, "cf-aig-skip-cache", "cf-skip-cache").lower() == "true"
        ttl = 0 if skip else _ttl(request)
        key = (_header(request, "cf-aig-cache-key") or request.url.path, await request.body())
        try:
            _check_gateway_token(request, state.gateway_token)
            cached = state.gateway_cache.get(key) if ttl else None
            if cached is not None:
                content_type = {"content-type": cached.media_type} if cached.media_type else {}
                headers |= {"cf-aig-cache-status": "HIT", **content_type}
                return Response(cached.body, cached.status, headers)
            response = await endpoint(request)
        except CloudflareError as exc:
            response = exc.to_response()
        if ttl and response.status_code == 200 and not isinstance(response, StreamingResponse):
            entry = CachedAnswer(
                200, response.headers.get("content-type"), bytes(response.body), time.monotonic() + ttl
            )
            state.gateway_cache.put(key, entry)
        response.headers.update({**headers, "cf-aig-cache-status": "MISS"})
        return response

    return handler
