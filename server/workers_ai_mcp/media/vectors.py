"""Output policy for large JSON data (embedding vectors, big model answers): inline while small, else a file."""

from __future__ import annotations

import json
import math
from typing import Any

from ..settings import Settings
from .outputs import OutputStore, SavedFile

PREVIEW_VALUES = 8
PREVIEW_DIGITS = 6
# A data tool's JSON is sent twice (structured content and its text copy), and the hard cap is
# max_result_bytes for the whole result: a quarter leaves room for both plus the envelope.
INLINE_SHARE = 4


def inline_limit(settings: Settings) -> int:
    """Largest JSON (in bytes) a tool puts inline in its result; above it the data goes to a file."""
    return settings.max_result_bytes // INLINE_SHARE


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def save_json(outputs: OutputStore, value: Any, *, stem: str) -> SavedFile:
    """Write `value` as a JSON file in the output folder."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return outputs.save(data, stem=stem, extension="json")


def preview(vectors: list[list[float]]) -> list[list[float]]:
    """The first few values of each vector, rounded, to show what the vectors look like."""
    return [[round(x, PREVIEW_DIGITS) for x in vector[:PREVIEW_VALUES]] for vector in vectors]


def norms(vectors: list[list[float]]) -> list[float]:
    """Euclidean length of each vector (1.0 means already normalized for cosine similarity)."""
    return [round(math.sqrt(sum(x * x for x in vector)), PREVIEW_DIGITS) for vector in vectors]


def short_model_name(model: str) -> str:
    """`bge-base-en-v1.5` from `@cf/baai/bge-base-en-v1.5`: a readable stem for file names."""
    return model.rsplit("/", 1)[-1]
