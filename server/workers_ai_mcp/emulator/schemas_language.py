"""Our own JSON Schemas for the language tasks: embeddings, ranking, translation, summaries, sentiment."""

from __future__ import annotations

from typing import Any

from .schemas_text import ASYNC_OUTPUT

JsonObj = dict[str, Any]


def _json(schema: JsonObj) -> JsonObj:
    return {"contentType": "application/json", **schema}


def embeddings_input() -> JsonObj:
    text = {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
        ]
    }
    single = {
        "properties": {"text": text, "pooling": {"type": "string", "enum": ["mean", "cls"], "default": "mean"}},
        "required": ["text"],
    }
    batch = {"properties": {"requests": {"type": "array", "items": single}}, "required": ["requests"]}
    return {"type": "object", "oneOf": [single, batch]}


def embeddings_output() -> JsonObj:
    vectors = _json(
        {
            "type": "object",
            "properties": {
                "shape": {"type": "array", "items": {"type": "number"}},
                "data": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "pooling": {"type": "string", "enum": ["mean", "cls"]},
            },
            "required": ["shape", "data"],
        }
    )
    return {"oneOf": [vectors, ASYNC_OUTPUT]}


def reranker_input() -> JsonObj:
    return {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1},
            "top_k": {"type": "integer", "minimum": 1, "description": "Return only the best k contexts."},
            "contexts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"text": {"type": "string", "minLength": 1}},
                    "required": ["text"],
                },
            },
        },
        "required": ["query", "contexts"],
    }


def reranker_output() -> JsonObj:
    item = {"type": "object", "properties": {"id": {"type": "integer"}, "score": {"type": "number"}}}
    return _json({"type": "object", "properties": {"response": {"type": "array", "items": item}}})


def translation_input() -> JsonObj:
    single: JsonObj = {
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "source_lang": {"type": "string", "default": "en"},
            "target_lang": {"type": "string"},
        },
        "required": ["text", "target_lang"],
    }
    batch = {"properties": {"requests": {"type": "array", "items": single}}, "required": ["requests"]}
    return {"type": "object", "oneOf": [single, batch]}


def translation_output() -> JsonObj:
    text = _json({"type": "object", "properties": {"translated_text": {"type": "string"}}})
    return {"oneOf": [{**text, "required": ["translated_text"]}, ASYNC_OUTPUT]}


def summarization_input() -> JsonObj:
    return {
        "type": "object",
        "properties": {
            "input_text": {"type": "string", "minLength": 1},
            "max_length": {"type": "integer", "default": 1024, "description": "Longest summary, in tokens."},
        },
        "required": ["input_text"],
    }


def summarization_output() -> JsonObj:
    return _json({"type": "object", "properties": {"summary": {"type": "string"}}})


def text_classification_input() -> JsonObj:
    return {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}}, "required": ["text"]}


def label_scores_output() -> JsonObj:
    item = {"type": "object", "properties": {"score": {"type": "number"}, "label": {"type": "string"}}}
    return _json({"type": "array", "items": item})
