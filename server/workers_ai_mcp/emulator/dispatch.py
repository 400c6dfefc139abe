"""One validated model input → that model's answer, by the kind of model."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from . import generate_text as text
from . import perceive_audio, perceive_image
from .envelope import JsonObj, as_list, as_obj, bad_input, invalid_data
from .generate_media import png_image, speech_for
from .generate_vectors import embed_many, rerank
from .model_spec import ModelSpec
from .openai_format import chat_completion, response_object


@dataclass(frozen=True)
class Binary:
    """An answer sent as raw bytes with its own content type (no envelope)."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class Ids:
    """Per-request identifiers that OpenAI-shaped answers carry."""

    ident: str
    created: int


def _bytes_field(payload: JsonObj | bytes, name: str) -> bytes:
    """Raw body bytes, a `[0..255]` integer list, or a base64 string, from `payload[name]`."""
    if isinstance(payload, bytes):
        return payload
    value = payload.get(name)
    if isinstance(value, str):
        try:
            return base64.b64decode(value.split(",", 1)[-1] if value.startswith("data:") else value, validate=True)
        except (binascii.Error, ValueError):
            raise invalid_data("string") from None
    numbers = as_list(value)
    if numbers is None:
        raise bad_input(f"required properties at '/' are '{name}'")
    try:
        return bytes(int(n) for n in numbers)
    except (TypeError, ValueError):
        raise bad_input(f"'{name}' must hold integers between 0 and 255 at '/{name}'") from None


def _text_list(value: Any) -> list[str]:
    items = as_list(value)
    return [str(v) for v in items] if items is not None else [str(value)]


def text_generation(spec: ModelSpec, payload: JsonObj) -> JsonObj:
    completion = text.complete(spec.name, payload)
    if as_obj(payload.get("response_format")) is not None:
        response = text.json_mode_object(spec.name, payload)
        tokens = text.count_tokens(text.dumps_compact(response))
        usage = {"prompt_tokens": completion.prompt_tokens, "completion_tokens": tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + tokens
        return {"response": response, "usage": usage}
    return {"response": completion.text, "usage": completion.usage()}


def answer(spec: ModelSpec, payload: JsonObj | bytes, ids: Ids) -> Any:
    """The model's result (JSON-able), or a Binary for raw-media answers."""
    kind = spec.kind
    obj: JsonObj = payload if isinstance(payload, dict) else {}
    if kind == "text-generation":
        return text_generation(spec, obj)
    if kind == "openai-chat":
        if "input" in obj:
            completion = text.complete(spec.name, obj, limit_key="max_output_tokens", default_limit=512)
            return response_object(spec.name, completion, ident=ids.ident, created=ids.created, request=obj)
        completion = text.complete(spec.name, obj)
        return chat_completion(spec.name, completion, ident=ids.ident, created=ids.created, reasoning=True)
    if kind == "embeddings":
        return embed_many(_text_list(obj["text"]), spec.dimensions, str(obj.get("pooling", "mean")))
    if kind == "reranker":
        contexts = [str((as_obj(c) or {}).get("text", "")) for c in as_list(obj["contexts"]) or []]
        top_k = obj.get("top_k")
        return {"response": rerank(str(obj["query"]), contexts, top_k if isinstance(top_k, int) else None)}
    if kind == "translation":
        source = str(obj.get("source_lang", "en"))
        return {"translated_text": text.translate(str(obj["text"]), source, str(obj["target_lang"]))}
    if kind == "summarization":
        return {"summary": text.summarize(str(obj["input_text"]), int(obj.get("max_length", 1024)))}
    if kind == "text-classification":
        return text.sentiment(str(obj["text"]))
    return _media_answer(spec, payload, obj)


def _media_answer(spec: ModelSpec, payload: JsonObj | bytes, obj: JsonObj) -> Any:
    kind = spec.kind
    if kind == "image-classification":
        return perceive_image.classify(perceive_image.decode(_bytes_field(payload, "image")))
    if kind == "object-detection":
        return perceive_image.detect(perceive_image.decode(_bytes_field(payload, "image")))
    if kind == "image-to-text":
        image = perceive_image.decode(_bytes_field(payload, "image"))
        limit = obj.get("max_tokens", 512)
        prompt = str(obj.get("prompt", ""))
        return {"description": perceive_image.describe(image, prompt, limit if isinstance(limit, int) else 512)}
    if kind == "asr-whisper":
        return perceive_audio.whisper(_bytes_field(payload, "audio"))
    if kind == "asr-whisper-turbo":
        audio = _bytes_field(payload, "audio")
        language, task = str(obj.get("language", "en")), str(obj.get("task", "transcribe"))
        return perceive_audio.whisper_turbo(audio, language=language, task=task, prefix=str(obj.get("prefix", "")))
    if kind in ("asr-nova", "vad"):
        if isinstance(payload, dict) and not isinstance(payload.get("audio"), str):
            raise bad_input("over REST send the audio bytes as the request body (or base64 in 'audio') at '/audio'")
        audio = _bytes_field(payload, "audio")
        return perceive_audio.nova(audio) if kind == "asr-nova" else perceive_audio.end_of_turn(audio)
    if kind == "text-to-image-png":
        width, height, seed = int(obj.get("width", 1024)), int(obj.get("height", 1024)), int(obj.get("seed", 0))
        return Binary(png_image(str(obj["prompt"]), width, height, seed), "image/png")
    if kind == "text-to-image-json":
        return {"image": base64.b64encode(png_image(str(obj["prompt"]), 1024, 1024)).decode()}
    if kind == "tts-mp3":
        return Binary(speech_for(str(obj["text"])), "audio/mpeg")
    if kind == "tts-json":
        return {"audio": base64.b64encode(speech_for(str(obj["prompt"]))).decode()}
    raise AssertionError(f"no answer for model kind {kind}")
