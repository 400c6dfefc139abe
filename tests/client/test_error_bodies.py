"""Error answers that are not in Cloudflare's envelope still say what is wrong and what to do.

AI Gateway's `error[]` (singular key), RFC 7807 problem details, a 404 from a custom base URL,
an empty success answer and a redirect, each through a real MCP session, plus the parser's table.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest
from pydantic import SecretStr

from security.leaks import API_TOKEN, GATEWAY_TOKEN
from security.upstream import Upstream, always, session, text_of
from support.settings import make_settings
from workers_ai_mcp.client import WorkersAIClient, create_http_client, errors
from workers_ai_mcp.redact import Redactor
from workers_ai_mcp.settings import DEFAULT_BASE_URL

TRANSLATE = {"text": "hello", "target_lang": "fr"}
GATEWAY_401 = {"success": False, "result": [], "messages": [], "error": [{"code": 2009, "message": "Unauthorized"}]}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (GATEWAY_401, 2009, "Unauthorized"),
        ({"errors": [{"code": 5006, "message": "bad input"}], "success": False}, 5006, "bad input"),
        ({"error": {"code": "2008", "message": "invalid provider"}}, 2008, "invalid provider"),
        ({"error": "model overloaded"}, None, "model overloaded"),
        (
            {"type": "about:blank", "title": "Bad Request", "detail": "text is required", "status": 400},
            None,
            "Bad Request: text is required",
        ),
        ({"title": "Not Found"}, None, "Not Found"),
        ({"message": "plain message"}, None, "plain message"),
        ("a JSON string", None, "a JSON string"),
    ],
)
def test_error_bodies_in_every_known_shape_are_read(body: object, code: int | None, message: str) -> None:
    assert errors.parse_error_body(json.dumps(body).encode()) == (code, message)


async def test_an_ai_gateway_2009_blames_the_gateway_token_not_the_api_token(tmp_path: Path) -> None:
    upstream = Upstream(lambda request, n: httpx2.Response(401, json=GATEWAY_401))
    async with session(upstream, tmp_path, gateway_id="gw", gateway_token=SecretStr(GATEWAY_TOKEN)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    text = text_of(result)
    assert result.is_error and "CLOUDFLARE_AI_GATEWAY_TOKEN" in text and "code 2009" in text
    assert "Check that CLOUDFLARE_API_TOKEN is current" not in text
    assert "/workers-ai/" in upstream.calls[0].url.path and len(upstream.calls) == 1


async def test_an_rfc_7807_problem_body_reaches_the_assistant(tmp_path: Path) -> None:
    problem = {"type": "about:blank", "title": "Unprocessable", "detail": "target_lang 'xx' is unknown", "status": 422}
    upstream = Upstream(lambda request, n: httpx2.Response(422, json=problem))
    async with session(upstream, tmp_path) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    assert result.is_error and "Cloudflare said: Unprocessable: target_lang 'xx' is unknown" in text_of(result)


async def test_a_404_from_a_custom_base_url_says_to_check_that_setting(tmp_path: Path) -> None:
    upstream = Upstream(always("text/html", b"<html><body><h1>404 Not Found</h1></body></html>", 404))
    async with session(upstream, tmp_path, base_url="http://127.0.0.1:9/proxy/client/v4") as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    text = text_of(result)
    assert result.is_error and "HTTP 404" in text
    assert "WORKERS_AI_BASE_URL is set to http://127.0.0.1:9/proxy/client/v4: check that it is right" in text


async def test_a_404_from_the_default_base_url_does_not_blame_the_setting(tmp_path: Path) -> None:
    upstream = Upstream(always("text/html", b"Not Found", 404))
    settings = make_settings(tmp_path, base_url=DEFAULT_BASE_URL)
    async with create_http_client(settings, upstream.transport()) as http:
        with pytest.raises(errors.NotFoundError) as raised:
            await WorkersAIClient(settings, http).run("@cf/meta/m2m100-1.2b", TRANSLATE)
    assert "WORKERS_AI_BASE_URL" not in str(raised.value)


@pytest.mark.parametrize("body", [b"", b"  \n"], ids=["empty", "blank"])
async def test_an_empty_success_answer_is_not_called_invalid_json_and_is_not_retried(
    tmp_path: Path, body: bytes
) -> None:
    upstream = Upstream(always("application/json", body))
    async with session(upstream, tmp_path) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    text = text_of(result)
    assert result.is_error and "empty answer" in text and "retrying will not help" in text
    assert "not valid JSON" not in text
    assert len(upstream.calls) == 1


async def test_an_empty_answer_to_a_streamed_chat_is_named_too(tmp_path: Path) -> None:
    upstream = Upstream(always("application/json", b""))

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    async with session(upstream, tmp_path) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("chat", {"prompt": "hi"}, progress_callback=on_progress)
    assert result.is_error and "empty answer" in text_of(result)


async def test_a_redirect_is_named_with_its_redacted_target_and_not_followed(tmp_path: Path) -> None:
    target = f"https://elsewhere.example/steal?token={API_TOKEN}"
    upstream = Upstream(
        lambda request, n: httpx2.Response(
            302, headers={"location": target, "content-type": "text/html"}, content=b"<a>moved</a>"
        ),
        token=API_TOKEN,
    )
    async with session(upstream, tmp_path, api_token=SecretStr(API_TOKEN)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    text = text_of(result)
    assert result.is_error
    assert "redirect (HTTP 302 to https://elsewhere.example/steal?token=[redacted])" in text
    assert "not followed" in text and "WORKERS_AI_BASE_URL" in text and "not valid JSON" not in text
    assert API_TOKEN not in text
    assert len(upstream.calls) == 1


def test_a_gateway_redirect_names_the_gateway_url_setting() -> None:
    error = errors.redirect_error(
        307, "/elsewhere\x1b[31m", url_setting="CLOUDFLARE_AI_GATEWAY_URL", request_id=None, redact=Redactor()
    )
    assert isinstance(error, errors.RedirectError)
    assert "HTTP 307 to /elsewhere[31m" in str(error) and "check CLOUDFLARE_AI_GATEWAY_URL" in str(error)
