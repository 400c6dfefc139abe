"""What a model's published output schema says about its answer: which JSON fields carry media.

flux-1-schnell answers `{"image": "<base64>"}` and melotts `{"audio": "<base64>"}`; their schemas
describe those strings as base64 (in prose: "The generated image in Base64 format"). Knowing the
fields lets the tools save them as files instead of passing kilobytes of base64 to the assistant.
"""

from __future__ import annotations

import re
from typing import Any

from ..jsonvalues import as_dict, dicts
from .model_input import branches

_BASE64_WORDS = re.compile(r"\bbase[- ]?64\b|\bbase64-encoded\b", re.IGNORECASE)
_MAX_DEPTH = 12


def media_fields(output_schema: object) -> frozenset[str]:
    """Names of the string fields, at any depth, that the schema declares as base64-encoded media."""
    found: set[str] = set()
    _walk(output_schema, found, 0)
    return frozenset(found)


def _walk(schema: object, found: set[str], depth: int) -> None:
    for name, prop in _named_properties(schema, depth):
        if _is_base64_media(prop):
            found.add(name)


def _named_properties(schema: object, depth: int) -> list[tuple[str, dict[str, Any]]]:
    """(name, schema) of every property under `schema`, through branches, nested objects and array items."""
    if depth > _MAX_DEPTH:
        return []
    named: list[tuple[str, dict[str, Any]]] = []
    for arm in branches(schema):
        for name, prop in as_dict(arm.get("properties")).items():
            for branch in branches(prop):
                named.append((name, branch))
                named += _named_properties(branch, depth + 1)
        for item in [*dicts([arm.get("items")]), *dicts(arm.get("prefixItems"))]:
            named += _named_properties(item, depth + 1)
    return named


def _is_base64_media(prop: dict[str, Any]) -> bool:
    if prop.get("type") not in ("string", None):
        return False
    if prop.get("contentEncoding") == "base64":
        return True
    description = prop.get("description")
    return isinstance(description, str) and bool(_BASE64_WORDS.search(description))
