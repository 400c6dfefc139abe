"""Input checks the published schemas cannot express on their own, each worded like Cloudflare's validator.

- Image parts in `messages` (`image_url`, `input_image`): only for models that take images (see
  `ModelSpec.takes_image_parts`), and only as `data:` URIs (the API rejects HTTP URLs; the emulator
  never fetches anything).
- `reasoning_effort`: only where the model's input schema declares it or its catalog entry has a
  `reasoning_effort` property (then only one of its `supported_efforts`).
- `lora`: an adapter the emulator knows (`finetunes.py`), trained for the model asked for.
- FLUX.2's multipart body: a non-empty `prompt` field; numeric fields hold numbers.
"""

from __future__ import annotations

from .envelope import JsonObj, as_list, as_obj, bad_input
from .finetunes import check_lora
from .model_spec import ModelSpec

_IMAGE_PARTS = frozenset({"image_url", "input_image", "image"})
_NUMERIC_FIELDS = ("width", "height", "steps", "num_steps", "seed", "guidance")


def _image_url(part: JsonObj) -> str:
    value = part.get("image_url")
    if (obj := as_obj(value)) is not None:
        value = obj.get("url")
    return value if isinstance(value, str) else str(part.get("url", ""))


def _check_images(spec: ModelSpec, payload: JsonObj) -> None:
    for i, message in enumerate(as_list(payload.get("messages")) or []):
        for j, part in enumerate(as_list((as_obj(message) or {}).get("content")) or []):
            part_obj = as_obj(part) or {}
            if part_obj.get("type") not in _IMAGE_PARTS:
                continue
            where = f"/messages/{i}/content/{j}"
            if not spec.takes_image_parts:
                raise bad_input(f"model {spec.name} does not take images (no vision in its catalog entry) at '{where}'")
            url = _image_url(part_obj)
            if url and not url.startswith("data:"):
                raise bad_input(f"image URLs must be data: URIs (base64), HTTP URLs are not fetched at '{where}'")


def _check_multipart(payload: JsonObj) -> None:
    body = as_obj((as_obj(payload.get("multipart")) or {}).get("body")) or {}
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad_input("required properties at '/multipart/body' are 'prompt'")
    for name in _NUMERIC_FIELDS:
        value = body.get(name)
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                raise bad_input(f"Type mismatch of '/multipart/body/{name}', 'string' not in 'number'") from None


def _check_effort(spec: ModelSpec, effort: object) -> None:
    declared = as_obj(spec.prop("reasoning_effort"))
    if declared is None and "reasoning_effort" not in spec.input_fields:
        raise bad_input(f"model {spec.name} does not take 'reasoning_effort' at '/reasoning_effort'")
    supported = as_list((declared or {}).get("supported_efforts"))
    if supported and effort is not None and effort not in supported:
        wanted = "', '".join(map(str, supported))
        raise bad_input(f"'reasoning_effort' must be one of '{wanted}' at '/reasoning_effort'")


def check(spec: ModelSpec, payload: JsonObj) -> None:
    """Raise 400/5006 for what the model would refuse beyond its schema."""
    if spec.multipart:
        _check_multipart(payload)
        return
    if "reasoning_effort" in payload:
        _check_effort(spec, payload["reasoning_effort"])
    check_lora(spec.name, payload)
    _check_images(spec, payload)
