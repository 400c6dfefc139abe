"""A `Request` is built once and goes to the wire whole: JSON, a raw body with its type, or a form, plus a query."""

from __future__ import annotations

from pathlib import Path

import httpx2

from support.settings import make_settings
from workers_ai_mcp.client import BinaryResult, JsonResult, WorkersAIClient, create_http_client
from workers_ai_mcp.client.request import FilePart, Request, form_request, json_request, stream_request

MODEL = "@cf/meta/m2m100-1.2b"


async def sent(tmp_path: Path, request: Request) -> httpx2.Request:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"success": True, "result": {"ok": True}, "errors": []})

    settings = make_settings(tmp_path)
    async with create_http_client(settings, httpx2.MockTransport(answer)) as http:
        result = await WorkersAIClient(settings, http).run(MODEL, request)
    assert isinstance(result, JsonResult) and result.object == {"ok": True}
    return seen[0]


async def test_json_inputs_go_as_a_json_body(tmp_path: Path) -> None:
    wire = await sent(tmp_path, json_request({"text": "hi", "target_lang": "fr"}))
    assert wire.headers["content-type"] == "application/json"
    assert wire.url.path.endswith(f"/ai/run/{MODEL}") and not wire.url.query
    assert b'"target_lang"' in wire.read()


async def test_raw_media_goes_as_the_body_with_its_type_and_options_in_the_query(tmp_path: Path) -> None:
    wire = await sent(tmp_path, stream_request(b"RIFFxxxx", "audio/wav", {"smart_format": True, "none": None}))
    assert wire.headers["content-type"] == "audio/wav" and wire.read() == b"RIFFxxxx"
    assert wire.url.params["smart_format"] == "true" and "none" not in wire.url.params


async def test_a_form_goes_as_multipart_with_text_fields_and_file_parts(tmp_path: Path) -> None:
    request = form_request(
        {"prompt": "a fox", "steps": 4.0}, {"input_image_0": FilePart("image0", b"PNG", "image/png")}
    )
    wire = await sent(tmp_path, request)
    body = wire.read()
    assert wire.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="prompt"\r\n\r\na fox' in body and b'name="steps"\r\n\r\n4\r\n' in body
    assert b'filename="image0"' in body and b"Content-Type: image/png" in body


async def test_a_form_of_text_fields_alone_is_still_multipart(tmp_path: Path) -> None:
    wire = await sent(tmp_path, form_request({"prompt": "a fox"}))
    assert wire.headers["content-type"].startswith("multipart/form-data")


def test_the_price_estimate_reads_the_json_the_form_fields_or_the_query() -> None:
    assert json_request({"a": 1}).priced_inputs == {"a": 1}
    assert form_request({"prompt": "x"}).priced_inputs == {"prompt": "x"}
    assert stream_request(b"x", "audio/wav", {"language": "en"}).priced_inputs == {"language": "en"}
    assert Request(body=b"x", content_type="image/png").priced_inputs is None


def test_a_binary_answer_reads_as_no_json() -> None:
    result = BinaryResult(b"\x89PNG", "image/png")
    assert result.object == {} and result.rows == [] and result.answer() is None
