"""A batch submission is not idempotent: once it may have reached Cloudflare (a 5xx, a connection dropped
after sending) it is not sent again, since a second one could be queued and billed twice. It is tried
again only when nothing can have been taken on: a connection that never opened, or a 429."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from support.emulated import BGE_BASE, model_calls
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

INPUTS = [{"text": "one"}, {"text": "two"}]


async def submit(tmp_path: Path, upstream: object) -> object:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=upstream) as client:  # type: ignore[arg-type]
            return await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": INPUTS})


def failing_once(emulator_app: Starlette, failure: str) -> tuple[httpx2.MockTransport, list[str]]:
    """The emulator, except that the first batch submission fails as `failure` says."""
    forward = httpx2.ASGITransport(app=emulator_app)
    failed: list[str] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        if "queueRequest" in str(request.url) and "requests" in request.content.decode() and not failed:
            failed.append(failure)
            if failure == "refused":
                raise httpx2.ConnectError("connection refused", request=request)
            if failure == "dropped":
                raise httpx2.ReadError("connection reset by peer", request=request)
            status = int(failure)
            body = {"result": None, "success": False, "errors": [{"code": 3043, "message": "Internal"}], "messages": []}
            return httpx2.Response(status, json=body)
        response = await forward.handle_async_request(request)
        return httpx2.Response(response.status_code, headers=response.headers, content=await response.aread())

    return httpx2.MockTransport(handler), failed


def submissions(state: EmulatorState) -> int:
    return len([r for r in model_calls(state) if "queueRequest" in r.query])


@pytest.mark.parametrize("failure", ["500", "502", "dropped"])
async def test_a_submission_that_may_have_reached_cloudflare_is_sent_once(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, failure: str
) -> None:
    transport, failed = failing_once(emulator_app, failure)
    result = await submit(tmp_path, transport)
    assert result.is_error  # type: ignore[attr-defined]
    assert failed == [failure] and submissions(emulator_state) == 0  # the one attempt, and no second
    if failure == "dropped":
        assert "not sent again" in text_of(result)  # type: ignore[arg-type]


async def test_a_submission_refused_with_429_is_tried_again(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    transport, failed = failing_once(emulator_app, "429")
    result = await submit(tmp_path, transport)
    assert structured(result)["status"] in ("queued", "running")  # type: ignore[arg-type]
    assert failed == ["429"] and submissions(emulator_state) == 1


async def test_a_submission_whose_connection_never_opened_is_tried_again(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    transport, failed = failing_once(emulator_app, "refused")
    result = await submit(tmp_path, transport)
    assert not result.is_error, text_of(result)  # type: ignore[attr-defined,arg-type]
    assert failed == ["refused"] and submissions(emulator_state) == 1
