"""run_model through a real MCP client session: schema check first, JSON and binary answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx2
from mcp.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from PIL import Image
from starlette.applications import Starlette

from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fp8"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
MELOTTS = "@cf/myshell-ai/melotts"


def kinds(state: EmulatorState) -> list[str]:
    """The schema look-ups and model runs the emulator saw, as 'schema <model>' or 'run <model>'."""
    seen: list[str] = []
    for request in state.requests:
        if "/ai/run/" in request.path:
            seen.append("run " + request.path.split("/ai/run/", 1)[1])
        elif request.path.endswith("/ai/models/schema"):
            seen.append("schema " + httpx2.QueryParams(request.query)["model"])
    return seen


def first_text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def link_of(result: CallToolResult) -> ResourceLink:
    (link,) = [block for block in result.content if isinstance(block, ResourceLink)]
    return link


async def test_run_model_returns_a_json_answer_as_json_text(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    summarizer = "@cf/facebook/bart-large-cnn"
    text = "The quick brown fox jumps over the lazy dog. " * 20
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": summarizer, "input": {"input_text": text}})
    assert not result.is_error
    assert result.structured_content is None and len(result.content) == 1
    answer: dict[str, Any] = json.loads(first_text(result))
    assert answer["model"] == summarizer
    assert isinstance(answer["result"]["summary"], str) and answer["result"]["summary"]
    assert kinds(emulator_state) == [f"schema {summarizer}", f"run {summarizer}"]


async def test_run_model_refuses_input_that_breaks_the_schema_without_running_the_model(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    bad = {"messages": [{"role": "user", "content": 5}]}
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": LLAMA, "input": bad})
    assert result.is_error
    message = first_text(result)
    assert "input.messages[0].content: 5 is not of type 'string'" in message
    assert "not sent" in message and "get_model_schema" in message
    assert kinds(emulator_state) == [f"schema {LLAMA}"]


async def test_run_model_names_a_missing_required_field_and_an_out_of_range_value(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        missing = await client.call_tool("run_model", {"model": SDXL, "input": {"width": 512}})
        too_small = await client.call_tool("run_model", {"model": SDXL, "input": {"prompt": "x", "width": 16}})
    assert "input: 'prompt' is a required property" in first_text(missing)
    assert "input.width: 16 is less than the minimum of 256" in first_text(too_small)
    assert kinds(emulator_state) == [f"schema {SDXL}"]  # the schema is fetched once, nothing run


async def test_run_model_with_an_unknown_model_points_to_list_models(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": "@cf/nobody/missing", "input": {"prompt": "hi"}})
    assert result.is_error
    assert "no model named @cf/nobody/missing" in first_text(result) and "list_models" in first_text(result)
    assert kinds(emulator_state) == ["schema @cf/nobody/missing"]


async def test_run_model_refuses_a_malformed_model_id_before_any_request(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": "@cf/../../user/tokens/verify", "input": {}})
    assert result.is_error and "not a Workers AI model id" in first_text(result)
    assert emulator_state.requests == []


async def test_run_model_saves_a_png_answer_at_the_requested_size_and_links_it(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool(
            "run_model", {"model": SDXL, "input": {"prompt": "a lighthouse", "width": 320, "height": 256}}
        )
        assert not result.is_error
        link = link_of(result)
        read = await client.read_resource(link.uri)
    path = settings.output_dir / link.name
    assert str(path) in first_text(result) and path.suffix == ".png"
    previews = [block for block in result.content if isinstance(block, ImageContent)]
    assert len(previews) == 1 and base64.b64decode(previews[0].data)  # shown per the media policy
    assert link.mime_type == "image/png" and link.uri.endswith(path.name) and link.size == path.stat().st_size
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (320, 256))
    blob = read.contents[0]
    assert isinstance(blob, BlobResourceContents)
    assert base64.b64decode(blob.blob) == path.read_bytes()


async def test_run_model_saves_the_base64_image_of_a_json_answer_and_keeps_a_short_note_in_the_json(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": FLUX, "input": {"prompt": "a red square", "steps": 2}})
        assert not result.is_error
        link = link_of(result)
        read = await client.read_resource(link.uri)
    text = "".join(block.text for block in result.content if isinstance(block, TextContent))
    assert len(text.encode()) < 8_000
    answer = json.loads(first_text(result))
    note = answer["result"]["image"]
    path = Path(note.split("saved as ", 1)[1].split(",", 1)[0])
    assert note.startswith("[image/png, ") and str(link.uri) in note and len(note) < 300
    with Image.open(path) as image:
        assert image.format == "PNG"
    (preview,) = [block for block in result.content if isinstance(block, ImageContent)]
    assert len(preview.data) <= settings.preview_max_bytes * 4 // 3
    blob = read.contents[0]
    assert isinstance(blob, BlobResourceContents)
    assert base64.b64decode(blob.blob) == path.read_bytes()


async def test_run_model_saves_the_base64_audio_of_a_json_answer_as_an_mp3_with_an_audio_block(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": MELOTTS, "input": {"prompt": "hello there"}})
    assert not result.is_error
    text = "".join(block.text for block in result.content if isinstance(block, TextContent))
    assert len(text.encode()) < 8_000
    note = json.loads(first_text(result))["result"]["audio"]
    assert note.startswith("[audio/mpeg, ") and ".mp3" in note
    (audio,) = [block for block in result.content if isinstance(block, AudioContent)]
    saved = Path(note.split("saved as ", 1)[1].split(",", 1)[0])
    assert base64.b64decode(audio.data) == saved.read_bytes()
    assert link_of(result).mime_type == "audio/mpeg"


async def test_run_model_writes_a_json_answer_over_the_inline_limit_to_a_file(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    settings = make_settings(tmp_path, max_result_bytes=64_000)
    texts = [f"sentence {i}" for i in range(40)]
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": "@cf/baai/bge-small-en-v1.5", "input": {"text": texts}})
        assert not result.is_error
        link = link_of(result)
        read = await client.read_resource(link.uri)
    assert "too large to show inline" in first_text(result)
    assert link.mime_type == "application/json"
    contents = read.contents[0]
    assert isinstance(contents, TextResourceContents)
    saved = json.loads(contents.text)
    assert saved["shape"] == [40, 384] and len(saved["data"]) == 40
    assert len(result.model_dump_json()) < 2_000


async def test_run_model_declares_no_output_schema_and_may_write_files(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    run_model = tools["run_model"]
    assert run_model.output_schema is None
    assert run_model.annotations is not None and run_model.annotations.read_only_hint in (
        None,
        False,
    )  # false is the default
    assert set(run_model.input_schema["required"]) == {"model", "input"}
    assert "billed" in (run_model.description or "").lower()


async def test_run_model_sends_unchecked_with_a_note_when_the_schema_cannot_be_read(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    forward = httpx2.ASGITransport(app=emulator_app)

    async def schema_down(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/ai/models/schema"):
            body = {"success": False, "errors": [{"code": 7000, "message": "Service unavailable"}], "result": None}
            return httpx2.Response(503, json=body)
        return await forward.handle_async_request(request)

    no_retries = settings.model_copy(update={"max_retries": 0})
    async with open_session(no_retries, upstream=httpx2.MockTransport(schema_down)) as client:
        result = await client.call_tool(
            "run_model", {"model": "@cf/meta/m2m100-1.2b", "input": {"text": "hello", "target_lang": "fr"}}
        )
    assert not result.is_error
    assert json.loads(first_text(result))["result"]["translated_text"]
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    assert any("sent unchecked" in text for text in texts)
    assert kinds(emulator_state) == ["run @cf/meta/m2m100-1.2b"]  # the failed look-up never reached the emulator


async def test_run_model_still_refuses_a_model_cloudflare_says_does_not_exist(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("run_model", {"model": "@cf/nobody/no-such-model", "input": {"text": "hi"}})
    assert result.is_error and "list_models" in first_text(result)
    assert [kind for kind in kinds(emulator_state) if kind.startswith("run ")] == []
