"""Pixels before bytes: an image whose header declares more pixels than the cap is refused with a sentence
before anything is decoded or sent (a few KB of PNG can declare 150 megapixels)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette

from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

WIDTH, HEIGHT = 12_000, 12_500  # 150 megapixels


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A 1-bit greyscale PNG of `width`x`height` zero pixels: a few KB that decode to gigabytes as RGB."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = bytes((1 + (width + 7) // 8) * height)  # each row: filter byte 0 and all-zero pixels
    pixels = zlib.compress(rows, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("describe_image", {}),
        ("describe_image", {"model": "@cf/llava-hf/llava-1.5-7b-hf"}),
        ("detect_objects", {}),
        ("classify_image", {}),
    ],
    ids=["describe_image", "describe_image-llava-array", "detect_objects", "classify_image"],
)
async def test_a_150_megapixel_png_of_a_few_kb_is_refused_with_a_sentence_before_it_is_sent(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, tool: str, arguments: dict[str, str]
) -> None:
    data = bomb_png()
    assert len(data) < 100_000
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    async with open_session(make_settings(tmp_path), upstream=emulator_app, raise_exceptions=False) as client:
        with anyio.fail_after(60):
            result = await client.call_tool(tool, {"image": str(path), **arguments})
    text = text_of(result)
    assert result.is_error, text
    assert "150 megapixels" in text and "WORKERS_AI_MCP_MAX_IMAGE_PIXELS" in text, text
    assert not [r for r in emulator_state.requests if "/ai/run/" in r.path]  # nothing sent, nothing billed


async def test_the_pixel_cap_is_a_setting(tmp_path: Path, emulator_app: Starlette) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(bomb_png(2000, 1000))  # 2 megapixels
    settings = make_settings(tmp_path, max_image_pixels=1_000_000)
    async with open_session(settings, upstream=emulator_app, raise_exceptions=False) as client:
        with anyio.fail_after(60):
            result = await client.call_tool("detect_objects", {"image": str(path)})
    assert result.is_error and "2 megapixels, over the limit of 1 megapixels" in text_of(result)
