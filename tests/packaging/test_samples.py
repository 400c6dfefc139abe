"""Samples: every tool module declares them for its tools, its input schema accepts them; real media files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from support.repository import live_tools
from workers_ai_mcp.media.sniff import sniff
from workers_ai_mcp.selftest.registered import media_parameters, tool_families, tool_samples
from workers_ai_mcp.selftest.samples import sample_arguments, sample_mp3, sample_png

UNKNOWN_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "Item": {
            "type": "object",
            "properties": {"label": {"type": "string", "minLength": 6}, "weight": {"type": "number", "minimum": 2}},
            "required": ["label", "weight"],
        }
    },
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z]{2}$"},
        "count": {"type": "integer", "minimum": 3, "maximum": 9},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 2},
        "note": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
        "flag": {"type": "boolean"},
        "photo_image": {"type": "string"},
        "voice_audio": {"type": "string"},
        "optional": {"type": "string"},
    },
    "required": ["code", "count", "ratio", "mode", "items", "note", "flag", "photo_image", "voice_audio"],
}


async def test_every_tool_has_samples_in_its_module_and_every_sample_names_a_tool() -> None:
    listed = [tool.name for tool in await live_tools()]
    assert list(tool_families()) == listed
    missing = [name for name in listed if name not in tool_samples()]
    assert not missing, f"add SAMPLES entries beside these tools, in their modules: {missing}"
    assert set(tool_samples()) == set(listed)


def test_media_inputs_are_the_arguments_whose_samples_are_sample_files() -> None:
    assert media_parameters("classify_image") == {"image": "image"}
    assert media_parameters("transcribe_audio") == {"audio": "audio"}
    assert media_parameters("translate") == {}


async def test_every_tool_gets_arguments_its_own_input_schema_accepts(tmp_path: Path) -> None:
    tools = await live_tools()
    earlier = {"submit_batch": {"job_id": "job-1"}}
    for tool in tools:
        arguments = sample_arguments(tool.name, dict(tool.input_schema), tmp_path, earlier)
        jsonschema.validate(arguments, tool.input_schema, cls=jsonschema.Draft202012Validator)
    assert tools


def test_an_unknown_tool_gets_every_required_field_filled_to_fit_its_schema(tmp_path: Path) -> None:
    arguments = sample_arguments("not_a_known_tool", UNKNOWN_TOOL_SCHEMA, tmp_path)
    jsonschema.validate(arguments, UNKNOWN_TOOL_SCHEMA, cls=jsonschema.Draft202012Validator)
    assert "optional" not in arguments
    assert Path(arguments["photo_image"]) == tmp_path / "sample.png"
    assert Path(arguments["voice_audio"]) == tmp_path / "sample.mp3"


def test_a_known_tool_keeps_only_the_hints_its_schema_has(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}
    assert sample_arguments("chat", schema, tmp_path) == {"prompt": "Say hi"}


def test_a_follow_up_tool_takes_the_earlier_tools_answer(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"job_id": {"type": "string"}}, "required": ["job_id"]}
    assert sample_arguments("get_batch", schema, tmp_path, {"submit_batch": {"job_id": "abc"}}) == {"job_id": "abc"}


def test_the_sample_image_is_a_small_png_and_the_sample_audio_is_mp3_frames(tmp_path: Path) -> None:
    png, mp3 = sample_png(tmp_path), sample_mp3(tmp_path)
    with Image.open(png) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))
    audio = mp3.read_bytes()
    frames = [audio[i : i + 417] for i in range(0, len(audio), 417)]
    assert len(frames) > 1 and all(frame[:4] == b"\xff\xfb\x90\x64" and len(frame) == 417 for frame in frames)
    assert sniff(png.read_bytes()) == "image/png"
    assert sniff(audio) == "audio/mpeg"


@pytest.mark.parametrize("writer", [sample_png, sample_mp3], ids=["png", "mp3"])
def test_sample_files_are_written_once_and_reused(tmp_path: Path, writer: Any) -> None:
    first = writer(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert writer(tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
