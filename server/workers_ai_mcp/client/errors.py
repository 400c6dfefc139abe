"""The one exception family of the Workers AI client.

    WorkersAIError                      anything the client reports
    ├── ConfigurationError              credentials missing; nothing was sent
    ├── InvalidRequestError             we refused the request before sending (bad model id, size)
    ├── APIConnectionError              no HTTP answer: refused, reset, DNS
    │   └── APITimeoutError             the per-call deadline or a socket timeout passed
    ├── ResponseDecodeError             an answer we could not read (malformed JSON, cut stream, empty)
    │   └── AnswerTooLargeError         an answer over one of the read caps; reading stopped there
    └── APIStatusError                  Cloudflare answered with an error status
        ├── RedirectError               3xx: redirects are never followed
        ├── AuthenticationError         401, or code 10000 (2009: the AI Gateway token)
        ├── PermissionDeniedError       403 (licence not accepted, model not allowed)
        ├── NotFoundError               404, or code 5007 (no such model)
        ├── BadRequestError             other 4xx (5006 bad input, 413 too large)
        ├── RateLimitError              429 (3040 capacity, or no code): worth a retry after a wait
        ├── DailyAllocationError        429 with 4006 (what the API sends) or 3036 (what the docs list):
        │                               the free daily neurons are spent; no retry helps before 00:00 UTC
        └── ServerError                 5xx

Every message is one or two sentences an assistant can act on, in facts: where the next step is
one of the server's tools, the error carries a `Hint` (the words it follows, and what kind of
step) and `tools/` words it (the client knows nothing of tools). Messages never carry the
request URL (it holds the account id), headers, or the API token: `redact` scrubs any text
that came back from Cloudflare (body, request id, redirect target) before it is put in an exception.
Error bodies are read in Cloudflare's envelope (`errors[]`), AI Gateway's (`error[]`), OpenAI's
(`error.message`) and RFC 7807's (`title`, `detail`) shapes, or as plain text. Over 300 lines
so that every message the client can raise is read in one module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from ..jsonvalues import as_dict, dicts

Redact = Callable[[str], str]

_MAX_UPSTREAM_TEXT = 400
_MAX_HEADER_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Hint:
    """Where a tool's next step belongs in a message: right after `after`; `step` says which one."""

    after: str
    step: Literal["find_model", "find_model_id", "see_schema"]


class WorkersAIError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

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


