"""One retry budget per call: at most `max_retries + 1` requests, stream restarts included.

Before, two connection errors and then a stream that broke before its first event sent 9 requests
with max_retries=2 (each restart got a fresh budget for its connection retries).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest

from security.upstream import Upstream, session, sse, text_of
from support.settings import make_settings
from workers_ai_mcp.client import APIConnectionError, ServerError, WorkersAIClient, create_http_client

CHAT = {"prompt": "hi", "max_tokens": 16}
LLAMA = "@cf/meta/llama-3.1-8b-instruct-fp8"


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None


async def _broken() -> AsyncIterator[bytes]:
    raise httpx2.ReadError("connection reset by peer")
    yield b""  # an async generator that breaks before its first byte


def _script(*steps: str) -> Upstream:
    """Model calls answered in order: "connect" fails to connect, "break" is a stream cut before its first
    event, "500" a server error, "ok" a whole stream; the last step repeats."""

    def answer(request: httpx2.Request, n: int) -> httpx2.Response:
        step = steps[min(n, len(steps)) - 1]
        if step == "connect":
            raise httpx2.ConnectError("connection refused")
        if step == "500":
            return httpx2.Response(500, json={"success": False, "errors": [{"code": 3043, "message": "x"}]})
        body = _broken() if step == "break" else sse(json.dumps({"response": "Hello."}))
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return Upstream(answer)


@pytest.mark.parametrize("max_retries", [0, 1, 2, 3])
async def test_connection_errors_then_broken_streams_stay_within_one_budget(tmp_path: Path, max_retries: int) -> None:
    upstream = _script("connect", "connect", "break")
    async with session(upstream, tmp_path, max_retries=max_retries) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("chat", CHAT, progress_callback=_progress)
    assert result.is_error
    assert len(upstream.calls) == max_retries + 1
    expected = "Could not reach Workers AI" if max_retries < 2 else "stream broke"
    assert expected in text_of(result) and f"after {max_retries + 1} attempt" in text_of(result)


async def test_a_stream_that_breaks_once_and_then_answers_uses_the_rest_of_the_budget(tmp_path: Path) -> None:
    upstream = _script("connect", "break", "ok")
    async with session(upstream, tmp_path, max_retries=2) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("chat", CHAT, progress_callback=_progress)
    assert not result.is_error, text_of(result)
    assert result.structured_content and result.structured_content["text"] == "Hello."
    assert len(upstream.calls) == 3


async def test_error_statuses_after_a_stream_restart_count_against_the_same_budget(tmp_path: Path) -> None:
    upstream = _script("break", "500")
    settings = make_settings(tmp_path, max_retries=2)

    async def ignore(event: object) -> None:
        return None

    async with create_http_client(settings, upstream.transport()) as http:
        client = WorkersAIClient(settings, http)
        with pytest.raises(ServerError) as raised:
            await client.stream_run(LLAMA, {"prompt": "hi"}, ignore)
    assert len(upstream.calls) == 3
    assert "Gave up after 3 attempts" in str(raised.value)


async def test_a_stream_that_always_breaks_is_tried_max_retries_plus_one_times(tmp_path: Path) -> None:
    upstream = _script("break")
    settings = make_settings(tmp_path, max_retries=4)

    async def ignore(event: object) -> None:
        return None

    async with create_http_client(settings, upstream.transport()) as http:
        with pytest.raises(APIConnectionError, match="stream broke"):
            await WorkersAIClient(settings, http).stream_run(LLAMA, {"prompt": "hi"}, ignore)
    assert len(upstream.calls) == 5
