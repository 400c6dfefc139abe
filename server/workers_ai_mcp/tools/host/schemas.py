"""Compact the JSON Schemas that `tools/list` publishes, to spare the assistant's context; and keep them.

pydantic writes a `title` for every model and property and spells an optional parameter as
`anyOf: [X, null]` with `default: null`. None of that helps an assistant choose arguments, and
over the whole tool list it costs kilobytes. Arguments and results are still validated by the
tools' own pydantic models, so only the published copy changes.

Every tool's compacted `tools/list` entry is kept in `published.json` beside this module, so a start
serves `tools/list` without importing the tool modules or building their pydantic models (`listed.py`
loads them on the first request that needs them).
`uv run python scripts/refresh.py` rewrites the file; tests/tools/test_published_schemas.py fails
while it differs from what the tool modules give.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations

from .icons import family_of

PUBLISHED_FILE = Path(__file__).with_name("published.json")

# Keys whose values map names to schemas (a property may itself be called "title").
_NAMED = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def compact_input(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema without titles, with optional-or-null parameters shown as plain optional ones."""
    return _walk(schema, drop=frozenset({"title"}), unwrap_optional=True)


def compact_output(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema without titles, descriptions and defaults; `X or null` as a type list.

    A type list is legal JSON Schema and 20 bytes shorter than `anyOf`. Single-type dialects (the
    OpenAPI subset some model providers use) only ever see input schemas, which have no type lists:
    optional parameters are published as plain optional ones.
    """
    return _walk(schema, drop=frozenset({"title", "description", "default"}), unwrap_optional=False)


def _walk(node: Any, *, drop: frozenset[str], unwrap_optional: bool) -> Any:
    if isinstance(node, list):
        return [_walk(item, drop=drop, unwrap_optional=unwrap_optional) for item in cast(list[Any], node)]
    if not isinstance(node, dict):
        return node
    source = cast(dict[str, Any], node)
    source = _without_null_branch(source) if unwrap_optional else _null_as_type(source)
    result: dict[str, Any] = {}
    for key, value in source.items():
        if (key in drop and not isinstance(value, dict)) or (key == "items" and value == {}):
            continue  # `items: {}` allows anything, as does its absence
        if key == "additionalProperties" and value is True:
            continue  # the default
        if key in _NAMED and isinstance(value, dict):
            named = cast(dict[str, Any], value)
            result[key] = {name: _walk(sub, drop=drop, unwrap_optional=unwrap_optional) for name, sub in named.items()}
        else:
            result[key] = _walk(value, drop=drop, unwrap_optional=unwrap_optional)
    return result


def _without_null_branch(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or schema.get("default", ...) is not None:
        return schema
    kept = [b for b in cast(list[Any], branches) if b != {"type": "null"}]
    if len(kept) != 1 or not isinstance(kept[0], dict):
        return schema
    merged = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**cast(dict[str, Any], kept[0]), **merged}


def _null_as_type(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or len(cast(list[Any], branches)) != 2 or {"type": "null"} not in branches:
        return schema
    other = next(b for b in cast(list[Any], branches) if b != {"type": "null"})
    if not isinstance(other, dict) or not isinstance(cast(dict[str, Any], other).get("type"), str):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    typed = cast(dict[str, Any], other)
    return {**typed, "type": [typed["type"], "null"], **rest}


def compact_annotations(annotations: ToolAnnotations, title: str | None) -> ToolAnnotations:
    """Only the hints that differ from the spec's defaults or carry meaning for this tool.

    Defaults: openWorldHint true, readOnlyHint false, destructiveHint true, idempotentHint false;
    destructive and idempotent hints mean something only for tools that are not read-only.
    """
    hints = annotations.model_dump(exclude_none=True)
    if "title" in hints and hints["title"] == title:
        hints.pop("title")
    if hints.get("open_world_hint") is True:
        hints.pop("open_world_hint")
    if hints.get("read_only_hint") is True:
        hints.pop("destructive_hint", None)
        hints.pop("idempotent_hint", None)
    else:
        hints.pop("read_only_hint", None)
        if hints.get("idempotent_hint") is False:
            hints.pop("idempotent_hint")
    return ToolAnnotations(**hints)


def compact_description(text: str | None) -> str:
    """The description on one line, as hosts show it."""
    return " ".join(inspect.cleandoc(text or "").split())


def compact_tool(tool: Tool) -> Tool:
    """The tool with its published description, annotations and schemas compacted (in place)."""
    tool.description = compact_description(tool.description)
    if tool.annotations is not None:
        tool.annotations = compact_annotations(tool.annotations, tool.title)
    tool.parameters = compact_input(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = compact_output(tool.fn_metadata.output_schema)
    return tool


@dataclass(frozen=True)
class Published:
    """A tool's `tools/list` entry, and what calling it needs before its models exist."""

    title: str | None
    description: str
    annotations: dict[str, Any] | None
    parameters: dict[str, Any]
    output_schema: dict[str, Any] | None
    context_kwarg: str | None
    is_async: bool
    family: str | None = None  # the module that registers it (its icon, icons.py)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def tool_annotations(self) -> ToolAnnotations | None:
        return None if self.annotations is None else ToolAnnotations.model_validate(self.annotations)


def published_of(tool: Tool) -> Published | None:
    """The published form of a compacted tool built by `Tool.from_function`; None if it cannot be kept
    (resolver parameters are planned at build time)."""
    if tool.resolved_params:
        return None
    annotations = tool.annotations.model_dump(mode="json", exclude_none=True) if tool.annotations else None
    listed_output = tool.fn_metadata.output_schema if getattr(tool, "lists_output_schema", True) else None
    return Published(
        tool.title, tool.description, annotations, tool.parameters, listed_output,
        tool.context_kwarg, tool.is_async, family_of(tool.fn.__module__),
    )  # fmt: skip


def load_published(path: Path = PUBLISHED_FILE) -> dict[str, Published]:
    """The kept schemas by tool name (none when the file is missing: every tool is then built at once)."""
    try:
        entries = cast(dict[str, dict[str, Any]], json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
    try:
        return {name: Published(**entry) for name, entry in entries.items()}
    except TypeError:  # written by another version of this module: build every tool at once
        return {}


def dump_published(entries: dict[str, Published]) -> str:
    return json.dumps({name: p.as_json() for name, p in entries.items()}, indent=1) + "\n"
