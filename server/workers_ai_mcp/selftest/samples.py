"""Minimal valid arguments for every tool, for `selftest` and smoke checks.

Known tools get cheap, meaningful inputs (a few tokens, a tiny image, half a second of silence);
any other tool gets its required parameters filled from its input schema, so new tools are covered
without touching this file. Media inputs are written into `workdir`, which must be an input root.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from ..catalog.model_input import branches
from ..jsonvalues import as_dict, as_list

SAMPLE_IMAGE = "sample.png"
SAMPLE_AUDIO = "sample.mp3"

# A free-running MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz, no padding, joint stereo.
_MP3_FRAME_HEADER = bytes.fromhex("FFFB9064")
_MP3_FRAME_BYTES = 417  # floor(144 * 128_000 / 44_100)
_MP3_FRAMES = 20  # about half a second

_CHEAP_MODEL = "@cf/baai/bge-base-en-v1.5"
# Tried in order against a string parameter's pattern, if it has one.
_WORDS = ("test", "en", "tst", "t", "1", "test-1", "test_1")

# Hints per tool: used where the tool's schema has a parameter of that name. `<image>` and `<audio>`
# stand for the path of a sample file in the work folder.
_HINTS: dict[str, dict[str, Any]] = {
    "chat": {"prompt": "Say hi", "max_tokens": 16},
    "complete": {"prompt": "Once upon a time", "max_tokens": 16},
    "respond": {"input": "Say hi", "max_output_tokens": 16, "max_tokens": 16},
    "embed": {"texts": ["hello world"], "text": "hello world"},
    "rank_documents": {"query": "cats", "documents": ["Cats purr.", "Dogs bark."]},
    "translate": {"text": "hello", "target_lang": "fr"},
    "summarize": {
        "text": "Workers AI runs machine learning models on Cloudflare's network. It offers text, image and "
        "audio models behind one REST API, billed per use.",
        "max_length": 32,
    },
    "classify_text": {"text": "I love this."},
    "classify_image": {"image": "<image>", "top_k": 1},
    "detect_objects": {"image": "<image>"},
    "describe_image": {"image": "<image>", "prompt": "Describe the image in five words.", "max_tokens": 16},
    "transcribe_audio": {"audio": "<audio>"},
    "generate_image": {"prompt": "a red square", "steps": 1},
    "text_to_speech": {"text": "Hi."},
    "run_model": {"model": _CHEAP_MODEL, "input": {"text": ["hello"]}, "inputs": {"text": ["hello"]}},
    "list_models": {"search": "llama", "per_page": 1},
    "get_model_schema": {"model": _CHEAP_MODEL},
    "submit_batch": {"model": _CHEAP_MODEL, "inputs": [{"text": "hello world"}]},
    "list_batches": {"limit": 1},
}

# Arguments taken from an earlier tool's structured result: tool -> {parameter: (earlier tool, field)}.
_FROM_EARLIER: dict[str, dict[str, tuple[str, str]]] = {
    "get_batch": {"job_id": ("submit_batch", "job_id")},
}


def sample_arguments(
    tool_name: str,
    input_schema: dict[str, Any],
    workdir: Path,
    earlier: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Minimal valid arguments for `tool_name`: known hints where they fit, required fields filled otherwise.

    `earlier` maps tools already called to their structured results, for tools that follow up on
    another's answer (get_batch takes the job_id submit_batch returned).
    """
    properties = as_dict(input_schema.get("properties"))
    required = [name for name in as_list(input_schema.get("required")) if isinstance(name, str)]
    defs = as_dict(input_schema.get("$defs"))
    arguments: dict[str, Any] = {}
    for name, value in _HINTS.get(tool_name, {}).items():
        if name in properties:
            arguments[name] = _media(value, workdir)
    for name, (source, field) in _FROM_EARLIER.get(tool_name, {}).items():
        value = (earlier or {}).get(source, {}).get(field)
        if name in properties and value is not None:
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
    if value == "<image>":
        return str(sample_png(workdir))
    if value == "<audio>":
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
        return _CHEAP_MODEL
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
