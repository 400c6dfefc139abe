"""Minimal valid arguments for every tool, for `selftest`, smoke checks and the generic test suites.

Each tool module declares its own samples beside its tools (`SAMPLES`, see `tools/host/samples.py`),
collected over the registry by `registered.tool_samples`: cheap, meaningful inputs (a few tokens, a
tiny image, half a second of silence). Whatever they leave out that a tool's input schema requires
is filled from the schema. Media inputs are written into `workdir`, which must be an input root.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from ..catalog.model_input import branches
from ..jsonvalues import as_dict, as_list
from ..tools.host.samples import AUDIO, CHEAP_MODEL, IMAGE, Earlier
from .registered import tool_samples

SAMPLE_IMAGE = "sample.png"
SAMPLE_AUDIO = "sample.mp3"

# A free-running MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz, no padding, joint stereo.
_MP3_FRAME_HEADER = bytes.fromhex("FFFB9064")
_MP3_FRAME_BYTES = 417  # floor(144 * 128_000 / 44_100)
_MP3_FRAMES = 20  # about half a second

# Tried in order against a string parameter's pattern, if it has one.
_WORDS = ("test", "en", "tst", "t", "1", "test-1", "test_1")


def sample_arguments(
    tool_name: str,
    input_schema: dict[str, Any],
    workdir: Path,
    earlier: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Minimal valid arguments for `tool_name`: its module's samples where they fit, required fields filled otherwise.

    `earlier` maps tools already called to their structured results, for tools that follow up on
    another's answer (get_batch takes the job_id submit_batch returned).
    """
    properties = as_dict(input_schema.get("properties"))
    required = [name for name in as_list(input_schema.get("required")) if isinstance(name, str)]
    defs = as_dict(input_schema.get("$defs"))
    arguments: dict[str, Any] = {}
    for name, hint in tool_samples().get(tool_name, {}).items():
        if name not in properties:
            continue
        value = (
            (earlier or {}).get(hint.tool, {}).get(hint.field) if isinstance(hint, Earlier) else _media(hint, workdir)
        )
        if value is not None:
            arguments[name] = value
    for name in required:
        if name not in arguments:
            arguments[name] = _fill(name, as_dict(properties.get(name)), defs, workdir)
    return arguments


def sample_png(workdir: Path) -> Path:
    """A 64×64 PNG with a red square on white, written once into `workdir`."""
    path = workdir / SAMPLE_IMAGE
    if not path.exists():
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (64, 64), "white")
        ImageDraw.Draw(image).rectangle((16, 16, 47, 47), fill="red")
        image.save(path, format="PNG")
    return path


def sample_mp3(workdir: Path) -> Path:
    """Half a second of silent MP3 frames, written once into `workdir`."""
    path = workdir / SAMPLE_AUDIO
    if not path.exists():
        frame = _MP3_FRAME_HEADER + bytes(_MP3_FRAME_BYTES - len(_MP3_FRAME_HEADER))
        path.write_bytes(frame * _MP3_FRAMES)
    return path


def _media(value: Any, workdir: Path) -> Any:
    if value == IMAGE:
        return str(sample_png(workdir))
    if value == AUDIO:
        return str(sample_mp3(workdir))
    return value


def _fill(name: str, schema: dict[str, Any], defs: dict[str, Any], workdir: Path) -> Any:
    """A small value that satisfies `schema`; `name` decides media paths and model ids."""
    schema = _resolve(schema, defs)
    given = _given(schema)
    if given is not None:
        return given[0]
    if "anyOf" in schema or "oneOf" in schema:
        usable = [arm for arm in branches(schema) if _resolve(arm, defs).get("type") != "null"]
        if usable:
            return _fill(name, usable[0], defs, workdir)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in cast(list[Any], kind) if k != "null"]
        kind = kinds[0] if kinds else "null"
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        item = as_dict(schema.get("items"))
        return [_fill(name, item, defs, workdir) for _ in range(count)]
    if kind == "object" or "properties" in schema:
        properties = as_dict(schema.get("properties"))
        required = [key for key in as_list(schema.get("required")) if isinstance(key, str)]
        return {key: _fill(key, as_dict(properties.get(key)), defs, workdir) for key in required}
    scalars = {
        "string": lambda: _string(name, schema, workdir),
        "integer": lambda: int(_number(schema, integer=True)),
        "number": lambda: _number(schema, integer=False),
        "boolean": lambda: False,
    }
    make = scalars.get(str(kind))
    return make() if make is not None else None


def _given(schema: dict[str, Any]) -> tuple[Any] | None:
    """`(value,)` when the schema names its value: `const`, the first `enum` member, or a non-null default."""
    if "const" in schema:
        return (schema["const"],)
    enum = as_list(schema.get("enum"))
    if enum:
        return (enum[0],)
    if schema.get("default") is not None:
        return (schema["default"],)
    return None


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return as_dict(defs.get(ref.removeprefix("#/$defs/")))
    return schema


def _string(name: str, schema: dict[str, Any], workdir: Path) -> str:
    lowered = name.lower()
    if "image" in lowered:
        return str(sample_png(workdir))
    if "audio" in lowered:
        return str(sample_mp3(workdir))
    if lowered == "model" or lowered.endswith("_model"):
        return CHEAP_MODEL
    minimum = int(schema.get("minLength", 0))
    maximum = int(schema.get("maxLength", 64))
    candidates = [word.ljust(minimum, "t")[: max(minimum, maximum)] for word in _WORDS]
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        matching = [word for word in candidates if re.search(pattern, word)]
        return matching[0] if matching else candidates[0]
    return candidates[0]


def _number(schema: dict[str, Any], *, integer: bool) -> float:
    """The smallest simple value within the bounds: the minimum, just above an exclusive one, or 1."""
    step = 1.0 if integer else 0.5
    value = 1.0
    if isinstance(low := schema.get("minimum"), int | float):
        value = float(low)
    elif isinstance(low := schema.get("exclusiveMinimum"), int | float):
        value = float(low) + step
    if isinstance(multiple := schema.get("multipleOf"), int | float) and multiple > 0:
        value = math.ceil(value / multiple) * float(multiple)
    if isinstance(high := schema.get("maximum"), int | float) and value > high:
        value = float(high)
    if isinstance(high := schema.get("exclusiveMaximum"), int | float) and value >= high:
        value = float(high) - step
    return value
