"""Answers of the media tasks: images and audio in (raw bytes, int arrays, base64, data URIs), PNG/JPEG/MP3 out."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from PIL import Image

from . import perceive_audio, perceive_image
from .envelope import JsonObj, as_list, as_obj, bad_input, invalid_data
from .forms import ModelInput
from .generate_media import png_image, speech_for
from .model_spec import ModelSpec
from .results import Binary

_MAX_SIDE = 2048


def media_bytes(inp: ModelInput, name: str) -> bytes | None:
    """Raw body bytes, a multipart file, a `[0..255]` list, or a base64 / data-URI string from `payload[name]`."""
    if inp.media is not None:
        return inp.media
    if inp.files:
        return next(iter(inp.files.values()))
    value = inp.payload.get(name)
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return None  # the emulator fetches nothing
        try:
            return base64.b64decode(value.split(",", 1)[-1] if value.startswith("data:") else value, validate=True)
        except (binascii.Error, ValueError):
            raise invalid_data("string") from None
    numbers = as_list(value)
    if numbers is None:
        return None
    try:
        return bytes(int(n) for n in numbers)
    except (TypeError, ValueError):
        raise bad_input(f"'{name}' must hold integers between 0 and 255 at '/{name}'") from None


def _needed(data: bytes | None, name: str) -> bytes:
    if data is None:
        raise bad_input(f"required properties at '/' are '{name}'")
    return data


def _side(payload: JsonObj, name: str, default: int) -> int:
    value = payload.get(name, default)
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        number = default
    return min(max(number, 16), _MAX_SIDE)


def _image_answer(spec: ModelSpec, inp: ModelInput) -> Binary | list[Any]:
    fields = as_obj((as_obj(inp.payload.get("multipart")) or {}).get("body")) or inp.payload
    prompt = str(fields.get("prompt", ""))
    width, height = _side(fields, "width", 1024), _side(fields, "height", 1024)
    seed = _side(fields, "seed", 0) if "seed" in fields else 0
    png = png_image(prompt, width, height, seed)
    if "image/png" in spec.output_types:
        return Binary(png, "image/png")
    if "image/jpeg" in spec.output_types:
        out = io.BytesIO()
        with Image.open(io.BytesIO(png)) as image:
            image.convert("RGB").save(out, "JPEG", quality=80)
        return Binary(out.getvalue(), "image/jpeg")
    return [{"image": base64.b64encode(png).decode()}]


def _audio_answer(spec: ModelSpec, inp: ModelInput) -> list[Any]:
    payload = inp.payload
    if "audio" not in spec.input_fields:
        raise bad_input(f"model {spec.name} takes audio over a WebSocket only, not /ai/run at '/'")
    if inp.form == "json" and spec.audio_stream and not isinstance(payload.get("audio"), str):
        raise bad_input("over REST send the audio bytes as the request body (or base64 in 'audio') at '/audio'")
    audio = _needed(media_bytes(inp, "audio"), "audio")
    if spec.task.name == "Voice Activity Detection":
        return [perceive_audio.end_of_turn(audio)]
    language, task = str(payload.get("language", "en")), str(payload.get("task", "transcribe"))
    turbo = perceive_audio.whisper_turbo(audio, language=language, task=task, prefix=str(payload.get("prefix", "")))
    fields = spec.output_fields
    if "results" in fields:
        return [perceive_audio.nova(audio)]
    return [turbo, perceive_audio.whisper(audio)] if "transcription_info" in fields else [perceive_audio.whisper(audio)]


def media_answer(spec: ModelSpec, inp: ModelInput) -> Binary | list[Any]:
    task, payload = spec.task.name, inp.payload
    if task in ("Image Classification", "Object Detection", "Image-to-Text"):
        data = media_bytes(inp, "image")
        if task == "Image-to-Text" and data is None:
            return [{"description": f"[emulator] no image was decoded. You asked: {payload.get('question', '')}"}]
        image = perceive_image.decode(_needed(data, "image"))
        if task == "Image Classification":
            return [perceive_image.classify(image)]
        if task == "Object Detection":
            return [perceive_image.detect(image)]
        prompt = str(payload.get("prompt", payload.get("question", "")))
        return [{"description": perceive_image.describe(image, prompt, int(payload.get("max_tokens", 512)))}]
    if task in ("Automatic Speech Recognition", "Voice Activity Detection"):
        return _audio_answer(spec, inp)
    if task == "Text-to-Image":
        return _image_answer(spec, inp)
    if task == "Text-to-Speech":
        spoken = str(payload.get("text", payload.get("prompt", "")))
        mp3 = speech_for(spoken)
        if "application/json" in spec.output_types or "audio/mpeg" not in spec.output_types:
            return [{"audio": base64.b64encode(mp3).decode()}]
        return Binary(mp3, "audio/mpeg")
    return []
