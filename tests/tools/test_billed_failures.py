"""Nothing crashes after a call is billed: a full output disk, or a detector answer for an image Pillow
cannot fully decode, is a sentence that says the call was billed and where any partial result is."""

from __future__ import annotations

import errno
import io
import json
import random
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.media import outputs

CALLS: dict[str, dict[str, Any]] = {
    "generate_image": {"prompt": "a red square"},
    "text_to_speech": {"text": "hello there"},
    "detect_objects": {},
}


def _png(width: int = 96, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), random.Random(3).randbytes(width * height * 3)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("tool", list(CALLS))
async def test_a_full_output_disk_after_the_call_is_a_sentence_saying_it_was_billed(
    tmp_path: Path, emulator_app: Starlette, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    arguments = dict(CALLS[tool])
    if tool == "detect_objects":
        (tmp_path / "photo.png").write_bytes(_png())
        arguments["image"] = str(tmp_path / "photo.png")

    def full_disk(fd: int, data: bytes) -> None:
        import os

        os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "_write", full_disk)
    async with open_session(make_settings(tmp_path), upstream=emulator_app, raise_exceptions=False) as client:
        with anyio.fail_after(30):
            result = await client.call_tool(tool, arguments)
    text = text_of(result)
    assert result.is_error, text
    assert "the call was billed" in text and "no space left on device" in text, text
    assert "WORKERS_AI_MCP_OUTPUT_DIR" in text
    assert not list((tmp_path / "outputs").glob(".partial-*"))  # nothing half-written is left behind


async def test_a_detector_answer_for_an_image_pillow_cannot_fully_decode_keeps_the_objects_in_a_sentence(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    whole = _png(200, 150)
    truncated = whole[: len(whole) * 2 // 3]  # the header reads; the pixels stop short
    (tmp_path / "cut.png").write_bytes(truncated)
    detections = [{"label": "cat", "score": 0.93, "box": {"xmin": 10, "ymin": 12, "xmax": 90, "ymax": 80}}]

    async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/ai/run/" in scope["path"]:
            answer = JSONResponse({"success": True, "errors": [], "messages": [], "result": detections})
            await answer(scope, receive, send)
            return
        await emulator_app(scope, receive, send)

    async with open_session(make_settings(tmp_path), upstream=upstream, raise_exceptions=False) as client:
        with anyio.fail_after(30):
            result = await client.call_tool("detect_objects", {"image": str(tmp_path / "cut.png"), "min_score": 0.1})
    text = text_of(result)
    assert result.is_error, text
    assert "the call was billed" in text and "truncated" in text, text
    found = json.loads(text[text.index("[") :])
    assert found[0]["label"] == "cat" and found[0]["score"] == 0.93
