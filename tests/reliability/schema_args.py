"""Tool arguments drawn from a tool's own input schema, and how the server will take them.

`arguments_for` mixes good values, hostile strings, wrongly typed values, None and missing
parameters; each draw is labelled `refusable` when it holds a value the server can refuse without
asking Workers AI (a crafted model id, a media input that is not one of the good files). A tool's
media inputs (`media`: parameter → kind) come from its module's samples, through the registry
(`workers_ai_mcp.selftest.registered.media_parameters`).
`schema_invalid` judges a draw against the declared input schema, as the tool receives it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from hypothesis import strategies as st
from jsonschema import validators

from .hostile import (
    CONTROL,
    CRAFTED_MODEL_IDS,
    SAFE_MODEL_ID,
    SENSITIVE_PATHS,
    UNICODE_EDGES,
    Drawn,
    Pools,
    hostile_strings,
    huge_strings,
    model_ids,
)


def wrong_type(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of another JSON type, chosen so that pydantic's lax mode does not coerce it either."""
    words = st.sampled_from(("abc", "../etc/passwd", "null", "[]", "{}", "1 2"))
    lists = st.lists(st.integers(), max_size=3)
    objects = st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)
    numbers = st.one_of(st.integers(min_value=2), st.floats(allow_nan=False, allow_infinity=False))
    wrong = {
        "string": (numbers, st.booleans(), lists, objects),
        "integer": (words, lists, objects),
        "number": (words, lists, objects),
        "boolean": (words, st.integers(min_value=2), lists, objects),
        "array": (words, numbers, objects),
        "object": (words, numbers, lists),
    }
    return st.one_of(wrong[(_types(prop) or ["string"])[0]])