class AnswerTooLargeError(ResponseDecodeError):
    """An answer went over a read cap; reading stopped at the cap."""

    def __init__(self, message: str, *, limit: int, setting: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.setting = setting


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
        hint: Hint | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.upstream_message = upstream_message
        self.request_id = request_id
        self.retry_after = retry_after


class RedirectError(APIStatusError):
    """A 3xx answer; the client never follows redirects (they could carry the token elsewhere)."""


class AuthenticationError(APIStatusError):
    """The token was refused."""


class PermissionDeniedError(APIStatusError):
    """The token or account may not use this model or route."""


class NotFoundError(APIStatusError):
    """Unknown model, route or account."""


class BadRequestError(APIStatusError):
    """Cloudflare rejected the request's content."""


class RateLimitError(APIStatusError):
    """Too many requests, or out of capacity: a retry after a short wait may succeed."""


class DailyAllocationError(APIStatusError):
    """The account's daily free allocation is used up: nothing changes before 00:00 UTC (or an upgrade),
    so it is neither a rate limit nor worth a retry."""


class ServerError(APIStatusError):
    """Cloudflare or the model failed."""


def parse_error_body(body: bytes) -> tuple[int | None, str]:
    """The first error code and message of an error body in any known shape, or its text (not shortened)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace"))
        return None, " ".join(text.split())
    envelope = as_dict(data)
    for key in ("errors", "error"):  # Cloudflare's envelope; AI Gateway's singular list
        errors = dicts(envelope.get(key))
        if errors:
            return _code(errors[0].get("code")), _text(errors[0].get("message"))
    error = envelope.get("error")
    if isinstance(error, str):  # OpenAI-style bodies
        return None, error
    if isinstance(error, dict):
        found = cast(dict[str, Any], error)
        return _code(found.get("code")), _text(found.get("message"))
    title, detail = _text(envelope.get("title")), _text(envelope.get("detail"))  # RFC 7807 problem details
    if title or detail:
        return None, ": ".join(part for part in (title, detail) if part)
    if isinstance(data, str):
        return None, data
    return None, _text(envelope.get("message"))


def _code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def header_text(value: str | None, redact: Redact) -> str | None:
    """A response header value fit to quote: redacted, control characters dropped, shortened."""
    if not value:
        return None
    return _CONTROL.sub("", redact(value))[:_MAX_HEADER_TEXT] or None


def status_error(
    status: int,
    body: bytes,
    *,
    model: str | None,
    request_id: str | None,
    retry_after: float | None,
    redact: Redact,
    url_setting: tuple[str, str] | None = None,
) -> APIStatusError:
    """Map an error answer to the matching exception with an actionable message.

    `url_setting` names the URL setting the request was built from, with its value, when it is not
    the default: a 404 then says to check it.
    """
    code, upstream = parse_error_body(body)
    upstream = _CONTROL.sub(" ", redact(upstream))[:_MAX_UPSTREAM_TEXT]  # redact first: a cut could split a secret
    request_id = header_text(request_id, redact)
    cls, advice = _classify(status, code, upstream, model)
    step = _STEPS.get(code) if code is not None and (code != 7000 or model and status < 500) else None
    hint = Hint(advice[:-1], step) if step is not None else None
    if status == 404 and code != 5007 and url_setting is not None:
        name, value = url_setting
        advice += f" {name} is set to {header_text(value, redact)}: check that it is right."
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
        hint=hint,
    )


def redirect_error(
    status: int, location: str | None, *, url_setting: str, request_id: str | None, redact: Redact
) -> RedirectError:
    """A 3xx: say where it pointed (redacted) and that it is not followed."""
    target = header_text(location, redact)
    where = f" to {target}" if target else ""
    request_id = header_text(request_id, redact)
    message = f"Workers AI answered with a redirect (HTTP {status}{where}), which is not followed; check {url_setting}."
    message += f" (request id {request_id})" if request_id else ""
    return RedirectError(message, status=status, request_id=request_id)


def empty_answer_error(status: int, model: str | None) -> ResponseDecodeError:
    """An empty success answer: the model produced nothing, so a retry would only cost again."""
    subject = f"the model {model}" if model else "Cloudflare"
    return ResponseDecodeError(
        f"Workers AI returned an empty answer (HTTP {status}) from {subject}; retrying will not help: "
        "change the input (or the model) and call again."
    )


def too_large_error(what: str, limit: int, setting: str) -> AnswerTooLargeError:
    """An answer over a read cap, naming the cap and its setting."""
    return AnswerTooLargeError(
        f"Workers AI sent {what} larger than {_human(limit)}, the cap set by {setting}; reading stopped "
        f"there. Ask for less (fewer max_tokens, a smaller image, fewer inputs) or raise {setting}.",
        limit=limit,
        setting=setting,
    )


def _human(size: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


_GATEWAY_TOKEN = (
    "AI Gateway refused the gateway token: check CLOUDFLARE_AI_GATEWAY_TOKEN (an AI Gateway token "
    "with 'Run' permission for this authenticated gateway); CLOUDFLARE_API_TOKEN is not the one at fault."
)
_API_TOKEN = (
    "Cloudflare refused the API token. Check that CLOUDFLARE_API_TOKEN is current and has the "
    "'Workers AI' Read permission, and that CLOUDFLARE_ACCOUNT_ID is the account the token belongs to."
)
_ROUTE = "Cloudflare could not route the request; check CLOUDFLARE_ACCOUNT_ID."
_DAILY_ALLOCATION = (
    "The account's daily free Workers AI allocation (10,000 neurons) is used up, so Workers AI refuses "
    "calls until it resets at 00:00 UTC; retrying before then will not help. Wait for 00:00 UTC, or "
    "upgrade the account to the Workers Paid plan (neurons beyond the free ones are then billed) and set "
    "WORKERS_AI_MCP_MAX_COST_USD as a daily budget."
)
_TOO_LARGE = "The request is too large for Workers AI; send a smaller input."
# Cloudflare error code -> (exception, sentence); {subject} is "the model X", {model} its id.
_BY_CODE: dict[int, tuple[type[APIStatusError], str]] = {
    2009: (AuthenticationError, _GATEWAY_TOKEN),
    10000: (AuthenticationError, _API_TOKEN),
    5007: (NotFoundError, "Workers AI has no model named {model}."),
    5006: (BadRequestError, "Workers AI rejected the input for {subject}."),
    5016: (
        PermissionDeniedError,
        'The licence of {subject} must be accepted once before use: run it with the input {{"prompt": "agree"}} '
        "and try again.",
    ),
    5018: (PermissionDeniedError, "This Cloudflare account is not allowed to use {subject}."),
    3041: (PermissionDeniedError, "This Cloudflare account is not allowed to use {subject}."),
    4006: (DailyAllocationError, _DAILY_ALLOCATION),  # what the live API sends (tests/recorded/errors)
    3036: (DailyAllocationError, _DAILY_ALLOCATION),  # what Cloudflare's error table documents
    3040: (RateLimitError, "Workers AI is out of capacity for this model right now; try again shortly."),
    7003: (NotFoundError, _ROUTE),
    # "No route for that URI" on a model's path: the id names no model Cloudflare routes to (a typo).
    7000: (NotFoundError, "Workers AI has no model named {model} (no route for that id)."),
    3006: (BadRequestError, _TOO_LARGE),
}
# Codes whose next step is a tool's: the sentence above ends where `tools/` adds it.
_STEPS: dict[int, Literal["find_model", "see_schema"]] = {5007: "find_model", 7000: "find_model", 5006: "see_schema"}
# HTTP status -> (exception, sentence), when the code says nothing more precise.
_BY_STATUS: dict[int, tuple[type[APIStatusError], str]] = {
    401: (AuthenticationError, _API_TOKEN),
    429: (RateLimitError, "Workers AI rate limit reached; wait a little before the next call."),
    413: (BadRequestError, _TOO_LARGE),
    403: (
        PermissionDeniedError,
        "Cloudflare denied access; the token needs the 'Workers AI' Read permission for this account.",
    ),
    404: (NotFoundError, "Cloudflare found no such route or model ({model})."),
}


def _classify(status: int, code: int | None, upstream: str, model: str | None) -> tuple[type[APIStatusError], str]:
    if code == 10000 or code not in _BY_CODE and status == 401:
        code = 10000
    if code == 7000 and (model is None or status >= 500):
        code = 7003 if status < 500 else None  # a model's path only names no model when it is refused (4xx)
    if code is None and status == 404 and "route" in upstream.lower():
        code = 7003
    if code is None and status == 429 and "daily free allocation" in upstream.lower():
        code = 4006  # the allocation's wording without its code (seen nested in other payloads)
    found = _BY_CODE.get(code) if code is not None else None
    found = found or _BY_STATUS.get(status)
    if found is None:
        found = (ServerError, "Workers AI failed to answer (a server-side error at Cloudflare) for {subject}.")
        if status < 500:
            found = (BadRequestError, "Workers AI rejected the request for {subject}.")
    cls, template = found
    subject = f"the model {model}" if model else "this model"
    return cls, template.format(subject=subject, model=model or ("(unknown)" if code == 5007 else "no model"))
