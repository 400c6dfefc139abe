"""Answers that fit a published output schema: a task generator's answer where it fits, else one built from the schema.

`conform(schema, candidates, echo)` returns the first candidate the (relaxed) schema accepts; if none
fits, it builds a value from the schema, reusing the first candidate's fields wherever they fit, with
emulator-marked strings, in-range numbers and minimal arrays elsewhere. Deterministic.
"""

from __future__ import annotations

import math
from typing import Any

from .envelope import JsonObj, as_list, as_obj, fixed_value
from .generate_text import MARK
from .schema_walk import is_binary_branch
from .validation import fits

_MAX_DEPTH = 12


def conform(schema: JsonObj | None, candidates: list[Any], echo: str = "") -> Any:
    if schema is None:
        return candidates[0] if candidates else {"response": f"{MARK} {echo}".strip()}
    for candidate in candidates:
        if fits(schema, candidate):
            return candidate
    return build(schema, candidates[0] if candidates else None, echo, 0)


def _json_branches(schema: JsonObj) -> list[JsonObj]:
    branches = [b for key in ("anyOf", "oneOf") for v in (as_list(schema.get(key)) or []) if (b := as_obj(v))]
    usable = [b for b in branches if not is_binary_branch(b) and b.get("contentType") in (None, "application/json")]
    return usable or branches


def build(schema: JsonObj, hint: Any, echo: str, depth: int) -> Any:
    """A value the schema accepts, preferring `hint` (or parts of it) wherever they fit."""
    if hint is not None and fits(schema, hint):
        return hint
    if fixed := fixed_value(schema):
        return fixed[0]
    branches = _json_branches(schema)
    if branches:
        base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        tries = [build({**base, **b}, hint, echo, depth + 1) for b in branches[:4]]
        return next((t for t in tries if fits(schema, t)), tries[0])
    if depth > _MAX_DEPTH:
        return None
    return _of_kind(schema, _kind(schema, hint), hint, echo, depth)


def _of_kind(schema: JsonObj, kind: str, hint: Any, echo: str, depth: int) -> Any:
    makers = {
        "object": lambda: _object(schema, as_obj(hint) or {}, echo, depth),
        "array": lambda: _array(schema, as_list(hint) or [], echo, depth),
        "number": lambda: _number(schema, kind, hint),
        "integer": lambda: _number(schema, kind, hint),
        "boolean": lambda: hint if isinstance(hint, bool) else False,
        "null": lambda: None,
    }
    make = makers.get(kind)
    return make() if make is not None else _string(schema, hint if isinstance(hint, str) else f"{MARK} {echo}".strip())


def _kind(schema: JsonObj, hint: Any) -> str:
    kind = schema.get("type")
    if kinds := as_list(kind):
        kind = next((k for k in kinds if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "object" if isinstance(hint, dict) or hint is None else "string"


def _object(schema: JsonObj, hint: JsonObj, echo: str, depth: int) -> JsonObj:
    props = as_obj(schema.get("properties")) or {}
    required = [str(n) for n in as_list(schema.get("required")) or []]
    out: JsonObj = {}
    for name in dict.fromkeys([*required, *(n for n in hint if n in props)]):
        sub = as_obj(props.get(name)) or as_obj(schema.get("additionalProperties")) or {}
        value = build(sub, hint.get(name), echo, depth + 1)
        if value is not None or name in required:
            out[name] = value
    if len(out) < int(schema.get("minProperties", 0)):
        extra = as_obj(schema.get("additionalProperties")) or {}
        out.update({f"field_{i}": build(extra, None, echo, depth + 1) for i in range(int(schema["minProperties"]))})
    return out


def _array(schema: JsonObj, hint: list[Any], echo: str, depth: int) -> list[Any]:
    items = as_obj(schema.get("items")) or {}
    low, high = int(schema.get("minItems", 1)), int(schema.get("maxItems", 1_000_000))
    values = [build(items, h, echo, depth + 1) for h in hint[:high]]
    while len(values) < max(low, 1 if not hint else 0):
        values.append(build(items, None, echo, depth + 1))
    return values


def _number(schema: JsonObj, kind: str, hint: Any) -> float | int:
    low = float(schema.get("minimum", schema.get("exclusiveMinimum", 0)))
    high = float(schema.get("maximum", schema.get("exclusiveMaximum", max(low, 1.0))))
    value = float(hint) if isinstance(hint, int | float) and not isinstance(hint, bool) else (low + high) / 2
    value = min(max(value, low), high)
    if kind == "integer":
        return max(math.ceil(low), min(math.floor(high), round(value)))
    return value


def _string(schema: JsonObj, text: str) -> str:
    if schema.get("format") in ("date-time", "date"):
        return "1970-01-01T00:00:00Z" if schema["format"] == "date-time" else "1970-01-01"
    high = int(schema.get("maxLength", max(len(text), 1)))
    return text[:high].ljust(int(schema.get("minLength", 0)), ".")
