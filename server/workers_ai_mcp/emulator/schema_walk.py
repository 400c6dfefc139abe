"""Reading Cloudflare's published JSON Schemas: branches, declared fields, content types, `oneOf` as `anyOf`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .envelope import JsonObj, as_list, as_obj

COMBINATORS = ("oneOf", "anyOf", "allOf")


def _branch(schema: Any) -> Any:
    """A `oneOf` branch that declares one property and requires none (the async `requests` input and
    `request_id` output branches) would match any object; it is read as requiring that property, as
    the real API does (`required properties at '/' are 'requests'`)."""
    props = as_obj(schema.get("properties")) if isinstance(schema, dict) else None
    if isinstance(schema, dict) and props is not None and len(props) == 1 and "required" not in schema:
        return {**relaxed(schema), "required": list(props)}
    return relaxed(schema)


def relaxed(schema: Any) -> Any:
    """The schema with every `oneOf` read as `anyOf`.

    Cloudflare's schemas put overlapping branches side by side under `oneOf`; the real API accepts and
    sends values that match several of them, so they are checked as `anyOf` (see `_branch` too).
    """
    if isinstance(schema, dict):
        out: JsonObj = {}
        for key, value in schema.items():
            if key == "oneOf" and isinstance(value, list):
                out["anyOf"] = [_branch(v) for v in value]
            else:
                out[key] = relaxed(value)
        return out
    if isinstance(schema, list):
        return [relaxed(v) for v in schema]
    return schema


def branches(schema: JsonObj) -> Iterator[JsonObj]:
    """The schema and, recursively, every `oneOf`/`anyOf`/`allOf` branch of it (not nested properties)."""
    yield schema
    for key in COMBINATORS:
        for branch in as_list(schema.get(key)) or []:
            if (obj := as_obj(branch)) is not None:
                yield from branches(obj)


def top_fields(schema: JsonObj) -> dict[str, JsonObj]:
    """Top-level property name → sub-schema, over every branch (the first branch that declares a name wins)."""
    fields: dict[str, JsonObj] = {}
    for branch in branches(schema):
        for name, sub in (as_obj(branch.get("properties")) or {}).items():
            if (obj := as_obj(sub)) is not None:
                fields.setdefault(name, obj)
    return fields


def content_types(schema: Any) -> frozenset[str]:
    """Every `contentType` string value anywhere in the schema."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(ct := node.get("contentType"), str):
                found.add(ct)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


def mentions(schema: Any, word: str) -> bool:
    """Whether `word` occurs as a key or string value anywhere in the schema (e.g. `image_url`)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if node == word:
            return True
        if isinstance(node, dict):
            if word in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def is_binary_branch(schema: JsonObj) -> bool:
    return schema.get("type") == "string" and schema.get("format") == "binary"


def takes_binary_body(schema: JsonObj) -> bool:
    """A root branch `{type: string, format: binary}`: the model takes raw bytes as the request body."""
    return any(is_binary_branch(b) for b in branches(schema))


def body_and_type(schema: JsonObj | None) -> bool:
    """`{body, contentType}` object: the binding's stream form (audio) or multipart form."""
    fields = top_fields(schema) if schema else {}
    return {"body", "contentType"} <= set(fields)
