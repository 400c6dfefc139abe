"""classify_image, detect_objects and describe_image through a real MCP session against the emulator."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import BlobResourceContents
from starlette.applications import Starlette

from support.media import (
    Captured,
    assert_valid,
    data_uri,
    decoded_size,
    noise_png,
    photo_jpeg,
    real_input_schema,
    recording_upstream,
    serve_files,
    small_png,
    write,
)
from support.results import images_of, links_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, RecordedRequest

Connect = Callable[[], AbstractAsyncContextManager[Client]]

RESNET = "@cf/microsoft/resnet-50"
LLAVA = "@cf/llava-hf/llava-1.5-7b-hf"


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def connect(tmp_path: Path, emulator_app: Starlette, captured: Captured) -> Connect:
    """Opens a session in the test's own task (an async fixture is set up and torn down in two)."""
    settings = make_settings(tmp_path, allowed_url_hosts=["127.0.0.1"])
    return lambda: open_session(settings, upstream=recording_upstream(emulator_app, captured))


@pytest.fixture
async def files_url() -> AsyncIterator[str]:
    files = {"/cat.png": (small_png(), "image/png"), "/notes.png": (b"just text\n", "image/png")}
    async with serve_files(files) as base:
        yield base


def run_requests(state: EmulatorState) -> list[RecordedRequest]:
    return [r for r in state.requests if "/ai/run/" in r.path]


async def test_classify_image_sends_the_file_itself_as_the_request_body(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    image = noise_png(600, 580)  # about 1 MiB that does not compress
    path = write(tmp_path, "big.png", image)
    assert len(image) > 1_000_000

    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": str(path)})

        assert not result.is_error, text_of(result)
        request = run_requests(emulator_state)[-1]
        assert request.path.endswith(RESNET)
        assert request.content_type == "image/png"
        assert len(image) <= request.body_size <= 1.01 * len(image)


async def test_classify_image_returns_labels_best_first_limited_to_top_k(connect: Connect, tmp_path: Path) -> None:
    path = write(tmp_path, "red.png", small_png())

    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": str(path), "top_k": 2})

        assert not result.is_error, text_of(result)
        data = result.structured_content
        assert data is not None and data["model"] == RESNET
        scores = [item["score"] for item in data["labels"]]
        assert len(scores) == 2 and scores == sorted(scores, reverse=True)
        assert all(isinstance(item["label"], str) and item["label"] for item in data["labels"])


@pytest.mark.parametrize("form", ["data URI", "base64"])
async def test_classify_image_accepts_inline_image_data(
    connect: Connect, emulator_state: EmulatorState, form: str
) -> None:
    image = small_png()
    value = data_uri(image, "image/png") if form == "data URI" else base64.b64encode(image).decode()

    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": value})

        assert not result.is_error, text_of(result)
        assert run_requests(emulator_state)[-1].body_size == len(image)


async def test_classify_image_fetches_an_image_url_on_an_allowed_host(
    connect: Connect, files_url: str, emulator_state: EmulatorState
) -> None:
    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": f"{files_url}/cat.png"})

        assert not result.is_error, text_of(result)
        assert run_requests(emulator_state)[-1].body_size == len(small_png())


@pytest.mark.parametrize("tool", ["detect_objects", "describe_image"])
@pytest.mark.parametrize("form", ["URL", "data URI", "base64", "path"])
async def test_every_vision_tool_takes_every_input_form(
    connect: Connect, files_url: str, tmp_path: Path, emulator_state: EmulatorState, tool: str, form: str
) -> None:
    image = small_png()
    value = {
        "URL": f"{files_url}/cat.png",
        "data URI": data_uri(image, "image/png"),
        "base64": base64.b64encode(image).decode(),
        "path": str(write(tmp_path, "cat.png", image)),
    }[form]

    async with connect() as client:
        result = await client.call_tool(tool, {"image": value})

        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        assert len(run_requests(emulator_state)) == 1


async def test_a_url_that_serves_text_as_png_is_refused_before_any_model_call(
    connect: Connect, files_url: str, emulator_state: EmulatorState
) -> None:
    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": f"{files_url}/notes.png"})

        assert result.is_error
        assert "not an image" in text_of(result)
        assert run_requests(emulator_state) == []


async def test_a_text_file_named_png_is_refused_before_any_model_call(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    path = write(tmp_path, "fake.png", b"this is only text\n")

    async with connect() as client:
        result = await client.call_tool("detect_objects", {"image": str(path)})

        assert result.is_error
        assert "not an image" in text_of(result)
        assert run_requests(emulator_state) == []


async def test_a_path_outside_the_input_root_is_refused(
    connect: Connect, tmp_path_factory: pytest.TempPathFactory, emulator_state: EmulatorState
) -> None:
    outside = write(tmp_path_factory.mktemp("elsewhere"), "cat.png", small_png())

    async with connect() as client:
        result = await client.call_tool("classify_image", {"image": str(outside)})

        assert result.is_error
        assert run_requests(emulator_state) == []


async def test_detect_objects_returns_boxes_inside_the_image_and_an_annotated_copy(
    connect: Connect, tmp_path: Path
) -> None:
    image = photo_jpeg(640, 480)
    path = write(tmp_path, "street.jpg", image)

    async with connect() as client:
        result = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0.0})

        assert not result.is_error, text_of(result)
        data = result.structured_content
        assert data is not None
        assert (data["width"], data["height"]) == (640, 480)
        assert data["objects"], "the emulator always finds something"
        for found in data["objects"]:
            box = found["box"]
            assert 0 <= box["xmin"] <= box["xmax"] <= 640
            assert 0 <= box["ymin"] <= box["ymax"] <= 480
        saved = Path(data["annotated_image_path"])
        assert saved.parent == tmp_path / "outputs"
        assert decoded_size(saved.read_bytes()) == (640, 480)
        assert saved.read_bytes() != image
        # content: a summary, a preview, a link to the same file the structured content names
        assert f"{len(data['objects'])} object(s)" in text_of(result)
        (preview,) = images_of(result)
        assert decoded_size(base64.b64decode(preview.data)) == (640, 480)
        (link,) = links_of(result)
        assert str(link.uri) == data["annotated_image_uri"]
        read = await client.read_resource(data["annotated_image_uri"])
        (blob,) = read.contents
        assert isinstance(blob, BlobResourceContents)
        assert base64.b64decode(blob.blob) == saved.read_bytes()


