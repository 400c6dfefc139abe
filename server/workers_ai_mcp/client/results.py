"""Typed results of client calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from .errors import header_text


@dataclass(frozen=True)
class ResponseMeta:
    """What the response headers said about the call."""

    status: int = 200
    request_id: str | None = None
    gateway_cache_status: str | None = None
    gateway_log_id: str | None = None
    attempts: int = 1

    @classmethod
    def from_response(
        cls, response: httpx2.Response, attempts: int, *, redact: Callable[[str], str] = str
    ) -> ResponseMeta:
        """The headers worth keeping, redacted and shortened: they may be quoted to the assistant."""
        headers = response.headers
        return cls(
            status=response.status_code,
            request_id=header_text(headers.get("cf-ai-req-id") or headers.get("cf-ray"), redact),
            gateway_cache_status=header_text(headers.get("cf-aig-cache-status"), redact),
            gateway_log_id=header_text(headers.get("cf-aig-log-id"), redact),
            attempts=attempts,
        )


@dataclass
class StreamResult:
    """Everything a stream carried, gathered (its text already redacted)."""

    text: str = ""
    reasoning: str = ""
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    tool_calls: list[Any] = field(default_factory=list[Any])
    meta: ResponseMeta = field(default_factory=ResponseMeta)
    delivered: bool = False


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
