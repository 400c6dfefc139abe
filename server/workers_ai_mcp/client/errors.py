"""The one exception family of the Workers AI client.

    WorkersAIError                      anything the client reports
    ├── ConfigurationError              credentials missing; nothing was sent
    ├── InvalidRequestError             we refused the request before sending (bad model id, size)
    ├── APIConnectionError              no HTTP answer: refused, reset, DNS
    │   └── APITimeoutError             the per-call deadline or a socket timeout passed
    ├── ResponseDecodeError             an answer we could not read (malformed JSON, cut stream)
    └── APIStatusError                  Cloudflare answered with an error status
        ├── AuthenticationError         401, or code 10000
        ├── PermissionDeniedError       403 (licence not accepted, model not allowed)
        ├── NotFoundError               404, or code 5007 (no such model)
        ├── BadRequestError             other 4xx (5006 bad input, 413 too large)
        ├── RateLimitError              429 (3040 capacity, 3036 daily allocation)
        └── ServerError                 5xx

Every message is one or two sentences an assistant can act on. Messages never carry the
request URL (it holds the account id), headers, or the API token: `redact` scrubs any text
that came back from Cloudflare before it is put in an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..jsonvalues import as_dict, dicts

Redact = Callable[[str], str]

_MAX_UPSTREAM_TEXT = 400


class WorkersAIError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(WorkersAIError):
    """The server is not configured to call Cloudflare."""


class InvalidRequestError(WorkersAIError):
    """The request was refused locally; nothing was sent."""


class APIConnectionError(WorkersAIError):
    """Workers AI could not be reached."""


class APITimeoutError(APIConnectionError):
    """The call did not finish within its deadline."""


class ResponseDecodeError(WorkersAIError):
    """Workers AI answered, but the answer could not be read."""


class APIStatusError(WorkersAIError):
    """Cloudflare answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        upstream_message: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.upstream_message = upstream_message
        self.request_id = request_id
        self.retry_after = retry_after


class AuthenticationError(APIStatusError):
    """The token was refused."""


class PermissionDeniedError(APIStatusError):
    """The token or account may not use this model or route."""


class NotFoundError(APIStatusError):
    """Unknown model, route or account."""


class BadRequestError(APIStatusError):
    """Cloudflare rejected the request's content."""


class RateLimitError(APIStatusError):
    """Too many requests, out of capacity, or the daily allocation is used up."""


class ServerError(APIStatusError):
    """Cloudflare or the model failed."""


def parse_error_body(body: bytes) -> tuple[int | None, str]:
    """Cloudflare's first `errors[]` code and message, or the text of a non-JSON body (not shortened)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace"))
        return None, " ".join(text.split())
    envelope = as_dict(data)
    errors = dicts(envelope.get("errors"))
    if errors:
        code = errors[0].get("code")
        message = str(errors[0].get("message", ""))
        return (code if isinstance(code, int) else None), message
    error = envelope.get("error")
    if isinstance(error, str):  # OpenAI-style bodies
        return None, error
    return None, str(as_dict(error).get("message", ""))


def status_error(
    status: int,
    body: bytes,
    *,
    model: str | None,
    request_id: str | None,
    retry_after: float | None,
    redact: Redact,
) -> APIStatusError:
    """Map an error answer to the matching exception with an actionable message."""
    code, upstream = parse_error_body(body)
    upstream = redact(upstream)[:_MAX_UPSTREAM_TEXT]  # redact first: a cut could split a secret
    cls, advice = _classify(status, code, upstream, model)
    parts = [advice]
    if upstream and upstream not in advice:
        parts.append(f"Cloudflare said: {upstream}")
    label = f"HTTP {status}" + (f", code {code}" if code is not None else "")
    message = f"{' '.join(parts)} ({label}"
    message += f", request id {request_id})" if request_id else ")"
    return cls(
        message,
        status=status,
        code=code,
        upstream_message=upstream,
        request_id=request_id,
        retry_after=retry_after,
    )


def _classify(status: int, code: int | None, upstream: str, model: str | None) -> tuple[type[APIStatusError], str]:
    subject = f"the model {model}" if model else "this model"
    if code == 10000 or status == 401:
        return AuthenticationError, (
            "Cloudflare refused the API token. Check that CLOUDFLARE_API_TOKEN is current and has the "
            "'Workers AI' Read permission, and that CLOUDFLARE_ACCOUNT_ID is the account the token belongs to."
        )
    if code == 5007:
        return NotFoundError, f"Workers AI has no model named {model or '(unknown)'}; call list_models to find one."
    if code == 5006:
        return BadRequestError, (
            f"Workers AI rejected the input for {subject}; call get_model_schema to see what it accepts."
        )
    if code == 5016:
        return PermissionDeniedError, (
            f"The licence of {subject} must be accepted once before use: run it with the input "
            '{"prompt": "agree"} and try again.'
        )
    if code in (5018, 3041):
        return PermissionDeniedError, f"This Cloudflare account is not allowed to use {subject}."
    if code == 3036:
        return RateLimitError, (
            "The account's daily free Workers AI allocation is used up; it resets at 00:00 UTC, "
            "or upgrade to the Workers Paid plan."
        )
    if code == 3040:
        return RateLimitError, "Workers AI is out of capacity for this model right now; try again shortly."
    if code == 7003 or (status == 404 and code is None and "route" in upstream.lower()):
        return NotFoundError, "Cloudflare could not route the request; check CLOUDFLARE_ACCOUNT_ID."
    if status == 429:
        return RateLimitError, "Workers AI rate limit reached; wait a little before the next call."
    if status == 413 or code == 3006:
        return BadRequestError, "The request is too large for Workers AI; send a smaller input."
    if status == 403:
        return PermissionDeniedError, (
            "Cloudflare denied access; the token needs the 'Workers AI' Read permission for this account."
        )
    if status == 404:
        return NotFoundError, f"Cloudflare found no such route or model ({model or 'no model'})."
    if status >= 500:
        return ServerError, f"Workers AI failed to answer (a server-side error at Cloudflare) for {subject}."
    return BadRequestError, f"Workers AI rejected the request for {subject}."