async def test_detect_objects_leaves_out_objects_below_min_score(connect: Connect, tmp_path: Path) -> None:
    path = write(tmp_path, "street.jpg", photo_jpeg(320, 240))

    async with connect() as client:
        everything = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0.0})
        confident = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0.99})

        assert everything.structured_content and confident.structured_content
        assert everything.structured_content["objects"]
        assert confident.structured_content["objects"] == []
        assert "0 object(s)" in text_of(confident)


async def test_data_tools_publish_an_output_schema_and_media_tools_none(connect: Connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

        for name in ("classify_image", "detect_objects", "describe_image", "transcribe_audio"):
            assert tools[name].output_schema is not None, name
        for name in ("generate_image", "text_to_speech"):
            assert tools[name].output_schema is None, name
        detect_schema = tools["detect_objects"].output_schema or {}
        assert {"objects", "annotated_image_path", "annotated_image_uri"} <= set(detect_schema["properties"])
        assert tools["detect_objects"].annotations and tools["detect_objects"].annotations.read_only_hint in (
            None,
            False,
        )  # false is the default
        # billed, so not read-only either (absent is the spec's default, false)
        assert tools["classify_image"].annotations and not tools["classify_image"].annotations.read_only_hint
        assert tools["classify_image"].annotations.destructive_hint is False


async def test_describe_image_sends_a_body_that_fits_llavas_real_schema(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    image = small_png()
    path = write(tmp_path, "red.png", image)

    async with connect() as client:
        result = await client.call_tool(
            "describe_image", {"image": str(path), "prompt": "What colour is it?", "max_tokens": 64}
        )

        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        assert result.structured_content["model"] == LLAVA
        assert "What colour is it?" in result.structured_content["description"]
        body = captured.last_json()
        assert_valid(body, real_input_schema("llava-1.5-7b-hf.json"))
        assert body["prompt"] == "What colour is it?" and body["max_tokens"] == 64
        assert bytes(body["image"]) == image  # small enough to go as it is


async def test_describe_image_scales_a_large_photo_down_before_sending_its_bytes(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    path = write(tmp_path, "large.jpg", photo_jpeg(2400, 1600))

    async with connect() as client:
        result = await client.call_tool("describe_image", {"image": str(path)})

        assert not result.is_error, text_of(result)
        sent = bytes(captured.last_json()["image"])
        assert max(decoded_size(sent)) <= 768
        assert decoded_size(sent)[0] > decoded_size(sent)[1]  # same orientation


async def test_describe_image_reads_another_models_schema_and_refuses_a_prompt_it_cannot_take(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    path = write(tmp_path, "red.png", small_png())

    async with connect() as client:
        result = await client.call_tool("describe_image", {"image": str(path), "prompt": "Hi?", "model": RESNET})

        assert result.is_error
        assert "does not take `prompt`" in text_of(result)
        assert any("models/schema" in r.path for r in emulator_state.requests)
        assert run_requests(emulator_state) == []