def valid_value(prop: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value the declared schema accepts (small, to keep calls quick)."""
    prop = _resolve(prop, root)
    if "enum" in prop:
        return st.sampled_from(cast(list[Any], prop["enum"]))
    kind = (_types(prop) or ["string"])[0]
    if kind == "string":
        low, high = int(prop.get("minLength", 0)), min(int(prop.get("maxLength", 200)), 200)
        if "pattern" in prop:
            return st.from_regex(str(prop["pattern"]), fullmatch=True).filter(lambda s: low <= len(s) <= high)
        return st.text(min_size=low, max_size=max(low, high))
    if kind in ("integer", "number"):
        low, high = prop.get("minimum", -(10**6)), prop.get("maximum", 10**6)
        step = prop.get("multipleOf")
        if step:
            return st.integers(int(-(-low // step)), int(high // step)).map(lambda n: n * step)
        if kind == "integer":
            return st.integers(int(low), int(high))
        return st.floats(float(low), float(high), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = cast(dict[str, Any], prop.get("items", {}))
        low = int(prop.get("minItems", 0))
        return st.lists(valid_value(items, root), min_size=low, max_size=max(low, 3))
    if kind == "object" and "properties" in prop:
        return st.fixed_dictionaries({k: valid_value(v, root) for k, v in prop["properties"].items()})
    return st.dictionaries(
        st.sampled_from(("prompt", "text", "$schema", "$ref", "type", "image")), json_values(), max_size=3
    )


def json_values() -> st.SearchStrategy[Any]:
    """Nested JSON with hostile strings, huge ones included, at any depth."""
    hostile = st.sampled_from((*SENSITIVE_PATHS, *CRAFTED_MODEL_IDS, *UNICODE_EDGES, CONTROL))
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), hostile, huge_strings())
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


def arguments_for(schema: dict[str, Any], pools: Pools, media: Mapping[str, str]) -> st.SearchStrategy[Drawn]:
    """Argument sets for one tool: good, hostile, wrongly typed or missing values, sometimes an unknown key."""
    properties = cast(dict[str, dict[str, Any]], schema.get("properties", {}))
    required = set(cast(list[str], schema.get("required", [])))

    @st.composite
    def draw_arguments(draw: st.DrawFn) -> Drawn:
        arguments: dict[str, Any] = {}
        for name, prop in properties.items():
            keep = draw(st.integers(0, 9)) > 0 if name in required else draw(st.integers(0, 2)) == 0
            if not keep:
                continue
            if name == "model":
                value = draw(st.one_of(st.none(), model_ids(), valid_value(prop, schema), hostile_strings(pools)))
            elif name in media:
                good, refused = st.sampled_from(pools.good_media), st.sampled_from(pools.refused_media)
                value = draw(st.one_of(good, refused, hostile_strings(pools)))
            else:
                valid = valid_value(prop, schema)
                wrong = wrong_type(_resolve(prop, schema))
                value = draw(st.one_of(valid, valid, valid, hostile_strings(pools), wrong, st.none()))
            arguments[name] = value
        if draw(st.integers(0, 9)) == 0:
            arguments[draw(st.sampled_from(("x_extra", "__proto__", "$ref")))] = draw(json_values())
        return Drawn(arguments, refusable(schema, arguments, pools, media))

    return draw_arguments()


def good_arguments(schema: dict[str, Any], pools: Pools, media: Mapping[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """Values the schema accepts for the required parameters; media parameters get a good file of their kind."""
    properties = cast(dict[str, dict[str, Any]], schema.get("properties", {}))
    required = cast(list[str], schema.get("required", []))
    files = {"image": "photo.png", "audio": "voice.wav"}
    return st.fixed_dictionaries(
        {
            name: st.just(files[media[name]]) if name in media else valid_value(properties[name], schema)
            for name in required
        }
    )


def refusable(schema: dict[str, Any], arguments: dict[str, Any], pools: Pools, media: Mapping[str, str]) -> bool:
    """Whether the arguments hold a value the server can refuse without asking Workers AI."""
    received = as_received(schema, arguments)
    model = received.get("model")
    # An empty id means "the default model", as an omitted one does.
    if isinstance(model, str) and model and not SAFE_MODEL_ID.fullmatch(model):
        return True
    return any(name in received and received[name] not in pools.good_media for name in media)


def as_received(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the tool receives them: the SDK decodes a JSON string given for a parameter not typed
    plain `str` (`FuncMetadata.pre_parse_json`), unless it decodes to a string or a number."""
    properties = _properties(schema)
    nullable = _nullable(schema)
    received = dict(arguments)
    for name, value in arguments.items():
        prop = properties.get(name)
        if prop is None or not isinstance(value, str):
            continue
        if _types(prop) == ["string"] and "enum" not in prop and name not in nullable:
            continue  # annotated plain `str`: passed as is
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            continue
        if not isinstance(decoded, str | int | float):
            received[name] = decoded
    return received


def schema_invalid(schema: dict[str, Any], arguments: dict[str, Any]) -> bool:
    """Whether `arguments`, as received, break the declared input schema (None for an optional one is absence)."""
    nullable = _nullable(schema)
    present = {k: v for k, v in as_received(schema, arguments).items() if not (v is None and k in nullable)}
    return not validators.validator_for(schema)(schema).is_valid(present)


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return cast(dict[str, dict[str, Any]], schema.get("properties", {}))


def _nullable(schema: dict[str, Any]) -> set[str]:
    """Optional parameters without a default in the schema: their default is None (the schema leaves null out)."""
    required = set(cast(list[str], schema.get("required", [])))
    return {name for name, prop in _properties(schema).items() if name not in required and "default" not in prop}


def _types(prop: dict[str, Any]) -> list[str]:
    if isinstance(prop.get("type"), str):
        return [prop["type"]]
    arms = cast(list[dict[str, Any]], prop.get("anyOf", []) + prop.get("oneOf", []))
    return [str(arm["type"]) for arm in arms if isinstance(arm.get("type"), str) and arm["type"] != "null"]


def _resolve(prop: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return cast(dict[str, Any], root["$defs"][ref.removeprefix("#/$defs/")])
    return prop
