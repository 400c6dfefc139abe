"""Typed results of client calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx2


@dataclass(frozen=True)
class ResponseMeta:
    """What the response headers said about the call."""

    status: int = 200
    request_id: str | None = None
    gateway_cache_status: str | None = None
    gateway_log_id: str | None = None
    attempts: int = 1

    @classmethod
    def from_response(cls, response: httpx2.Response, attempts: int) -> ResponseMeta:
        headers = response.headers
        return cls(
            status=response.status_code,
            request_id=headers.get("cf-ai-req-id") or headers.get("cf-ray"),
            gateway_cache_status=headers.get("cf-aig-cache-status"),
            gateway_log_id=headers.get("cf-aig-log-id"),
            attempts=attempts,
        )


@dataclass(frozen=True)
class JsonResult:
    """A JSON answer: the unwrapped `result` of Cloudflare's envelope, or a bare OpenAI object."""

    data: Any
    meta: ResponseMeta = field(default_factory=ResponseMeta)


@dataclass(frozen=True)
class BinaryResult:
    """A binary answer (`image/png`, `audio/mpeg`, ...) with its media type."""

    data: bytes
    media_type: str
    meta: ResponseMeta = field(default_factory=ResponseMeta)


RunResult = JsonResult | BinaryResult


@dataclass(frozen=True)
class ModelPage:
    """One page of `models/search`."""

    models: list[dict[str, Any]]
    page: int
    per_page: int
    count: int
    total_count: int | None
