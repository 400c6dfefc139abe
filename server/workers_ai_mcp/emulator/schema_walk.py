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
    obj = as_obj(schema)
    props = as_obj(obj.get("properties")) if obj is not None else None
    if obj is not None and props is not None and len(props) == 1 and "required" not in obj:
        return {**relaxed(obj), "required": list(props)}
    return relaxed(schema)


def relaxed(schema: Any) -> Any:
    """The schema with every `oneOf` read as `anyOf`.

    Cloudflare's schemas put overlapping branches side by side under `oneOf`; the real API accepts and
    sends values that match several of them, so they are checked as `anyOf` (see `_branch` too).
    """
    if (obj := as_obj(schema)) is not None:
        out: JsonObj = {}
        for key, value in obj.items():
            if key == "oneOf" and (items := as_list(value)) is not None:
                out["anyOf"] = [_branch(v) for v in items]
            else:
                out[key] = relaxed(value)
        return out
    if (items := as_list(schema)) is not None:
        return [relaxed(v) for v in items]
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
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if (obj := as_obj(node)) is not None:
            if isinstance(ct := obj.get("contentType"), str):
                found.add(ct)
            stack.extend(obj.values())
        elif (items := as_list(node)) is not None:
            stack.extend(items)
    return frozenset(found)


def mentions(schema: Any, word: str) -> bool:
    """Whether `word` occurs as a key or string value anywhere in the schema (e.g. `image_url`)."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if node == word:
            return True
        if (obj := as_obj(node)) is not None:
            if word in obj:
                return True
            stack.extend(obj.values())
        elif (items := as_list(node)) is not None:
            stack.extend(items)
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
