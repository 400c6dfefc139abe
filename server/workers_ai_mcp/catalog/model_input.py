"""How a model wants its input, read from its input JSON Schema: the one place that walks those schemas.

Branches (`oneOf`/`anyOf`, read as alternatives), the properties any branch declares, defaults,
the wire form, and the optional parameters a tool may fill. The wire forms Cloudflare's schemas
describe:

- JSON (an object schema), with media inside as a byte array, base64 or a data URI;
- a raw binary body (`{type: string, format: binary}` at the top);
- multipart (`{multipart: {body, contentType}}`: FLUX.2 takes `multipart/form-data` over REST);
- a stream handle (`audio: {body, contentType}`: nova-3 over REST takes the raw audio with its
  content type, and its other inputs as query parameters).

Tools keep a small table for their default models (no extra round trip) and read any other
model's schema (cached by the catalog) to decide the same things; `requests.py` builds the request.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..client.errors import InvalidRequestError
from ..jsonvalues import as_dict, as_list, dicts

# How a media input travels inside JSON: a list of byte values (0-255), a base64 string, or a data URI.
JsonMediaForm = Literal["array", "base64", "data_uri"]
# The property name of the multipart handle in Cloudflare's schemas.
MULTIPART = "multipart"


@dataclass(frozen=True)
class Param:
    """One optional input of a model: its name on the wire and the bounds its schema sets."""

    wire: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelWire:
    """What a model accepts: a raw body (`body`), a media field in JSON, and named parameters.

    `multipart`: everything goes as `multipart/form-data` fields (media as file parts).
    `stream`: the media goes as the raw body with its content type, the parameters as query parameters.
    """

    params: Mapping[str, Param] = field(default_factory=dict[str, Param])
    body: bool = False
    json_form: JsonMediaForm | None = None
    media_field: str = ""
    multipart: bool = False
    stream: bool = False


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
    form_fields: Mapping[str, Param] | None = None,
) -> ModelWire:
    """`known[model]`, or the same facts read from the model's input schema.

    `names` maps each tool parameter to the property names models use for it (first match wins).
    `form_fields` are the fields a multipart model takes: its schema names only the handle, so they
    come from Cloudflare's documentation of the task (None: this tool sends no multipart).
    """
    if model in known:
        return known[model]
    return read_wire(as_dict(await client.model_schema(model)).get("input"), names, media_field, form_fields)


def read_wire(
    schema: object,
    names: Mapping[str, tuple[str, ...]],
    media_field: str = "",
    form_fields: Mapping[str, Param] | None = None,
) -> ModelWire:
    """The `ModelWire` an input schema describes (see `wire_for`)."""
    if form_fields is not None and is_multipart(schema):
        return ModelWire(params=form_fields, multipart=True, media_field=media_field)
    props = properties(schema)
    params = {key: found for key, candidates in names.items() if (found := param_of(props, *candidates))}
    json_form = _json_form(props.get(media_field)) if media_field else None
    stream = bool(media_field) and json_form is None and media_field in stream_fields(schema)
    return ModelWire(
        params=params,
        body=accepts_binary_body(schema),
        json_form=json_form,
        media_field=media_field,
        stream=stream,
    )


def is_handle(prop: object) -> bool:
    """Whether a property is a binding-style handle `{body, contentType}` (a stream or a multipart form)."""
    props = properties(prop)
    return "body" in props and "contentType" in props


def is_multipart(schema: object) -> bool:
    """Whether the input is a multipart form (`{multipart: {body, contentType}}`)."""
    return is_handle(properties(schema).get(MULTIPART))


def stream_fields(schema: object) -> tuple[str, ...]:
    """The properties given as a `{body, contentType}` stream (nova-3's `audio`), multipart aside."""
    return tuple(name for name, prop in properties(schema).items() if name != MULTIPART and is_handle(prop))


def wire_forms(schema: object) -> tuple[str, ...]:
    """Every wire form the input schema allows: `json`, `binary`, `multipart`, `stream`."""
    forms: list[str] = []
    objects = [arm for arm in branches(schema) if arm.get("type") != "string"]
    if not is_multipart(schema) and any(_plain_json(arm) for arm in objects):
        forms.append("json")
    if accepts_binary_body(schema):
        forms.append("binary")
    if is_multipart(schema):
        forms.append("multipart")
    if stream_fields(schema):
        forms.append("stream")
    return tuple(forms)


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


def _plain_json(arm: dict[str, Any]) -> bool:
    """Whether an object branch needs no handle: every required property is plain JSON."""
    props = as_dict(arm.get("properties"))
    return not any(is_handle(props.get(name)) for name in as_list(arm.get("required")) if isinstance(name, str))


def encode_media(form: JsonMediaForm, data: bytes, media_type: str = "application/octet-stream") -> list[int] | str:
    """The media bytes as a JSON value of the given form."""
    if form == "array":
        return list(data)
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{media_type};base64,{encoded}" if form == "data_uri" else encoded


def _json_form(prop: dict[str, Any] | None) -> JsonMediaForm | None:
    # Where a schema offers both, the byte array wins: it is the form every published example uses;
    # what a "binary" string means inside JSON is not documented. A string the schema describes as
    # a data URI (moondream's `image`) gets one; any other string gets plain base64.
    arms = branches(prop) if prop is not None else []
    types = {arm.get("type") for arm in arms}
    if "array" in types:
        return "array"
    if "string" in types:
        described = " ".join(str(arm.get("description", "")) for arm in arms if arm.get("type") == "string")
        return "data_uri" if "data uri" in described.lower() else "base64"
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
