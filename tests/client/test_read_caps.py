"""Every read from Workers AI stops at its cap, whatever the upstream sends, with an error naming the cap.

Each hostile body is endless (up to a safety stop far past the cap, so that a client without caps
fails the test instead of the machine); each test checks the error and how much was pulled.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest

from security.upstream import Endless, GzipBomb, Upstream, always, envelope, session, sse, text_of
from support.settings import make_settings
from workers_ai_mcp.client import WorkersAIClient, create_http_client
from workers_ai_mcp.client.errors import AnswerTooLargeError
from workers_ai_mcp.client.reading import Cap, read_capped, read_prefix
from workers_ai_mcp.client.streaming import sse_lines

KIB = 1024
PIECE = 16 * KIB
CAP = 256 * KIB
# What may be pulled past a cap: the piece that crossed it, and one more in flight.
SLACK = 2 * PIECE
TRANSLATE = {"text": "hello", "target_lang": "fr"}
CHAT = {"prompt": "hi", "max_tokens": 16}
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
IMAGE = {"prompt": "a fox", "model": SDXL, "width": 256, "height": 256, "steps": 2}


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    return None


async def test_an_endless_json_answer_stops_at_the_answer_cap(tmp_path: Path) -> None:
    body = Endless(b" " * PIECE, first=b'{"result": {"translated_text": "')
    upstream = Upstream(always("application/json", body))
    async with session(upstream, tmp_path, max_answer_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("translate", TRANSLATE)
    assert result.is_error
    assert "WORKERS_AI_MCP_MAX_ANSWER_BYTES" in text_of(result) and "256 KiB" in text_of(result)
    assert body.pulled <= CAP + SLACK
    assert len(upstream.calls) == 1  # too large is final: the same request would be too large again


async def test_an_sse_line_without_an_end_stops_at_the_line_cap(tmp_path: Path) -> None:
    body = Endless(b"x" * PIECE, first=b'data: {"response": "')
    upstream = Upstream(always("text/event-stream", body))
    async with session(upstream, tmp_path, max_stream_line_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("chat", CHAT, progress_callback=_progress)
    assert result.is_error
    assert "event-stream line" in text_of(result) and "WORKERS_AI_MCP_MAX_STREAM_LINE_BYTES" in text_of(result)
    assert body.pulled <= CAP + SLACK


async def test_an_endless_stream_of_events_stops_at_the_stream_cap(tmp_path: Path) -> None:
    event = sse(json.dumps({"response": "word "}), done=False)
    body = Endless(event * (PIECE // len(event)))
    upstream = Upstream(always("text/event-stream", body))
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    async with session(upstream, tmp_path, max_stream_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("chat", CHAT, progress_callback=on_progress)
    assert result.is_error
    assert "WORKERS_AI_MCP_MAX_STREAM_BYTES" in text_of(result)
    assert body.pulled <= CAP + SLACK
    assert messages  # it streamed until the cap


async def test_an_endless_image_answer_stops_at_the_media_cap(tmp_path: Path) -> None:
    body = Endless(b"\x89PNG" * (PIECE // 4))
    upstream = Upstream(always("image/png", body))
    async with session(upstream, tmp_path, max_input_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("generate_image", IMAGE)
    assert result.is_error
    assert "media answer" in text_of(result) and "WORKERS_AI_MCP_MAX_INPUT_BYTES" in text_of(result)
    assert body.pulled <= CAP + SLACK
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").iterdir())


async def test_the_media_answer_cap_can_be_set_apart_from_the_input_cap(tmp_path: Path) -> None:
    body = Endless(b"\x00" * PIECE)
    upstream = Upstream(always("image/png", body))
    async with session(upstream, tmp_path, max_media_answer_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("generate_image", IMAGE)
    assert result.is_error and "WORKERS_AI_MCP_MAX_MEDIA_ANSWER_BYTES" in text_of(result)
    assert body.pulled <= CAP + SLACK


async def test_an_endless_error_body_is_read_only_to_the_error_cap_and_its_status_still_speaks(tmp_path: Path) -> None:
    bodies: list[Endless] = []

    def answer(request: httpx2.Request, n: int) -> httpx2.Response:
        bodies.append(Endless(b"<p>oops</p>" * 1000, first=b"<html><title>500 Internal</title>"))
        return httpx2.Response(500, headers={"content-type": "text/html"}, content=bodies[-1])

    upstream = Upstream(answer)
    async with session(upstream, tmp_path, max_error_body_bytes=4 * KIB) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("translate", TRANSLATE)
    text = text_of(result)
    assert result.is_error and "server-side error" in text and "HTTP 500" in text
    assert "Gave up after 3 attempts" in text
    assert len(bodies) == 3 and all(body.pulled <= 4 * KIB + len(body.piece) for body in bodies)


async def test_a_gzip_bomb_is_counted_as_it_inflates_and_stops_at_the_cap(tmp_path: Path) -> None:
    bomb = GzipBomb(inflate=PIECE)
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    upstream = Upstream(lambda request, n: httpx2.Response(200, headers=headers, content=bomb))
    async with session(upstream, tmp_path, max_answer_bytes=CAP) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("translate", TRANSLATE)
    assert result.is_error and "WORKERS_AI_MCP_MAX_ANSWER_BYTES" in text_of(result)
    assert bomb.decoded <= CAP + SLACK
    assert bomb.sent < CAP // 8  # the wire carried little: only counting decoded bytes could stop it


async def test_a_body_that_drips_forever_ends_at_the_call_deadline(tmp_path: Path) -> None:
    class Drip(Endless):
        async def __aiter__(self):  # pyright: ignore[reportIncompatibleMethodOverride]
            yield b'{"result": {"translated_text": "'
            while True:
                await anyio.sleep(0.01)
                self.pulled += 1
                yield b"a"

    body = Drip(b"")
    upstream = Upstream(always("application/json", body))
    async with session(upstream, tmp_path, timeout=0.5) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("translate", TRANSLATE)
    assert result.is_error and "did not finish within 0.5 s" in text_of(result)


async def test_a_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    body = Endless(b"x" * PIECE)
    response = httpx2.Response(200, headers={"content-length": str(10 * CAP)}, content=body)
    with pytest.raises(AnswerTooLargeError) as raised:
        await read_capped(response, Cap(CAP, "WORKERS_AI_MCP_MAX_ANSWER_BYTES", "a JSON answer"))
    assert raised.value.setting == "WORKERS_AI_MCP_MAX_ANSWER_BYTES" and raised.value.limit == CAP
    assert body.pulled == 0


async def test_an_error_body_prefix_stops_reading_at_its_limit() -> None:
    body = Endless(b"e" * PIECE)
    prefix = await read_prefix(httpx2.Response(500, content=body), 1000)
    assert prefix == b"e" * 1000 and body.pulled == PIECE


async def test_sse_lines_split_on_every_line_ending_even_across_chunks() -> None:
    async def chunks():
        for chunk in (b"data: a\r", b"\ndata: b\rdata: c\n", b"\n", b"data: d\xc3", b"\xa9\r\n"):
            yield chunk

    lines = [line async for line in sse_lines(chunks(), max_line=64, setting="X")]
    assert lines == ["data: a", "data: b", "data: c", "", "data: dé"]


async def test_a_json_answer_under_the_cap_is_read_whole_by_the_client(tmp_path: Path) -> None:
    text = "ok " * 50_000  # 150 KB, under a 256 KiB cap
    upstream = Upstream(lambda request, n: httpx2.Response(200, json=envelope({"translated_text": text})))
    settings = make_settings(tmp_path, max_answer_bytes=CAP)
    async with create_http_client(settings, upstream.transport()) as http:
        result = await WorkersAIClient(settings, http).run("@cf/meta/m2m100-1.2b", TRANSLATE)
    assert result.data == {"translated_text": text}
