"""Typed results of client calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from ..jsonvalues import as_dict, dicts
from .answers import Answer, read_answer
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

    def answer(self) -> Answer:
        return Answer(self.text, self.reasoning, self.tool_calls, self.usage, self.finish_reason)


@dataclass(frozen=True)
class JsonResult:
    """A JSON answer: the unwrapped `result` of Cloudflare's envelope, or a bare OpenAI object.

    `streamed` is an event stream the call did not ask for, gathered; `data` then holds it in the
    native form (`{"response", "usage", "tool_calls"}`) for callers that show the JSON.
    """

    data: Any
    meta: ResponseMeta = field(default_factory=ResponseMeta)
    streamed: Answer | None = None

    @property
    def object(self) -> dict[str, Any]:
        """The answer as a JSON object, or `{}` when it is not one."""
        return as_dict(self.data)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The answer's objects when it is a JSON array, else `[]`."""
        return dicts(self.data)

    def answer(self) -> Answer | None:
        """The model's answer in any answer form (see `answers.py`), or None when the JSON is in none."""
        if self.streamed is not None:
            return self.streamed
        return read_answer(self.object) if isinstance(self.data, dict) else None


@dataclass(frozen=True)
class BinaryResult:
    """A binary answer (`image/png`, `audio/mpeg`, ...) with its media type.

    It reads as no JSON (`object` is `{}`, `rows` `[]`, no `answer`), so a tool that needs JSON says
    in its own words what the answer lacked.
    """

    data: bytes
    media_type: str
    meta: ResponseMeta = field(default_factory=ResponseMeta)

    @property
    def object(self) -> dict[str, Any]:
        return {}

    @property
    def rows(self) -> list[dict[str, Any]]:
        return []

    def answer(self) -> Answer | None:
        return None


RunResult = JsonResult | BinaryResult


@dataclass(frozen=True)
class ModelPage:
    """One page of `models/search`."""

    models: list[dict[str, Any]]
    page: int
    per_page: int
    count: int
    total_count: int | None
