"""Our own JSON Schemas for the media tasks: vision, speech recognition, image and speech generation."""

from __future__ import annotations

from typing import Any

JsonObj = dict[str, Any]

BINARY_IMAGE: JsonObj = {"type": "string", "format": "binary", "description": "Raw image bytes (request body)"}
BINARY_AUDIO: JsonObj = {"type": "string", "format": "binary", "description": "Raw audio bytes (request body)"}
BYTE_ARRAY: JsonObj = {
    "type": "array",
    "description": "Bytes as 8-bit unsigned integers",
    "items": {"type": "integer", "minimum": 0, "maximum": 255},
}


def _json(schema: JsonObj) -> JsonObj:
    return {"contentType": "application/json", **schema}


def image_input() -> JsonObj:
    """resnet-50 / detr-resnet-50: a raw image body or `{image: [bytes]}`."""
    return {
        "oneOf": [
            BINARY_IMAGE,
            {"type": "object", "properties": {"image": BYTE_ARRAY}, "required": ["image"]},
        ]
    }


def detection_output() -> JsonObj:
    box = {
        "type": "object",
        "properties": {c: {"type": "number"} for c in ("xmin", "ymin", "xmax", "ymax")},
    }
    item = {
        "type": "object",
        "properties": {"score": {"type": "number"}, "label": {"type": "string"}, "box": box},
    }
    return _json({"type": "array", "items": item})


def image_to_text_input() -> JsonObj:
    number: JsonObj = {"type": "number"}
    return {
        "oneOf": [
            BINARY_IMAGE,
            {
                "type": "object",
                "properties": {
                    "image": {"oneOf": [BYTE_ARRAY, {"type": "string", "description": "Base64 image"}]},
                    "prompt": {"type": "string"},
                    "raw": {"type": "boolean", "default": False},
                    "max_tokens": {"type": "integer", "default": 512},
                    "temperature": number,
                    "top_p": number,
                    "top_k": number,
                    "seed": number,
                    "repetition_penalty": number,
                    "frequency_penalty": number,
                    "presence_penalty": number,
                },
                "required": ["image"],
            },
        ]
    }


def image_to_text_output() -> JsonObj:
    return _json({"type": "object", "properties": {"description": {"type": "string"}}})


def whisper_input() -> JsonObj:
    return {
        "oneOf": [
            BINARY_AUDIO,
            {"type": "object", "properties": {"audio": BYTE_ARRAY}, "required": ["audio"]},
        ]
    }


def _words() -> JsonObj:
    word = {
        "type": "object",
        "properties": {"word": {"type": "string"}, "start": {"type": "number"}, "end": {"type": "number"}},
    }
    return {"type": "array", "items": word}


def whisper_output() -> JsonObj:
    return _json(
        {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "word_count": {"type": "number"},
                "words": _words(),
                "vtt": {"type": "string"},
            },
            "required": ["text"],
        }
    )


def whisper_turbo_input() -> JsonObj:
    number: JsonObj = {"type": "number"}
    return {
        "type": "object",
        "properties": {
            "audio": {"type": "string", "description": "Base64-encoded audio"},
            "task": {"type": "string", "default": "transcribe", "description": "transcribe or translate"},
            "language": {"type": "string", "default": "en"},
            "vad_filter": {"type": "boolean", "default": False},
            "initial_prompt": {"type": "string"},
            "prefix": {"type": "string"},
            "beam_size": {"type": "integer", "default": 5},
            "condition_on_previous_text": {"type": "boolean", "default": True},
            "no_speech_threshold": number,
            "compression_ratio_threshold": number,
            "log_prob_threshold": number,
            "hallucination_silence_threshold": number,
        },
        "required": ["audio"],
    }


def whisper_turbo_output() -> JsonObj:
    number: JsonObj = {"type": "number"}
    segment = {
        "type": "object",
        "properties": {
            "start": number,
            "end": number,
            "text": {"type": "string"},
            "temperature": number,
            "avg_logprob": number,
            "compression_ratio": number,
            "no_speech_prob": number,
            "words": _words(),
        },
    }
    info = {
        "type": "object",
        "properties": {
            "language": {"type": "string"},
            "language_probability": number,
            "duration": number,
            "duration_after_vad": number,
        },
    }
    return _json(
        {
            "type": "object",
            "properties": {
                "transcription_info": info,
                "text": {"type": "string"},
                "word_count": number,
                "segments": {"type": "array", "items": segment},
                "vtt": {"type": "string"},
            },
            "required": ["text"],
        }
    )


