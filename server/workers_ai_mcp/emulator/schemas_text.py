"""Our own input/output JSON Schemas for text-generation models.

Written to accept what Cloudflare's published schemas accept for the requests a client sends,
and to describe what the emulator answers. Branches that Cloudflare leaves ambiguous (an
"Async Batch" or "Async response" object without `required`) carry `required` here, so that
`oneOf` stays exclusive under a standard validator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObj = dict[str, Any]

STREAM_OUTPUT: JsonObj = {"type": "string", "contentType": "text/event-stream", "format": "binary"}
ASYNC_OUTPUT: JsonObj = {
    "type": "object",
    "contentType": "application/json",
    "title": "Async response",
    "properties": {"request_id": {"type": "string", "description": "Id to poll for the batch result."}},
    "required": ["request_id"],
}
USAGE: JsonObj = {
    "type": "object",
    "description": "Token counts of the request",
    "properties": {
        "prompt_tokens": {"type": "number", "default": 0},
        "completion_tokens": {"type": "number", "default": 0},
        "total_tokens": {"type": "number", "default": 0},
    },
}
JSON_MODE: JsonObj = {
    "title": "JSON Mode",
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["json_object", "json_schema"]}, "json_schema": {}},
}
IMAGE_BYTES: JsonObj = {
    "oneOf": [
        {"type": "array", "description": "Image bytes as 8-bit unsigned integers", "items": {"type": "number"}},
        {"type": "string", "format": "binary", "description": "Image contents (base64 over REST)"},
    ]
}


@dataclass(frozen=True)
class TextGenOptions:
    """How one model's text-generation schema differs from the baseline."""

    max_chars: int | None = None  # maxLength on prompt and message content
    json_mode: bool = False  # response_format accepted
    wide_penalties: bool = False  # frequency/presence penalty in [-2, 2] instead of [0, 2]
    unit_top_p: bool = False  # top_p in [0.001, 1] instead of [0, 2]
    content_parts: bool = False  # message content may be an array of text parts
    async_batch: bool = False  # `requests` batch branch (queueRequest)
    vision: bool = False  # `image` input


def _sampling(o: TextGenOptions) -> JsonObj:
    penalty_min = -2 if o.wide_penalties else 0
    top_p: JsonObj = (
        {"type": "number", "minimum": 0.001, "maximum": 1}
        if o.unit_top_p
        else {
            "type": "number",
            "minimum": 0,
            "maximum": 2,
        }
    )
    props: JsonObj = {
        "raw": {"type": "boolean", "default": False, "description": "Skip the chat template."},
        "stream": {"type": "boolean", "default": False, "description": "Stream the answer as server-sent events."},
        "max_tokens": {"type": "integer", "default": 256, "description": "Most tokens to generate."},
        "temperature": {"type": "number", "default": 0.6, "minimum": 0, "maximum": 5},
        "top_p": top_p,
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
        "seed": {"type": "integer", "minimum": 1, "maximum": 9999999999},
        "repetition_penalty": {"type": "number", "minimum": 0, "maximum": 2},
        "frequency_penalty": {"type": "number", "minimum": penalty_min, "maximum": 2},
        "presence_penalty": {"type": "number", "minimum": penalty_min, "maximum": 2},
        "lora": {"type": "string", "description": "Name of a LoRA adapter."},
    }
    if o.json_mode:
        props["response_format"] = JSON_MODE
    if o.vision:
        props["image"] = IMAGE_BYTES
    return props


def _text(o: TextGenOptions, *, min_length: int = 0) -> JsonObj:
    schema: JsonObj = {"type": "string"}
    if min_length:
        schema["minLength"] = min_length
    if o.max_chars:
        schema["maxLength"] = o.max_chars
    return schema


def _tool_parameters() -> JsonObj:
    return {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "required": {"type": "array", "items": {"type": "string"}},
            "properties": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "description": {"type": "string"}},
                    "required": ["type", "description"],
                },
            },
        },
        "required": ["type", "properties"],
    }


def _tools() -> JsonObj:
    plain = {
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "parameters": _tool_parameters(),
        },
        "required": ["name", "description", "parameters"],
    }
    wrapped = {
        "properties": {
            "type": {"type": "string"},
            "function": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "parameters": _tool_parameters(),
                },
                "required": ["name", "description", "parameters"],
            },
        },
        "required": ["type", "function"],
    }
    return {"type": "array", "items": {"type": "object", "oneOf": [plain, wrapped]}}


def _message(o: TextGenOptions) -> JsonObj:
    content: JsonObj = _text(o)
    if o.content_parts:
        parts = {
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "text": {"type": "string"}}},
        }
        content = {"oneOf": [content, parts]}
    return {
        "type": "object",
        "properties": {"role": {"type": "string"}, "content": content},
        "required": ["role", "content"],
    }


def text_generation_input(o: TextGenOptions) -> JsonObj:
    prompt_form: JsonObj = {
        "title": "Prompt",
        "properties": {"prompt": _text(o, min_length=1), **_sampling(o)},
        "required": ["prompt"],
    }
    functions = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "code": {"type": "string"}},
            "required": ["name", "code"],
        },
    }
    messages_form: JsonObj = {
        "title": "Messages",
        "properties": {
            "messages": {"type": "array", "items": _message(o)},
            "functions": functions,
            "tools": _tools(),
            **_sampling(o),
        },
        "required": ["messages"],
    }
    branches: list[JsonObj] = [prompt_form, messages_form]
    if o.async_batch:
        item = {
            "type": "object",
            "properties": {
                "external_reference": {"type": "string", "description": "Echoed back with the result."},
                "prompt": {"type": "string", "minLength": 1},
                "messages": {"type": "array", "items": _message(o)},
                **_sampling(o),
            },
        }
        branches.append(
            {
                "title": "Async Batch",
                "type": "object",
                "properties": {"requests": {"type": "array", "items": item}},
                "required": ["requests"],
            }
        )
    return {"type": "object", "oneOf": branches}


def text_generation_output(o: TextGenOptions) -> JsonObj:
    answer: JsonObj = {
        "type": "object",
        "contentType": "application/json",
        "properties": {
            "response": {
                "oneOf": [
                    {"type": "string", "description": "The generated text"},
                    {"type": "object", "description": "The generated JSON (JSON Mode)"},
                ]
            },
            "usage": USAGE,
            "tool_calls": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"arguments": {"type": "object"}, "name": {"type": "string"}},
                },
            },
        },
        "required": ["response"],
    }
    branches = [answer, STREAM_OUTPUT]
    if o.async_batch:
        branches.append(ASYNC_OUTPUT)
    return {"oneOf": branches}


def openai_style_input(o: TextGenOptions) -> JsonObj:
    """gpt-oss: the classic prompt/messages forms, or a Responses API body."""
    responses_form: JsonObj = {
        "type": "object",
        "title": "Responses",
        "properties": {
            "input": {"anyOf": [{"type": "string"}, {"type": "array", "items": {}}]},
            "instructions": {"type": "string"},
            "reasoning": {
                "type": "object",
                "properties": {
                    "effort": {"type": "string", "enum": ["low", "medium", "high"], "default": "medium"},
                    "summary": {"type": "string", "enum": ["auto", "concise", "detailed"]},
                },
            },
        },
        "required": ["input"],
    }
    return {"oneOf": [text_generation_input(o), responses_form]}


def openai_style_output() -> JsonObj:
    return {
        "oneOf": [
            {"type": "object", "contentType": "application/json", "description": "chat.completion or response"},
            STREAM_OUTPUT,
        ]
    }
