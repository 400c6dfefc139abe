"""How a model wants its input, read from its input JSON Schema: the one place that walks those schemas.

Branches (`oneOf`/`anyOf`, read as alternatives), the properties any branch declares, defaults,
the wire form (raw binary body or JSON, media as byte arrays or base64), and the optional
parameters a tool may fill. Tools keep a small table for their default models (no extra round
trip) and read any other model's schema (cached by the catalog) to decide the same things.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..client.errors import InvalidRequestError
from ..jsonvalues import as_dict, as_list, dicts

# How a media input travels inside JSON: a list of byte values (0-255) or a base64 string.
JsonMediaForm = Literal["array", "base64"]


@dataclass(frozen=True)
class Param:
    """One optional input of a model: its name on the wire and the bounds its schema sets."""

    wire: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelWire:
    """What a model accepts: a raw body (`body`), a media field in JSON, and named parameters."""

    params: Mapping[str, Param] = field(default_factory=dict[str, Param])
    body: bool = False
    json_form: JsonMediaForm | None = None
    media_field: str = ""


class SchemaSource(Protocol):
    """Where model schemas come from (the catalog, cached)."""

    async def model_schema(self, model: str) -> dict[str, Any]: ...


async def wire_for(
    client: SchemaSource,
    model: str,
    known: Mapping[str, ModelWire],
    *,
    names: Mapping[str, tuple[str, ...]],
    media_field: str = "",
) -> ModelWire:
    """`known[model]`, or the same facts read from the model's input schema.

    `names` maps each tool parameter to the property names models use for it (first match wins).
    """
    if model in known:
        return known[model]
    schema = as_dict(await client.model_schema(model)).get("input")
    props = properties(schema)
    params = {key: found for key, candidates in names.items() if (found := param_of(props, *candidates))}
    json_form = _json_form(props.get(media_field)) if media_field else None
    return ModelWire(params=params, body=accepts_binary_body(schema), json_form=json_form, media_field=media_field)


def branches(schema: object) -> list[dict[str, Any]]:
    """The alternatives of a schema (`oneOf`/`anyOf` arms merged with their parent, nested arms and
    `allOf` parts flattened), or the schema itself."""
    node = as_dict(schema)
    for part in dicts(node.get("allOf")):
        node = {**{k: v for k, v in node.items() if k != "allOf"}, **part, **_merged_properties(node, part)}
    arms = dicts(node.get("oneOf")) + dicts(node.get("anyOf"))
    if not arms:
        return [node]
    parent = {key: value for key, value in node.items() if key not in ("oneOf", "anyOf")}
    return [flat for arm in arms for flat in branches({**parent, **arm, **_merged_properties(parent, arm)})]


def _merged_properties(parent: dict[str, Any], arm: dict[str, Any]) -> dict[str, Any]:
    if "properties" not in parent or "properties" not in arm:
        return {}
    return {"properties": {**as_dict(parent.get("properties")), **as_dict(arm.get("properties"))}}


def schema_has(schema: object, *names: str) -> bool:
    """Whether any branch of the schema declares one of `names`."""
    props = properties(schema)
    return any(name in props for name in names)


def schema_default(schema: object, *names: str) -> int | None:
    """The first positive integer default of `names` in the schema, or None."""
    props = properties(schema)
    for name in names:
        default = as_dict(props.get(name)).get("default")
        if isinstance(default, int) and not isinstance(default, bool) and default > 0:
            return default
    return None


def without_batch_branch(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The input schema without its batch (`requests`) branch: what one batch item must match."""
    out = dict(schema)
    for keyword in ("oneOf", "anyOf"):
        arms = dicts(schema.get(keyword))
        if arms:
            kept = [arm for arm in arms if "requests" not in as_dict(arm.get("properties"))]
            out[keyword] = kept or arms
    return out


def accepts_binary_body(schema: object) -> bool:
    """Whether the input may be the raw bytes themselves (`{type: string, format: binary}` at the top)."""
    return any(arm.get("type") == "string" and arm.get("format") == "binary" for arm in branches(schema))


def properties(schema: object) -> dict[str, dict[str, Any]]:
    """Every property any object form of the input declares."""
    found: dict[str, dict[str, Any]] = {}
    for arm in branches(schema):
        for name, prop in as_dict(arm.get("properties")).items():
            found.setdefault(name, as_dict(prop))
    return found


def param_of(props: Mapping[str, dict[str, Any]], *names: str) -> Param | None:
    """The first of `names` the properties declare, with its bounds and choices."""
    for name in names:
        prop = props.get(name)
        if prop is None:
            continue
        low, high = prop.get("minimum"), prop.get("maximum")
        choices = tuple(str(c) for c in as_list(prop.get("enum")))
        return Param(
            name,
            float(low) if isinstance(low, int | float) else None,
            float(high) if isinstance(high, int | float) else None,
            choices,
        )
    return None


def fill(
    model: str,
    accepted: Mapping[str, Param],
    values: Mapping[str, object],
    *,
    hint: str = "",
    takes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Wire inputs for the given (non-None) values; refuse any the model does not take or bounds it sets.

    The refusal names a model that takes the input: `takes[key]` when given (and not `model` itself),
    else what `hint` says.
    """
    inputs: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        spec = accepted.get(key)
        if spec is None:
            other = (takes or {}).get(key)
            instead = f", or use {other}, which takes it" if other and other != model else hint
            raise InvalidRequestError(f"{model} does not take `{key}`; leave it out{instead}.")
        _check(model, key, spec, value)
        inputs[spec.wire] = value
    return inputs


def encode_media(form: JsonMediaForm, data: bytes) -> list[int] | str:
    """The media bytes as a JSON value of the given form."""
    return list(data) if form == "array" else base64.b64encode(data).decode("ascii")


def _json_form(prop: dict[str, Any] | None) -> JsonMediaForm | None:
    # Where a schema offers both, the byte array wins: it is the form every published example uses;
    # what a "binary" string means inside JSON is not documented.
    types = {arm.get("type") for arm in branches(prop)} if prop is not None else set[object]()
    if "array" in types:
        return "array"
    if "string" in types:
        return "base64"
    return None


def _check(model: str, key: str, spec: Param, value: object) -> None:
    if spec.choices and str(value) not in spec.choices:
        raise InvalidRequestError(f"`{key}` must be one of {', '.join(spec.choices)} for {model}.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidRequestError(f"`{key}` must be at least {spec.minimum:g} for {model}.")
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidRequestError(f"`{key}` must be at most {spec.maximum:g} for {model}.")
