"""Media inside JSON answers: which strings are taken (data URIs, declared fields, long base64) and which stay."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from support.media_inputs import make_png
from support.settings import SHARED_MODELS
from workers_ai_mcp.catalog.model_output import media_fields
from workers_ai_mcp.media.embedded import decode_media, replace_media


def test_a_data_uri_is_decoded_whatever_its_length() -> None:
    png = make_png()
    found = decode_media("data:image/png;base64," + base64.b64encode(png).decode())
    assert found == (png, "image/png")


def test_a_declared_field_is_taken_even_when_short_and_an_undeclared_one_only_when_long() -> None:
    png = make_png()
    encoded = base64.b64encode(png).decode()
    assert len(encoded) < 1_024
    assert decode_media(encoded, declared=True) == (png, "image/png")
    assert decode_media(encoded) is None


def test_long_text_and_letter_strings_that_happen_to_be_base64_stay_as_they_are() -> None:
    assert decode_media("ACGT" * 600) is None  # a DNA sequence: valid base64, not media
    assert decode_media(base64.b64encode(("plain words " * 200).encode()).decode()) is None
    assert decode_media("word " * 500) is None


def test_replace_media_hands_each_media_string_over_and_keeps_everything_else() -> None:
    png = make_png(64, 64)
    big = base64.b64encode(png + bytes(range(256)) * 8).decode()
    answer = {"images": [big, big], "seed": 7, "note": "done", "audio": "short"}
    kept: list[tuple[str, str]] = []

    def keep(data: bytes, media_type: str, field: str) -> str:
        kept.append((media_type, field))
        return f"[saved {len(kept)}]"

    assert replace_media(answer, frozenset(), keep) == {
        "images": ["[saved 1]", "[saved 2]"],
        "seed": 7,
        "note": "done",
        "audio": "short",
    }
    assert kept == [("image/png", "images"), ("image/png", "images")]


@pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason="the shared catalog descriptors are not on this machine")
@pytest.mark.parametrize(
    ("model", "fields"),
    [("flux-1-schnell", {"image"}), ("melotts", {"audio"}), ("aura-1", set()), ("bge-base-en-v1.5", set())],
)
def test_the_published_output_schemas_declare_their_base64_media_fields(model: str, fields: set[str]) -> None:
    schema = json.loads(Path(SHARED_MODELS / f"{model}.json").read_text())["schema"]["output"]
    assert media_fields(schema) == fields
