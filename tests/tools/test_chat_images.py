"""`chat` with `images`: which models see them is read from each model's schema and catalog entry,
and a refusal names a model that then takes the same images through the same tool."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from support.emulated import LLAMA_33, model_calls
from support.results import structured, text_of
from support.text_tools import Call, Wire
from workers_ai_mcp.emulator import EmulatorState

VISION_32 = "@cf/meta/llama-3.2-11b-vision-instruct"  # its own `image` field; the catalog row speaks of images
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"  # image_url parts in its own schema
TEXT_31 = "@cf/meta/llama-3.1-70b-instruct"  # publishes the same `image` field, but is a text model
DEEPSEEK = "@cf/deepseek-ai/deepseek-v4-flash-0731"  # OpenAI's shared schema, no vision in its catalog row
APERTUS = "@cf/swiss-ai/apertus-v1.5-8b"  # vision per the catalog, no published schema


def _png(tmp_path: Path) -> str:
    path = tmp_path / "otter.png"
    Image.new("RGB", (8, 8), "brown").save(path)
    return str(path)


async def test_llama_3_2_vision_gets_the_image_in_its_own_image_field(call: Call, wire: Wire, tmp_path: Path) -> None:
    result = await call("chat", {"prompt": "What colour is this?", "images": [_png(tmp_path)], "model": VISION_32})
    assert not result.is_error, text_of(result)
    assert structured(result)["model"] == VISION_32
    (body,) = wire.bodies()
    assert isinstance(body["image"], list) and body["image"][:4] == [0x89, 0x50, 0x4E, 0x47]  # the PNG's bytes
    assert body["messages"][-1] == {"role": "user", "content": "What colour is this?"}


async def test_llama_4_scout_gets_the_image_as_a_data_uri_part(call: Call, wire: Wire, tmp_path: Path) -> None:
    result = await call("chat", {"prompt": "What colour is this?", "images": [_png(tmp_path)], "model": SCOUT})
    assert not result.is_error, text_of(result)
    parts = wire.bodies()[0]["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_a_text_model_publishing_an_image_field_is_refused_before_sending(
    call: Call, emulator_state: EmulatorState, tmp_path: Path
) -> None:
    for model in (TEXT_31, DEEPSEEK):
        result = await call("chat", {"prompt": "What is this?", "images": [_png(tmp_path)], "model": model})
        assert result.is_error and f"{model} cannot see images" in text_of(result)
    assert model_calls(emulator_state) == []


async def test_a_vision_model_without_a_schema_is_refused_and_never_suggested(
    call: Call, emulator_state: EmulatorState, tmp_path: Path
) -> None:
    result = await call("chat", {"prompt": "What is this?", "images": [_png(tmp_path)], "model": APERTUS})
    assert result.is_error and "publishes no input schema, so how it takes images is unknown" in text_of(result)
    assert model_calls(emulator_state) == []
    default = await call("chat", {"prompt": "What is this?", "images": [_png(tmp_path)]})
    assert f"{LLAMA_33} cannot see images" in text_of(default) and APERTUS not in text_of(default)


async def test_the_vision_model_a_refusal_names_takes_the_same_images(
    call: Call, emulator_state: EmulatorState, tmp_path: Path
) -> None:
    arguments = {"prompt": "What is this?", "images": [_png(tmp_path)]}
    refused = await call("chat", arguments)
    found = re.search(r"pass model=(\S+) \(a vision model\)", text_of(refused))
    assert found is not None, text_of(refused)
    result = await call("chat", arguments | {"model": found.group(1)})
    assert not result.is_error, text_of(result)
    assert len(model_calls(emulator_state)) == 1
