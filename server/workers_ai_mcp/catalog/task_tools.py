"""Which tool serves a catalog model, read from its task and input schema, or why none does.

`run_model` takes every model; this names the task tool. The docs table (`docs/models.md`) and
the conformance tests read it, so what the README promises and what is tested stay one thing.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ..defaults import DEFAULTS
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


# The tool whose call is running (set by the tool host around each call), so that a model call can be
# refused before it is sent when the catalog files the model under a task the tool does not serve.
CURRENT_TOOL: ContextVar[str | None] = ContextVar("current_tool", default=None)
TOOL_TASKS: dict[str, str] = {default.tool: default.task for default in DEFAULTS}


def wrong_task(tool: str | None, model: str, task: str | None) -> str | None:
    """The refusal when `tool` serves one task and the catalog files `model` under another, else None.

    It names no model: which one would take this very call depends on its other arguments, so the
    sentence points to the catalog's list of the task instead."""
    wanted = TOOL_TASKS.get(tool or "")
    if wanted is None or task is None or task == wanted:
        return None
    return (
        f"{model} is {_a(task)} {task} model and {tool} needs {_a(wanted)} {wanted} model (list_models with task "
        f"'{wanted}' lists them; leave model out for the default), or use run_model to run {model} as it is."
    )


def _a(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
