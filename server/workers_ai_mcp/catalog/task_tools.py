"""Which tool serves a catalog model, read from its task and input schema, or why none does.

`run_model` takes every model; this names the task tool. The docs table (`docs/models.md`) and
the conformance tests read it, so what the README promises and what is tested stay one thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model_input import accepts_binary_body, is_multipart, properties, schema_has, stream_fields

# One task tool per task name of the catalog (Text Classification also has rerankers: see below).
TASK_TOOLS: dict[str, str] = {
    "Text Generation": "chat",
    "Text Embeddings": "embed",
    "Text Classification": "classify_text",
    "Translation": "translate",
    "Summarization": "summarize",
    "Image Classification": "classify_image",
    "Object Detection": "detect_objects",
    "Image-to-Text": "describe_image",
    "Automatic Speech Recognition": "transcribe_audio",
    "Text-to-Image": "generate_image",
    "Text-to-Speech": "text_to_speech",
}


@dataclass(frozen=True)
class Serving:
    """The task tool for a model (None: only `run_model`), and why, when there is none."""

    tool: str | None
    reason: str = ""


def serving(task: str, input_schema: object) -> Serving:
    """The tool that serves a model of `task` with this input schema."""
    tool = TASK_TOOLS.get(task)
    if tool is None:
        return Serving(None, f"no task tool for {task}; run_model sends its input as the schema describes")
    if task == "Text Classification" and schema_has(input_schema, "contexts") and schema_has(input_schema, "query"):
        return Serving("rank_documents")
    if task == "Automatic Speech Recognition" and not _takes_audio(input_schema):
        return Serving(None, "takes live audio over a WebSocket only; no audio file can be sent over REST")
    return Serving(tool)


def _takes_audio(schema: object) -> bool:
    return (
        accepts_binary_body(schema)
        or is_multipart(schema)
        or "audio" in properties(schema)
        or bool(stream_fields(schema))
    )
