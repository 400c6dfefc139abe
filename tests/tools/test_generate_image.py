"""generate_image through a real MCP session against the emulator: bodies, files, previews, progress."""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from mcp import Client
from mcp.types import BlobResourceContents
from starlette.applications import Starlette

from support.media import Captured, assert_valid, decoded_size, real_input_schema, recording_upstream
from support.results import images_of, links_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, RecordedRequest
from workers_ai_mcp.tools import images
from workers_ai_mcp.tools.host import progress as host_progress

Connect = Callable[..., AbstractAsyncContextManager[Client]]

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def connect(tmp_path: Path, emulator_app: Starlette, captured: Captured) -> Connect:
    """Opens a session in the test's own task; `mode` picks the protocol, other keywords override settings."""

    def session(mode: str = "auto", **overrides: Any) -> AbstractAsyncContextManager[Client]:
        return open_session(
            make_settings(tmp_path, **overrides), upstream=recording_upstream(emulator_app, captured), mode=mode
        )

    return session


def run_requests(state: EmulatorState) -> list[RecordedRequest]:
    return [r for r in state.requests if "/ai/run/" in r.path]


async def test_flux_answers_base64_json_which_is_saved_as_a_png_and_previewed(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    async with connect() as client:
        result = await client.call_tool("generate_image", {"prompt": "a lighthouse at dusk", "steps": 6})
        assert not result.is_error, text_of(result)
        body = captured.last_json()
        assert_valid(body, real_input_schema("flux-1-schnell.json"))
        assert body == {"prompt": "a lighthouse at dusk", "steps": 6}
        (link,) = links_of(result)
        saved = tmp_path / "outputs" / link.name
        full = saved.read_bytes()
        assert saved.suffix == ".png" and full.startswith(b"\x89PNG")
        assert decoded_size(full) == (1024, 1024)  # flux's only size
        assert link.size == len(full) and link.mime_type == "image/png"
        (preview,) = images_of(result)
        shown = base64.b64decode(preview.data)
        assert len(shown) <= 300_000 and max(decoded_size(shown)) <= 1024
        assert str(saved) in text_of(result) and "1024x1024" in text_of(result)
        read = await client.read_resource(str(link.uri))
        (blob,) = read.contents
        assert isinstance(blob, BlobResourceContents) and base64.b64decode(blob.blob) == full


async def test_sdxl_answers_a_raw_png_at_the_requested_size(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    arguments = {
        "prompt": "a red bicycle",
        "model": SDXL,
        "width": 512,
        "height": 768,
        "steps": 12,
        "seed": 42,
        "negative_prompt": "blur",
        "guidance": 6.5,
    }
    async with connect() as client:
        result = await client.call_tool("generate_image", arguments)

    assert not result.is_error, text_of(result)
    body = captured.last_json()
    assert_valid(body, real_input_schema("stable-diffusion-xl-base-1.0.json"))
    assert body == {
        "prompt": "a red bicycle",
        "width": 512,
        "height": 768,
        "num_steps": 12,
        "seed": 42,
        "negative_prompt": "blur",
        "guidance": 6.5,
    }
    (link,) = links_of(result)
    assert decoded_size((tmp_path / "outputs" / link.name).read_bytes()) == (512, 768)
    assert "seed 42" in text_of(result)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"negative_prompt": "blur"}, "does not take `negative_prompt`"),
        ({"width": 512}, "does not take `width`"),
        ({"steps": 12}, "`steps` must be at most 8"),
        ({"steps": 30, "model": SDXL}, "`steps` must be at most 20"),
    ],
)
async def test_options_the_model_cannot_take_are_refused_before_sending(
    connect: Connect, emulator_state: EmulatorState, arguments: dict[str, Any], message: str
) -> None:
    async with connect() as client:
        result = await client.call_tool("generate_image", {"prompt": "a cat", **arguments})

    assert result.is_error and message in text_of(result)
    assert run_requests(emulator_state) == []


async def test_models_outside_the_table_are_driven_by_their_schema(
    connect: Connect, emulator_state: EmulatorState, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "KNOWN", {})

    async with connect() as client:
        refused = await client.call_tool("generate_image", {"prompt": "a cat", "negative_prompt": "dogs"})
        made = await client.call_tool("generate_image", {"prompt": "a cat", "model": SDXL, "steps": 5})

    assert refused.is_error and "does not take `negative_prompt`" in text_of(refused)
    assert not made.is_error, text_of(made)
    assert captured.last_json() == {"prompt": "a cat", "num_steps": 5}
    schema_reads = [r for r in emulator_state.requests if r.path.endswith("models/schema")]
    assert {parse_qs(r.query)["model"][0] for r in schema_reads} == {FLUX, SDXL}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_progress_is_reported_while_the_model_works(
    connect: Connect, emulator_state: EmulatorState, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(host_progress, "HEARTBEAT_SECONDS", 0.05)
    emulator_state.latency = 0.4
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with connect(mode=mode) as client:
        result = await client.call_tool("generate_image", {"prompt": "a slow painting"}, progress_callback=on_progress)

    assert not result.is_error, text_of(result)
    assert updates[0] == (0, 1, "generating") and updates[-1] == (1, 1, "done")
    beats = updates[1:-1]
    assert len(beats) >= 2 and all((message or "").startswith("generating (") for _, _, message in beats)
    progress = [p for p, _, _ in updates]
    assert progress == sorted(progress) and all(0 < p < 1 for p in progress[1:-1])


async def test_file_mode_links_the_image_without_showing_it(connect: Connect) -> None:
    async with connect(media_mode="file") as client:
        result = await client.call_tool("generate_image", {"prompt": "a lighthouse"})

    assert not result.is_error and images_of(result) == []
    assert len(links_of(result)) == 1


async def test_full_mode_shows_the_file_itself(connect: Connect, tmp_path: Path) -> None:
    async with connect(media_mode="full") as client:
        result = await client.call_tool("generate_image", {"prompt": "a lighthouse", "model": SDXL, "width": 640})

    (shown,) = images_of(result)
    (link,) = links_of(result)
    assert base64.b64decode(shown.data) == (tmp_path / "outputs" / link.name).read_bytes()
    assert shown.mime_type == "image/png"
