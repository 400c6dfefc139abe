"""Default models are alive in the published catalog; the fake upstream refuses what the schemas refuse."""

from __future__ import annotations

import json

import httpx2
import pytest

from conformance.published import Upstream, index, png_bytes, run_problem, schema_of, wav_bytes
from workers_ai_mcp.defaults import DEFAULTS

URL = "http://fake.test/client/v4/accounts/a/ai/run/"


@pytest.mark.parametrize("default", DEFAULTS, ids=[d.field for d in DEFAULTS])
def test_every_default_model_is_published_and_not_deprecated(default: object) -> None:
    from workers_ai_mcp.defaults import DefaultModel

    assert isinstance(default, DefaultModel)
    rows = {row["name"]: row for row in index()}
    row = rows.get(default.model)
    assert row is not None, f"default {default.field}={default.model} is not in Cloudflare's published catalog"
    assert not row["deprecated"] and not row["planned_deprecation_date"], f"{default.model} is deprecated"
    assert row["task"] == default.task


def post(model: str, **kwargs: object) -> httpx2.Request:
    return httpx2.Request("POST", URL + model, **kwargs)  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize(
    ("model", "request_kwargs", "why"),
    [
        ("@cf/black-forest-labs/flux-2-dev", {"json": {"prompt": "a cat"}}, "multipart"),
        ("@cf/black-forest-labs/flux-2-dev", {"files": {"width": (None, b"512")}}, "prompt"),
        ("@cf/deepgram/nova-3", {"json": {"audio": "abc"}}, "object"),
        ("@cf/deepgram/nova-3", {"content": b"RIFF", "headers": {"content-type": "image/png"}}, "stream handle"),
        (
            "@cf/deepgram/nova-3",
            {"content": b"RIFF", "headers": {"content-type": "audio/wav"}, "params": {"diarize": "yes"}},
            "boolean",
        ),
        (
            "@cf/openai/whisper-large-v3-turbo",
            {"content": b"RIFF", "headers": {"content-type": "audio/wav"}},
            "JSON only",
        ),
        ("@cf/meta/m2m100-1.2b", {"json": {"text": "hi"}}, "target_lang"),
        ("@cf/ai4bharat/indictrans2-en-indic-1B", {"json": {"text": "hi", "target_language": "french"}}, "french"),
        ("@cf/microsoft/resnet-50", {"files": {"prompt": (None, b"x")}}, "multipart"),
    ],
)
def test_the_fake_refuses_what_the_published_schema_refuses(
    model: str, request_kwargs: dict[str, object], why: str
) -> None:
    request = post(model, **request_kwargs)
    request.read()
    problem = run_problem(schema_of(model)["input"], request)
    assert problem is not None and why in problem, problem


def test_the_fake_takes_the_published_forms() -> None:
    image = png_bytes()
    allowed = [
        ("@cf/microsoft/resnet-50", {"content": image, "headers": {"content-type": "image/png"}}),
        (
            "@cf/deepgram/nova-3",
            {"content": wav_bytes(), "headers": {"content-type": "audio/wav"}, "params": {"language": "en"}},
        ),
        (
            "@cf/black-forest-labs/flux-2-klein-4b",
            {"files": {"prompt": (None, b"a cat"), "input_image_0": ("a.png", image, "image/png")}},
        ),
        ("@cf/meta/m2m100-1.2b", {"json": {"text": "hi", "target_lang": "english"}}),
    ]
    for model, kwargs in allowed:
        request = post(model, **kwargs)
        request.read()
        assert run_problem(schema_of(model)["input"], request) is None, model


def test_an_invalid_run_request_is_recorded_and_refused() -> None:
    upstream = Upstream()
    response = upstream.handle(post("@cf/meta/m2m100-1.2b", json={"text": 5}))
    assert response.status_code == 400 and upstream.problems
    assert json.loads(response.content)["errors"][0]["code"] == 5006
