"""Cloudflare error answers become one exception family with actionable wording."""

from __future__ import annotations

import json

import pytest

from workers_ai_mcp.client import errors
from workers_ai_mcp.redact import Redactor
from workers_ai_mcp.tools.host.advice import error_text


def body(code: int | None, message: str) -> bytes:
    errs = [{"code": code, "message": message}] if code is not None else [{"message": message}]
    return json.dumps({"result": None, "success": False, "errors": errs, "messages": []}).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls", "advice"),
    [
        (401, 10000, errors.AuthenticationError, "CLOUDFLARE_API_TOKEN"),
        (403, 10000, errors.AuthenticationError, "Workers AI"),
        (400, 5007, errors.NotFoundError, "list_models"),
        (400, 5006, errors.BadRequestError, "get_model_schema"),
        (403, 5016, errors.PermissionDeniedError, '"agree"'),
        (403, 5018, errors.PermissionDeniedError, "not allowed"),
        (429, 3036, errors.DailyAllocationError, "daily free"),
        (429, 4006, errors.DailyAllocationError, "00:00 UTC"),
        (429, 3040, errors.RateLimitError, "capacity"),
        (404, 7003, errors.NotFoundError, "CLOUDFLARE_ACCOUNT_ID"),
        (413, 3006, errors.BadRequestError, "too large"),
        (429, None, errors.RateLimitError, "rate limit"),
        (500, None, errors.ServerError, "server-side"),
        (503, 3040, errors.RateLimitError, "capacity"),
    ],
)
def test_each_known_failure_maps_to_its_class_and_says_what_to_do(
    status: int, code: int | None, cls: type[errors.APIStatusError], advice: str
) -> None:
    error = errors.status_error(
        status, body(code, "upstream words"), model="@cf/x/y", request_id="req-1", retry_after=None, redact=Redactor()
    )
    assert type(error) is cls
    assert advice in error_text(error)
    assert error.status == status and error.code == code
    assert "request id req-1" in str(error)


def test_an_html_502_from_the_edge_is_read_as_text_without_markup() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad gateway</h1> cloudflare</body></html>"
    error = errors.status_error(502, html, model=None, request_id=None, retry_after=None, redact=Redactor())
    assert isinstance(error, errors.ServerError)
    assert "<" not in str(error) and "Bad gateway" in str(error)


def test_upstream_text_that_echoes_the_token_is_redacted() -> None:
    token = "cfut_0123456789abcdefghijklmnopqrstuvwxyzAB"
    leaky = body(5006, f"AiError: Bad input: header Authorization: Bearer {token} is odd")
    error = errors.status_error(
        400, leaky, model="@cf/x/y", request_id=None, retry_after=None, redact=Redactor([token])
    )
    assert token not in str(error)
    assert token not in error.upstream_message
    assert "[redacted]" in str(error)


def test_the_model_message_of_a_bad_input_error_reaches_the_assistant() -> None:
    error = errors.status_error(
        400,
        body(5006, "AiError: Bad input: Type mismatch of '/messages/0/content'"),
        model="@cf/meta/llama-3.1-8b-instruct-fp8",
        request_id=None,
        retry_after=None,
        redact=Redactor(),
    )
    assert "Type mismatch of '/messages/0/content'" in str(error)


@pytest.mark.parametrize(
    ("code", "fact", "worded"),
    [
        (5007, "Workers AI has no model named @cf/x/y.", "Workers AI has no model named @cf/x/y; call list_models"),
        (5006, "rejected the input for the model @cf/x/y.", "the model @cf/x/y; call get_model_schema to see what"),
    ],
)
def test_client_errors_state_facts_and_the_tools_word_the_next_step(code: int, fact: str, worded: str) -> None:
    error = errors.status_error(
        400, body(code, "upstream words"), model="@cf/x/y", request_id="req-1", retry_after=None, redact=Redactor()
    )
    assert fact in str(error) and "list_models" not in str(error) and "get_model_schema" not in str(error)
    assert worded in error_text(error)
    assert error_text(error).endswith(f"Cloudflare said: upstream words (HTTP 400, code {code}, request id req-1)")
