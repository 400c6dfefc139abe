"""Secrets echoed by the upstream are redacted in successful answers too, not only in errors.

An upstream that echoes `Bearer <token>` (raw, URL-encoded, base64) in a JSON answer, in stream
chunks (whole or split across chunks), or in the `cf-ai-req-id` / `cf-aig-log-id` headers must
not get it into a tool result, a progress notification or an error. Binary media are left as sent.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
import pytest
from PIL import Image, PngImagePlugin
from pydantic import SecretStr

from workers_ai_mcp.redact import Redactor

from .leaks import API_TOKEN, GATEWAY_TOKEN, Outbound, as_text, call_quietly
from .upstream import Upstream, envelope, session, sse

TRANSLATE = {"text": "hello", "target_lang": "fr"}
SECRETS = {"api_token": SecretStr(API_TOKEN), "gateway_token": SecretStr(GATEWAY_TOKEN)}
ECHOES = {
    "raw": f"Authorization: Bearer {API_TOKEN}",
    "URL-encoded": quote(f"Bearer {API_TOKEN}", safe=""),
    "base64": base64.b64encode(API_TOKEN.encode()).decode(),
    "gateway token": f"cf-aig-authorization: Bearer {GATEWAY_TOKEN}",
}


def _echo_json(request: httpx2.Request, n: int) -> httpx2.Response:
    answer = {"translated_text": " | ".join(ECHOES.values()), ECHOES["raw"]: [ECHOES["base64"], 1.5]}
    headers = {"cf-ai-req-id": f"req-{API_TOKEN}", "cf-aig-log-id": f"log-{API_TOKEN}"}
    return httpx2.Response(200, json=envelope(answer), headers=headers)


async def test_a_json_answer_echoing_the_tokens_reaches_the_result_redacted(tmp_path: Path) -> None:
    out = Outbound()
    upstream = Upstream(_echo_json, token=API_TOKEN)
    async with session(upstream, tmp_path, gateway_id="gw", **SECRETS) as client:
        with anyio.fail_after(10):
            result = await call_quietly(client, out, "translate", TRANSLATE)
    assert result is not None and not result.is_error, as_text(result)
    assert as_text(result).count("[redacted]") >= len(ECHOES)
    assert "Authorization: Bearer [redacted]" in as_text(result)
    out.assert_no_leaks()


def _shifted_base64(request: httpx2.Request, n: int) -> httpx2.Response:
    texts = [f"Authorization: Bearer {API_TOKEN}", f"x{API_TOKEN}", f"xy{API_TOKEN}", f"Bearer {API_TOKEN}\r\n"]
    encoded = [base64.b64encode(text.encode()).decode() for text in texts]
    encoded += [base64.urlsafe_b64encode(text.encode()).decode() for text in texts]
    return httpx2.Response(200, json=envelope({"translated_text": " ".join(encoded)}))


async def test_base64_of_a_header_holding_the_token_is_redacted_at_every_alignment(tmp_path: Path) -> None:
    out = Outbound()
    async with session(Upstream(_shifted_base64, token=API_TOKEN), tmp_path, **SECRETS) as client:
        with anyio.fail_after(10):
            result = await call_quietly(client, out, "translate", TRANSLATE)
    assert result is not None and not result.is_error, as_text(result)
    assert as_text(result).count("[redacted]") >= 8
    out.assert_no_leaks()


@pytest.mark.parametrize("split", [0, 1, 7], ids=["one-chunk", "char-by-char", "7-char-pieces"])
async def test_a_stream_echoing_the_token_reaches_progress_and_result_redacted(tmp_path: Path, split: int) -> None:
    said = f"You sent Bearer {API_TOKEN} and {quote(API_TOKEN, safe='')}; fine."
    pieces = [said] if split == 0 else [said[i : i + split] for i in range(0, len(said), split)]
    events = [json.dumps({"response": piece}) for piece in pieces]
    body = sse(*events)
    headers = {"content-type": "text/event-stream", "cf-ai-req-id": f"req-{API_TOKEN}"}
    upstream = Upstream(lambda request, n: httpx2.Response(200, headers=headers, content=body), token=API_TOKEN)
    out = Outbound()
    async with session(upstream, tmp_path, **SECRETS) as client:
        with anyio.fail_after(10):
            result = await call_quietly(client, out, "chat", {"prompt": "echo", "max_tokens": 256})
    assert result is not None and not result.is_error, as_text(result)
    assert result.structured_content is not None
    assert result.structured_content["text"] == "You sent Bearer [redacted] and [redacted]; fine."
    assert any(where.endswith("progress") for where, _ in out.items)  # it really streamed
    out.assert_no_leaks()


async def test_a_request_id_header_echoing_the_token_is_redacted_in_errors(tmp_path: Path) -> None:
    def answer(request: httpx2.Request, n: int) -> httpx2.Response:
        body = {"success": False, "errors": [{"code": 5006, "message": "bad input"}], "result": None}
        return httpx2.Response(400, json=body, headers={"cf-ai-req-id": f"Bearer {API_TOKEN}\x1b[31m"})

    out = Outbound()
    async with session(Upstream(answer, token=API_TOKEN), tmp_path, **SECRETS) as client:
        with anyio.fail_after(10):
            result = await call_quietly(client, out, "translate", TRANSLATE)
    assert result is not None and result.is_error
    assert "request id Bearer [redacted][31m)" in as_text(result)
    out.assert_no_leaks()


async def test_a_binary_answer_is_saved_exactly_as_sent_even_if_it_holds_the_token_bytes(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"Bearer {API_TOKEN}")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 20, 30)).save(buffer, "PNG", pnginfo=info)
    png = buffer.getvalue()
    upstream = Upstream(lambda request, n: httpx2.Response(200, headers={"content-type": "image/png"}, content=png))
    arguments: dict[str, Any] = {"prompt": "a fox", "model": "@cf/stabilityai/stable-diffusion-xl-base-1.0"}
    async with session(upstream, tmp_path, media_mode="file", **SECRETS) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("generate_image", arguments | {"width": 256, "height": 256})
    assert not result.is_error, as_text(result)
    (saved,) = (tmp_path / "outputs").iterdir()
    assert saved.read_bytes() == png


def test_a_secret_split_across_stream_pieces_is_caught_and_nothing_else_is_held_back_at_the_end() -> None:
    redact = Redactor([API_TOKEN])
    text = f"a Bearer {API_TOKEN} b {base64.b64encode(API_TOKEN.encode()).decode()} c"
    for size in (1, 2, 5, 16, 1000):
        stream = redact.stream()
        out = "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()
        # Piece by piece, the part of the base64 only the token decides may match before the last
        # characters arrive: harmless, they carry at most 4 bits of it (and padding).
        assert re.sub(r"\[redacted\][A-Za-z0-9+/]{0,2}=*", "[redacted]", out) == "a Bearer [redacted] b [redacted] c", (
            size
        )


def test_json_values_are_redacted_in_keys_and_strings_and_numbers_are_left_alone() -> None:
    redact = Redactor([API_TOKEN])
    value = {API_TOKEN: [f"x{API_TOKEN}", 3, 2.5, None, True, {"k": API_TOKEN}]}
    assert redact.json(value) == {"[redacted]": ["x[redacted]", 3, 2.5, None, True, {"k": "[redacted]"}]}
    assert Redactor().json(value) is value  # no secret: nothing to walk


def test_streamed_text_passes_on_at_once_unless_its_end_could_begin_a_secret() -> None:
    secret = "cfut_" + "s3cr3t" * 7
    stream = Redactor([secret]).stream()
    assert stream.feed("Otters hold hands. ") == "Otters hold hands. "  # nothing held: no secret starts here
    assert stream.feed("The key is cfu") == "The key is "  # "cfu" may be the start of the secret
    assert stream.feed("t_" + "s3cr3t" * 7 + " done") == "[redacted] done"
    assert stream.feed("cf") == "" and stream.flush() == "cf"
