"""schema_check: one readable sentence per failure, never a refusal of what the schema accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.settings import SHARED_MODELS
from workers_ai_mcp.catalog.schema_check import field_path, input_problem

TEXT_OR_LIST: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3},
    ]
}
EMBED: dict[str, Any] = {
    "type": "object",
    "oneOf": [
        {
            "properties": {"text": TEXT_OR_LIST, "pooling": {"type": "string", "enum": ["mean", "cls"]}},
            "required": ["text"],
        },
        {"properties": {"requests": {"type": "array"}}, "required": ["requests"]},
    ],
}
CHAT_OPTIONS: dict[str, Any] = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 5},
    "max_tokens": {"type": "integer"},
}
CHAT: dict[str, Any] = {
    "type": "object",
    "oneOf": [
        {
            "title": "Prompt",
            "properties": {"prompt": {"type": "string", "minLength": 1}, **CHAT_OPTIONS},
            "required": ["prompt"],
        },
        {
            "title": "Messages",
            "properties": {
                "messages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"role": {"type": "string"}, "content": {"type": "string", "maxLength": 10}},
                        "required": ["role", "content"],
                    },
                },
                **CHAT_OPTIONS,
            },
            "required": ["messages"],
        },
        # Like Cloudflare's async-batch branch: no `required`, so by the letter it matches any object.
        {"title": "Async Batch", "properties": {"requests": {"type": "array"}}},
    ],
}
IMAGE: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "format": "binary", "contentType": "image/png"},
        {
            "type": "object",
            "properties": {"image": {"type": "array", "items": {"type": "number"}}},
            "required": ["image"],
        },
    ]
}
ODD_KEYS: dict[str, Any] = {"type": "object", "properties": {"a-b": {"type": "integer"}, "x": {"type": "object"}}}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], str | None]] = [
    ("a valid list of texts", EMBED, {"text": ["a", "b"]}, None),
    (
        "neither branch's required field",
        EMBED,
        {},
        "input: matches none of the allowed forms ("
        "'text' is a required property; or 'requests' is a required property)",
    ),
    ("a number where a string or array goes", EMBED, {"text": 5}, "input.text: 5 is not of type 'string' or 'array'"),
    ("an empty string in a list", EMBED, {"text": ["a", ""]}, "input.text[1]: must not be empty"),
    ("too many items", EMBED, {"text": ["a"] * 4}, "input.text: has 4 items; it must have at most 3"),
    (
        "a value outside an enum",
        EMBED,
        {"text": "a", "pooling": "max"},
        "input.pooling: 'max' is not one of 'mean', 'cls'",
    ),
    ("a valid prompt despite the catch-all batch branch", CHAT, {"prompt": "hi", "temperature": 0.2}, None),
    ("a valid batch", CHAT, {"requests": [{"prompt": "x"}]}, None),
    (
        "a nested wrong type",
        CHAT,
        {"messages": [{"role": "user", "content": 5}]},
        "input.messages[0].content: 5 is not of type 'string'",
    ),
    (
        "a nested missing field",
        CHAT,
        {"messages": [{"role": "user"}]},
        "input.messages[0]: 'content' is a required property",
    ),
    (
        "a nested string too long",
        CHAT,
        {"messages": [{"role": "u", "content": "x" * 11}]},
        "input.messages[0].content: has 11 characters; it must have at most 10",
    ),
    (
        "a value above a maximum",
        CHAT,
        {"prompt": "hi", "temperature": 9},
        "input.temperature: 9 is greater than the maximum of 5",
    ),
    (
        "a value below a minimum",
        CHAT,
        {"prompt": "hi", "temperature": -1},
        "input.temperature: -1 is less than the minimum of 0",
    ),
    (
        "a string where an integer goes",
        CHAT,
        {"prompt": "hi", "max_tokens": "many"},
        "input.max_tokens: 'many' is not of type 'integer'",
    ),
    (
        "no form at all",
        CHAT,
        {},
        "input: matches none of the allowed forms ('prompt' is a required property; "
        "or 'messages' is a required property; or 'requests' is a required property)",
    ),
    ("an object for a binary-or-object model", IMAGE, {"image": [1, 2, 3]}, None),
    ("a missing field of the only JSON form", IMAGE, {}, "input: 'image' is a required property"),
    ("a wrong type of the only JSON form", IMAGE, {"image": "abc"}, "input.image: 'abc' is not of type 'array'"),
    ("a key that is not an identifier", ODD_KEYS, {"a-b": "1"}, "input[\"a-b\"]: '1' is not of type 'integer'"),
    ("an array where an object goes", ODD_KEYS, {"x": [1, 2]}, "input.x: an array of 2 items is not of type 'object'"),
]


@pytest.mark.parametrize(("case", "schema", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_input_problem_names_the_field_and_the_rule(
    case: str, schema: dict[str, Any], value: dict[str, Any], expected: str | None
) -> None:
    assert input_problem(schema, value) == expected, case


def test_long_strings_are_abbreviated_in_messages() -> None:
    problem = input_problem({"type": "object", "properties": {"n": {"type": "integer"}}}, {"n": "y" * 500})
    assert problem is not None and len(problem) < 80 and problem.endswith("…' is not of type 'integer'")


def test_a_declared_draft_7_schema_is_checked_with_draft_7() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [{"type": "string"}]}
    assert input_problem(schema, ["ok", 5]) is None  # tuple items: extra items are free in Draft 7
    assert input_problem(schema, [5]) == "input[0]: 5 is not of type 'string'"


def test_a_schema_that_is_not_valid_json_schema_is_not_checked_locally() -> None:
    assert input_problem({"type": "object", "properties": {"a": {"type": 12}}}, {"a": 1}) is None


def test_field_path_renders_indices_and_odd_keys() -> None:
    assert field_path(["messages", 0, "content"]) == "input.messages[0].content"
    assert field_path(["my key", 2]) == 'input["my key"][2]'
    assert field_path([]) == "input"


def published(name: str) -> dict[str, Any]:
    if not SHARED_MODELS.is_dir():
        pytest.skip("Cloudflare's model schemas (../shared) are not present")
    return json.loads((SHARED_MODELS / f"{name}.json").read_text())["schema"]["input"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("llama-3.3-70b-instruct-fp8-fast", {"prompt": "hi"}, None),
        ("llama-3.3-70b-instruct-fp8-fast", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9}, None),
        ("llama-3.3-70b-instruct-fp8-fast", {"requests": [{"prompt": "x"}]}, None),
        (
            "llama-3.3-70b-instruct-fp8-fast",
            {"messages": [{"role": "user", "content": 5}]},
            "input.messages[0].content: 5 is not of type 'string'",
        ),
        ("bge-base-en-v1.5", {"text": ["a"], "pooling": "cls"}, None),
        ("bge-base-en-v1.5", {"text": ["a"] * 101}, "input.text: has 101 items; it must have at most 100"),
        (
            "bge-reranker-base",
            {"query": "q", "contexts": [{"text": "a"}], "top_k": 0},
            "input.top_k: 0 is less than the minimum of 1",
        ),
        ("resnet-50", {"image": [0, 255]}, None),
        ("whisper-large-v3-turbo", {"audio": "UklGRg=="}, None),
        (
            "stable-diffusion-xl-base-1.0",
            {"prompt": "x", "width": 100},
            "input.width: 100 is less than the minimum of 256",
        ),
    ],
)
def test_cloudflares_published_schemas_accept_good_inputs_and_explain_bad_ones(
    name: str, value: dict[str, Any], expected: str | None
) -> None:
    assert input_problem(published(name), value) == expected
