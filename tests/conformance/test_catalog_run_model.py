"""run_model over every model of the published catalog, with a minimal input derived from its schema.

The input is built from the published input schema alone (required fields only, the first branch
that is not a batch and needs no stream handle); multipart models get the form fields their
schema's handle carries, stream-handle models (nova-3) their audio by path. Each request must fit
the published input schema; each answer the output schema allows must become a result, not an error.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
from mcp.types import CallToolResult, TextContent

from conformance.published import Answer, Upstream, arms, index, png_bytes, schema_of, wav_bytes
from conformance.session import call_with_every_answer, session, text_of

MODELS = [row["name"] for row in index()]


def _handle(prop: Any) -> bool:
    return isinstance(prop, dict) and {"body", "contentType"} <= set(cast(dict[str, Any], prop).get("properties", {}))


def minimal(schema: dict[str, Any], name: str = "") -> Any:
    """The smallest value of a schema that a model would take: required fields only."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        return minimal(arms(schema)[0], name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in cast(list[str], kind) if k != "null")
    if kind == "object" or "properties" in schema:
        props = cast(dict[str, Any], schema.get("properties", {}))
        required = [key for key in schema.get("required", []) if isinstance(props.get(key), dict)]
        if not required and props:  # an object of optional fields still says something
            required = [next(iter(props))]
        value = {key: minimal(props[key], key) for key in required}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and len(value) < int(schema.get("minProperties", 0)):
            value["q1"] = minimal(cast(dict[str, Any], extra), "q1")
        return value
    if kind == "array":
        items = cast(dict[str, Any], schema.get("items", {"type": "number"}))
        return [minimal(items, name) for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind == "string":
        if name == "audio":
            return base64.b64encode(wav_bytes()).decode()
        if name == "image":
            return "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
        pattern = str(schema.get("pattern", ""))
        for candidate in ("16000", _literal(pattern), "hello".ljust(int(schema.get("minLength", 0)), "o")):
            if not pattern or re.search(pattern, candidate):
                return candidate
        raise AssertionError(f"no sample string for pattern {pattern!r}")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def _literal(pattern: str) -> str:
    """The first literal a simple pattern such as `^\\s*(clef|clef-flash)\\s*$` allows."""
    core = pattern.replace("\\s*", "").strip("^$").strip("()")
    return core.split("|")[0]


def minimal_input(model: str, tmp_path: Path) -> dict[str, Any]:
    if not schema_of(model):
        return {"prompt": "hello"}  # no published schema: sent as given, unchecked
    schema = schema_of(model)["input"]
    candidates = [
        arm
        for arm in arms(schema)
        if arm.get("type") != "string"
        and "requests" not in arm.get("required", [])
        and not _handle(arm.get("properties", {}).get("multipart"))
        and not any(_handle(arm.get("properties", {}).get(key)) for key in arm.get("required", []))
    ]
    if candidates:
        return cast(dict[str, Any], minimal(candidates[0]))
    props = cast(dict[str, Any], schema.get("properties", {}))
    if _handle(props.get("multipart")):
        body = {"prompt": "a red square on white"}
        return {"multipart": {"body": body, "contentType": "multipart/form-data"}}
    audio = tmp_path / "speech.wav"
    audio.write_bytes(wav_bytes())
    (handle,) = [key for key, prop in props.items() if _handle(prop)]
    return {handle: {"body": str(audio), "contentType": "audio/wav"}}


def is_result(result: CallToolResult, answer: Answer) -> None:
    text = text_of(result)
    if answer.content_type in ("application/json", "text/event-stream"):
        first = next(block.text for block in result.content if isinstance(block, TextContent))
        assert json.loads(first)["result"] is not None, text  # media inside it are saved, the rest follows
    else:
        assert answer.content_type.split("/")[0] in {"image", "audio"} and result.content, text


@pytest.mark.parametrize("model", MODELS)
async def test_run_model_sends_what_the_schema_takes_and_returns_every_answer(tmp_path: Path, model: str) -> None:
    value = minimal_input(model, tmp_path)
    upstream = Upstream()
    async with session(tmp_path, upstream) as client:
        arguments = {"model": model, "input": value}
        await call_with_every_answer(client, upstream, model, "run_model", arguments, set(value), is_result)
