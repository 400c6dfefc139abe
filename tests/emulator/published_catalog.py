"""Cloudflare's published catalog beside the checkout (../shared/workers-ai-models), read for the contract tests.

Checks read every `oneOf` as `anyOf` (`relaxed`), as the real API accepts values that match several
overlapping branches. Never imported by the server or the emulator.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from support.emulator import make_png, make_wav

REAL_MODELS = Path(__file__).resolve().parents[3] / "shared" / "workers-ai-models"
PRESENT = (REAL_MODELS / "index.json").is_file()
ABSENT_REASON = f"Cloudflare's published catalog is not at {REAL_MODELS} (it sits beside the checkout, not in it)"
PNG = make_png(96, 64)
WAV = make_wav(1.0)
HELLO = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hello there"}]


@cache
def index() -> list[dict[str, Any]]:
    return json.loads((REAL_MODELS / "index.json").read_text(encoding="utf-8")) if PRESENT else []


@cache
def load(file: str) -> dict[str, Any]:
    return json.loads((REAL_MODELS / file).read_text(encoding="utf-8"))


def relaxed(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {("anyOf" if k == "oneOf" else k): relaxed(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [relaxed(v) for v in schema]
    return schema


def errors(schema: Any, instance: Any) -> list[str]:
    found = Draft202012Validator(relaxed(schema)).iter_errors(instance)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in found]


def content_types(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["contentType"]} if isinstance(schema.get("contentType"), str) else set()
        return own.union(*(content_types(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(content_types(v) for v in schema))
    return set()


def _candidates(task: str, name: str) -> list[dict[str, Any]]:
    """Plausible requests of the task, most common first; each model's schema picks the first it accepts."""
    audio = base64.b64encode(WAV).decode()
    image_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    by_task: dict[str, list[dict[str, Any]]] = {
        "Text Generation": [
            {"messages": HELLO, "max_tokens": 64},
            {"messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 64},
            {"prompt": "Hello there", "max_tokens": 32},
            {
                "model": name.rsplit("/", 1)[-1],
                "state": "The sky is blue today.",
                "questions": {"q1": {"type": "noul", "instructions": "Is the sky blue?"}},
            },
        ],
        "Text Embeddings": [{"text": ["first text", "second text"]}, {"text": "one text"}, {"input": ["one"]}],
        "Text Classification": [
            {"text": "I love this"},
            {"query": "otters", "contexts": [{"text": "otters swim"}, {"text": "stocks fell"}], "top_k": 2},
        ],
        "Translation": [
            {"text": "Good morning", "source_lang": "en", "target_lang": "fr"},
            {"text": "Good morning", "target_language": "hin_Deva"},
            {"text": ["Good morning"], "target_language": "hin_Deva"},
        ],
        "Summarization": [{"input_text": "A long article about otters. " * 10, "max_length": 64}],
        "Image Classification": [{"image": list(PNG)}],
        "Object Detection": [{"image": list(PNG)}],
        "Image-to-Text": [
            {"image": list(PNG), "prompt": "Describe it", "max_tokens": 64},
            {"task": "caption", "image": image_uri},
        ],
        "Automatic Speech Recognition": [
            {"audio": audio},
            {"audio": list(WAV[:2000])},
            {"encoding": "linear16", "sample_rate": "16000"},
        ],
        "Voice Activity Detection": [{"audio": audio, "dtype": "uint8"}],
        "Text-to-Image": [{"prompt": "a lighthouse at dusk"}],
        "Text-to-Speech": [{"text": "Hello from the emulator"}, {"prompt": "Hello from the emulator"}],
    }
    return by_task.get(task, [])


def valid_request(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The first candidate request the model's published input schema accepts (None: none does)."""
    schema = load(entry["file"]).get("schema")
    for candidate in _candidates(entry["task"], entry["name"]):
        if schema is None or not errors(schema["input"], candidate):
            return candidate
    return None


INVALID = [
    {},
    {"prompt": 12345},
    {"messages": "not a list"},
    {"text": 12345},
    {"image": {"not": "bytes"}},
    {"audio": 5},
    {"input_text": 5},
    {"requests": "not a list"},
    {"multipart": 5},
]


def invalid_request(entry: dict[str, Any]) -> dict[str, Any] | None:
    schema = load(entry["file"])["schema"]["input"]
    return next((c for c in INVALID if errors(schema, c)), None)
