"""One request to `ai/run/{model}` (a `client.request.Request`), in the wire form the model's schema asks for.

`media_request` builds one from a tool's media and parameters and the
model's `ModelWire`; `request_for_input` turns a `run_model` input (the object the model's schema
describes) into one, the handles' media resolved by the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..client.errors import InvalidRequestError
from ..client.request import FilePart, Request, form_request, json_request, stream_request
from ..jsonvalues import as_dict
from .model_input import MULTIPART, ModelWire, branches, encode_media, is_multipart, stream_fields

MULTIPART_TYPE = "multipart/form-data"


def media_request(
    model: str,
    wire: ModelWire,
    data: bytes,
    media_type: str,
    params: Mapping[str, Any] | None = None,
    *,
    prefer_body: bool = True,
    filename: str = "input",
) -> Request:
    """The media and parameters in the model's wire form.

    A raw body wins where the model takes one and nothing else goes along (`prefer_body`), then a
    stream handle (parameters in the query), a multipart form, and JSON with the media inside.
    """
    extra = dict(params or {})
    if wire.body and not extra and (prefer_body or wire.json_form is None):
        return Request(body=data, content_type=media_type)
    if wire.stream:
        return stream_request(data, media_type, extra)
    if wire.multipart:
        return form_request(extra, {wire.media_field: FilePart(filename, data, media_type)})
    if wire.json_form is None:
        what = wire.media_field or "media"
        raise InvalidRequestError(
            f"{model} takes no {what} input this tool can send; call get_model_schema to see what it accepts."
        )
    return json_request({wire.media_field: encode_media(wire.json_form, data, media_type), **extra})


# Resolves one media reference (a path, URL, data URI or base64 text) to its bytes and content type.
Resolve = Callable[[str, str], Awaitable[tuple[bytes, str]]]


async def request_for_input(model: str, schema: object, value: Mapping[str, Any], resolve: Resolve) -> Request:
    """A `run_model` input in the model's wire form.

    Multipart models take `{multipart: {body: {field: value}, contentType}}` as their schema says, or
    the form fields themselves; a field whose value names media (an `input_image_N`, or any string
    `resolve` recognises as a file, URL or data URI) becomes a file part. Stream-handle models
    (nova-3) take `{audio: {body: <media>, contentType}, ...options}` or `{audio: <media>, ...}`:
    the media goes as the raw body, the options as query parameters. Anything else goes as JSON.
    """
    if is_multipart(schema):
        handle = as_dict(value.get(MULTIPART))
        fields = as_dict(handle.get("body")) if handle else dict(value)
        text: dict[str, object] = {}
        files: dict[str, FilePart] = {}
        for name, item in fields.items():
            if isinstance(item, str) and _names_media(name):
                data, media_type = await resolve(item, "image")
                files[name] = FilePart(name, data, media_type)
            elif isinstance(item, str | int | float | bool):
                text[name] = item
            else:
                raise InvalidRequestError(
                    f"Form field `{name}` of {model} must be text, a number or a media reference, not JSON."
                )
        if not text and not files:
            raise InvalidRequestError(
                f'{model} takes a multipart form: give its fields, e.g. {{"prompt": "a lighthouse"}}.'
            )
        return form_request(text, files)
    for name in stream_fields(schema):
        handle_value = value.get(name)
        if handle_value is None or _json_fits(schema, name, handle_value):
            continue
        reference = handle_value if isinstance(handle_value, str) else as_dict(handle_value).get("body")
        if not isinstance(reference, str):
            raise InvalidRequestError(f"`{name}` of {model} must name the media: a path, an https URL or a data URI.")
        data, media_type = await resolve(reference, "audio" if "audio" in name else "image")
        declared = as_dict(handle_value).get("contentType")
        options = {key: item for key, item in value.items() if key != name}
        return stream_request(data, declared if isinstance(declared, str) and declared else media_type, options)
    return json_request(value)


def fitting_input(schema: object, value: Mapping[str, Any]) -> dict[str, Any]:
    """`value` as the schema's validator should see it: handles whose media is named by a reference
    (sent as bytes, not JSON) stand as `{body: {}, contentType}`, a multipart form as its handle."""
    if is_multipart(schema):
        if MULTIPART in value:
            return dict(value)
        return {MULTIPART: {"body": {}, "contentType": MULTIPART_TYPE}}
    out = dict(value)
    for name in stream_fields(schema):
        item = value.get(name)
        if item is None or _json_fits(schema, name, item):
            continue
        declared = as_dict(item).get("contentType")
        out[name] = {"body": {}, "contentType": declared if isinstance(declared, str) else "application/octet-stream"}
    return out


def _names_media(name: str) -> bool:
    return name.startswith("input_image") or name in ("image", "mask")


def _json_fits(schema: object, name: str, value: object) -> bool:
    """Whether a JSON branch of the schema takes this value of `name` as it is (smart-turn's base64 string)."""
    for arm in branches(schema):
        prop = as_dict(as_dict(arm.get("properties")).get(name))
        for option in branches(prop):
            if option.get("type") == "string" and isinstance(value, str):
                return True
    return False
