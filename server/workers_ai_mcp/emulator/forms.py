"""A run request's body, read in the wire form its model takes (from the published input schema).

- JSON object: every model that has a JSON form.
- Raw bytes: models with a `{type: string, format: binary}` branch (resnet-50, detr, whisper, llava...).
- Raw audio with an audio Content-Type: models whose input is `audio: {body, contentType}` (nova-3,
  smart-turn); over REST Cloudflare expects the bytes as the body, options as query parameters.
- `multipart/form-data`: models whose input is `multipart: {body, contentType}` (FLUX.2), even for a
  prompt alone; a JSON body is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .context import parse_json_object
from .envelope import CloudflareError, JsonObj, bad_input
from .model_spec import ModelSpec

_NOT_OPTIONS = frozenset({"queueRequest", "tags"})


@dataclass(frozen=True)
class ModelInput:
    payload: JsonObj  # what is validated against the input schema and answered from
    media: bytes | None = None  # raw bytes sent as the body (binary and audio forms)
    form: str = "json"  # json | binary | audio | multipart
    files: dict[str, bytes] = field(default_factory=dict[str, bytes])  # multipart file parts


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _looks_json(body: bytes, media_type: str) -> bool:
    return "json" in media_type or body.lstrip().startswith(b"{")


def _option(spec: ModelSpec, name: str, raw: str) -> object:
    """A query parameter as the type the input schema gives that field."""
    kind = spec.input_fields.get(name, {}).get("type")
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if kind in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if kind == "integer" and number.is_integer() else number
    return raw


def _audio_input(spec: ModelSpec, request: Request, body: bytes, media_type: str) -> ModelInput:
    if not body:
        raise bad_input("the audio is empty: send the audio bytes as the request body at '/audio'")
    if not media_type.startswith(("audio/", "video/")) and media_type != "application/octet-stream":
        raise bad_input(f"send the audio with an audio Content-Type, not '{media_type or 'none'}' at '/audio'")
    options = {k: _option(spec, k, v) for k, v in request.query_params.items() if k not in _NOT_OPTIONS}
    return ModelInput({**options, "audio": {"body": {}, "contentType": media_type}}, body, "audio")


async def _multipart_input(spec: ModelSpec, request: Request) -> ModelInput:
    content_type = request.headers.get("content-type", "")
    if _media_type(request) != "multipart/form-data":
        raise bad_input(f"model {spec.name} takes multipart/form-data (prompt and options as fields) at '/multipart'")
    try:
        form = await request.form()
    except (AssertionError, ValueError, KeyError) as exc:
        raise bad_input(f"the multipart body could not be read ({type(exc).__name__}) at '/multipart'") from None
    fields: JsonObj = {}
    files: dict[str, bytes] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[name] = await value.read()
                fields[name] = {"filename": value.filename or name, "size": len(files[name])}
            else:
                fields[name] = value
    finally:
        await form.close()  # the uploaded files' spooled temporary files
    return ModelInput({"multipart": {"body": fields, "contentType": content_type}}, None, "multipart", files)


async def read_input(spec: ModelSpec, request: Request) -> ModelInput:
    media_type = _media_type(request)
    if spec.multipart:
        return await _multipart_input(spec, request)
    body = await request.body()
    if spec.audio_stream and not _looks_json(body, media_type):
        return _audio_input(spec, request, body, media_type)
    if spec.binary_input and "json" not in media_type:
        if not body.lstrip().startswith(b"{"):
            if not body:
                raise bad_input("the request body is empty: send the file's bytes at '/'")
            return ModelInput({}, body, "binary")
        try:  # JSON sent without a JSON content type (curl -d does this)
            return ModelInput(parse_json_object(body))
        except CloudflareError:
            return ModelInput({}, body, "binary")
    return ModelInput(parse_json_object(body))