def nova_input() -> JsonObj:
    """Deepgram nova-3: over REST a raw audio body; the JSON form is the Workers binding's."""
    stream = {
        "type": "object",
        "properties": {"body": {"type": "object"}, "contentType": {"type": "string"}},
        "required": ["body", "contentType"],
    }
    flags = {name: {"type": "boolean"} for name in ("detect_language", "diarize", "punctuate", "smart_format")}
    return {
        "oneOf": [
            BINARY_AUDIO,
            {"type": "object", "properties": {"audio": stream, "language": {"type": "string"}, **flags}},
        ]
    }


def nova_output() -> JsonObj:
    word = {
        "type": "object",
        "properties": {c: {"type": "number"} for c in ("confidence", "start", "end")} | {"word": {"type": "string"}},
    }
    alternative = {
        "type": "object",
        "properties": {
            "confidence": {"type": "number"},
            "transcript": {"type": "string"},
            "words": {"type": "array", "items": word},
        },
    }
    channel = {"type": "object", "properties": {"alternatives": {"type": "array", "items": alternative}}}
    results = {"type": "object", "properties": {"channels": {"type": "array", "items": channel}}}
    return _json({"type": "object", "properties": {"results": results}})


def vad_input() -> JsonObj:
    dtype = {"type": "string", "enum": ["uint8", "float32", "float64"]}
    stream = {
        "type": "object",
        "properties": {"body": {"type": "object"}, "contentType": {"type": "string"}},
        "required": ["body", "contentType"],
    }
    return {
        "type": "object",
        "oneOf": [
            {"properties": {"audio": stream, "dtype": dtype}, "required": ["audio"]},
            {
                "properties": {"audio": {"type": "string", "description": "Base64 audio"}, "dtype": dtype},
                "required": ["audio"],
            },
        ],
    }


def vad_output() -> JsonObj:
    return _json(
        {"type": "object", "properties": {"is_complete": {"type": "boolean"}, "probability": {"type": "number"}}}
    )


def sdxl_input() -> JsonObj:
    byte_list: JsonObj = {"type": "array", "items": {"type": "number"}}
    return {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "minLength": 1},
            "negative_prompt": {"type": "string"},
            "height": {"type": "integer", "minimum": 256, "maximum": 2048},
            "width": {"type": "integer", "minimum": 256, "maximum": 2048},
            "image": byte_list,
            "image_b64": {"type": "string"},
            "mask": byte_list,
            "num_steps": {"type": "integer", "default": 20, "maximum": 20},
            "strength": {"type": "number", "default": 1},
            "guidance": {"type": "number", "default": 7.5},
            "seed": {"type": "integer"},
        },
        "required": ["prompt"],
    }


def png_output() -> JsonObj:
    return {"type": "string", "contentType": "image/png", "format": "binary"}


def flux_input() -> JsonObj:
    return {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 2048},
            "steps": {"type": "integer", "default": 4, "maximum": 8},
        },
        "required": ["prompt"],
    }


def flux_output() -> JsonObj:
    return _json({"type": "object", "properties": {"image": {"type": "string", "description": "Base64 PNG"}}})


def aura_input() -> JsonObj:
    speakers = ["angus", "asteria", "arcas", "orion", "orpheus", "athena"]
    speakers += ["luna", "zeus", "perseus", "helios", "hera", "stella"]
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "speaker": {"type": "string", "enum": speakers, "default": "angus"},
            "encoding": {"type": "string", "enum": ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"]},
            "container": {"type": "string", "enum": ["none", "wav", "ogg"]},
            "sample_rate": {"type": "number"},
            "bit_rate": {"type": "number"},
        },
        "required": ["text"],
    }


def mp3_output() -> JsonObj:
    return {"type": "string", "contentType": "audio/mpeg", "format": "binary"}


def melotts_input() -> JsonObj:
    return {
        "type": "object",
        "properties": {"prompt": {"type": "string", "minLength": 1}, "lang": {"type": "string", "default": "en"}},
        "required": ["prompt"],
    }


def melotts_output() -> JsonObj:
    audio = _json({"type": "object", "properties": {"audio": {"type": "string", "description": "Base64 MP3"}}})
    return {"oneOf": [{**audio, "required": ["audio"]}, mp3_output()]}
