"""The language tools (translate, summarize, classify_text) through a real MCP session against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from support.results import structured, text_of
from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from support.text_tools import Call, Wire
from workers_ai_mcp.emulator import EmulatorState, Fault

API = "/client/v4/accounts/test-account/ai"
BART = "@cf/facebook/bart-large-cnn"
DISTILBERT = "@cf/huggingface/distilbert-sst-2-int8"
M2M = "@cf/meta/m2m100-1.2b"


ARTICLE = (
    "The city council approved a new budget on Tuesday. It funds three new parks, repairs to the harbour "
    "bridge and longer library hours. Opponents said the plan raises property taxes too quickly."
)


async def test_summarize_sends_the_text_as_input_text_and_returns_the_summary(call: Call, wire: Wire) -> None:
    data = structured(await call("summarize", {"text": ARTICLE}))
    assert data == {"summary": data["summary"], "model": BART, "call": data["call"]}
    assert data["call"]["price_known"] in (True, False)
    assert data["summary"].startswith("[emulator] The city council")
    assert wire.paths() == [f"{API}/run/{BART}"]
    assert wire.bodies() == [{"input_text": ARTICLE}]


async def test_summarize_passes_max_length(call: Call, wire: Wire) -> None:
    data = structured(await call("summarize", {"text": ARTICLE, "max_length": 5}))
    assert len(data["summary"].split()) == 5
    assert wire.bodies() == [{"input_text": ARTICLE, "max_length": 5}]


@pytest.mark.parametrize(
    ("text", "best"),
    [("I love this wonderful, delightful book", "POSITIVE"), ("What an awful, boring, broken mess", "NEGATIVE")],
)
async def test_classify_text_returns_labels_best_first(call: Call, wire: Wire, text: str, best: str) -> None:
    data = structured(await call("classify_text", {"text": text}))
    assert data["model"] == DISTILBERT
    labels = data["labels"]
    assert labels[0]["label"] == best
    assert {label["label"] for label in labels} == {"POSITIVE", "NEGATIVE"}
    assert labels[0]["score"] >= labels[1]["score"]
    assert sum(label["score"] for label in labels) == pytest.approx(1.0)
    assert wire.paths() == [f"{API}/run/{DISTILBERT}"]
    assert wire.bodies() == [{"text": text}]


async def test_translate_sends_both_languages_and_returns_the_translation(call: Call, wire: Wire) -> None:
    data = structured(await call("translate", {"text": "good morning", "target_lang": "fr"}))
    assert data["translated_text"] and data["source_lang"] == "en" and data["target_lang"] == "fr"
    assert wire.bodies() == [{"text": "good morning", "source_lang": "en", "target_lang": "fr"}]


async def test_a_model_of_another_task_gives_a_clear_error(call: Call) -> None:
    result = await call("summarize", {"text": ARTICLE, "model": DISTILBERT})
    assert result.is_error
    assert DISTILBERT in text_of(result)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        pytest.param("summarize", {"text": ""}, id="summarize-empty"),
        pytest.param("summarize", {"text": "x" * 100_001}, id="summarize-too-long"),
        pytest.param("summarize", {"text": ARTICLE, "max_length": 0}, id="summarize-max_length-0"),
        pytest.param("summarize", {"text": ARTICLE, "max_length": 1025}, id="summarize-max_length-1025"),
        pytest.param("classify_text", {"text": ""}, id="classify-empty"),
        pytest.param("classify_text", {"text": "x" * 20_001}, id="classify-too-long"),
        pytest.param("translate", {"text": "hi", "target_lang": "fr&de"}, id="translate-bad-language"),
        pytest.param("classify_text", {"text": "hi", "model": "@cf/a/b?x=1"}, id="classify-crafted-model"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(tool, arguments)
    assert result.is_error
    assert emulator_state.requests == []


CALLS = [
    pytest.param("summarize", {"text": ARTICLE}, id="summarize"),
    pytest.param("classify_text", {"text": "nice"}, id="classify_text"),
    pytest.param("translate", {"text": "hello", "target_lang": "de"}, id="translate"),
]


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_an_unknown_model_points_to_list_models(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(tool, {**arguments, "model": "@cf/nobody/no-such-model"})
    assert result.is_error
    assert "list_models" in text_of(result)
    # translate reads a model's schema first (to send what it takes): that look-up finds no model.
    assert len(model_calls(emulator_state)) == (0 if tool == "translate" else 1)


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_a_refused_token_names_cloudflare_api_token(
    tmp_path: Path, emulator_app: Starlette, tool: str, arguments: dict[str, Any]
) -> None:
    settings = make_settings(tmp_path, api_token=SecretStr("not-the-token"))
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert "CLOUDFLARE_API_TOKEN" in text_of(result)


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_capacity_errors_are_retried_then_reported(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040)
    result = await call(tool, arguments)
    assert result.is_error
    assert "capacity" in text_of(result) and "3 attempts" in text_of(result)
    assert len(model_calls(emulator_state)) == 3


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_one_unavailable_answer_is_retried_and_the_call_succeeds(
    call: Call, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.UNAVAILABLE_503)
    structured(await call(tool, arguments))
    assert len(model_calls(emulator_state)) == 2


@pytest.mark.parametrize(("tool", "arguments"), CALLS)
async def test_a_hanging_model_ends_at_the_deadline(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, tool: str, arguments: dict[str, Any]
) -> None:
    emulator_state.inject(Fault.HANG)
    settings = make_settings(tmp_path, timeout=0.5)
    with anyio.fail_after(5):
        async with open_session(settings, upstream=emulator_app) as client:
            result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert "0.5 s" in text_of(result)


@pytest.mark.parametrize(
    ("tool", "arguments", "model_file"),
    [
        pytest.param("summarize", {"text": ARTICLE, "max_length": 1024}, "bart-large-cnn.json", id="summarize"),
        pytest.param("classify_text", {"text": "nice"}, "distilbert-sst-2-int8.json", id="classify_text"),
        pytest.param(
            "translate", {"text": "hi", "source_lang": "en", "target_lang": "ja"}, "m2m100-1.2b.json", id="translate"
        ),
    ],
)
async def test_request_bodies_validate_against_cloudflares_own_schemas(
    call: Call, wire: Wire, tool: str, arguments: dict[str, Any], model_file: str
) -> None:
    path = SHARED_MODELS / model_file
    if not path.exists():
        pytest.skip(f"Cloudflare's schemas are not at {SHARED_MODELS}")
    schema = json.loads(path.read_text())["schema"]["input"]
    structured(await call(tool, arguments))
    assert schema_errors(schema, wire.bodies()[0]) == []


def schema_errors(schema: dict[str, Any], body: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(body)  # pyright: ignore[reportUnknownMemberType]
    return [str(error.message) for error in errors]


def model_calls(state: EmulatorState) -> list[str]:
    """Paths of the requests that ran a model (the client's own catalog look-ups for pricing left out)."""
    return [request.path for request in state.requests if "/ai/models/" not in request.path]
