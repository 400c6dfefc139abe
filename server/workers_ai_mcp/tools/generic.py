"""run_model: any catalog model, its input checked against the model's own schema first."""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.types import CallToolResult, TextContent
from pydantic import Field

from ..client import BinaryResult, JsonResult
from ..media.blocks import binary_media_result
from ..media.vectors import inline_limit, resource_link, save_json, short_model_name
from ..state import AppState
from ._common import WRITES_OUTPUT, AppContext, add_inference_tool, state_of, tool_errors
from .call_info import CallInfo, call_of
from .model_requests import run_checked
from .registry import Registry


@tool_errors
async def run_model(
    model: Annotated[
        str,
        Field(min_length=3, max_length=160, description="Model id, e.g. @cf/meta/llama-3.1-8b-instruct-fp8."),
    ],
    input: Annotated[
        dict[str, Any],
        Field(description="The model's input as a JSON object, as described by get_model_schema."),
    ],
    ctx: AppContext,
) -> CallToolResult:
    """Run any Workers AI model with a JSON input, checked against its schema first; media answers are saved."""
    state = state_of(ctx)
    result = await run_checked(state, model, input)
    if isinstance(result, BinaryResult):
        blocks = await binary_media_result(state.outputs, state.settings, model, result.data, result.media_type)
        note = TextContent(type="text", text=CallInfo.from_meta(result.meta).note)
        return CallToolResult(content=[*blocks, note])
    return json_answer(state, model, result)


def json_answer(state: AppState, model: str, result: JsonResult) -> CallToolResult:
    """The answer as JSON text, or, when larger than the inline limit, a saved JSON file and a link to it."""
    text = json.dumps({"model": model, "result": result.data, "call": call_of(result.meta)}, ensure_ascii=False)
    if len(text.encode()) <= inline_limit(state.settings):
        return CallToolResult(content=[TextContent(type="text", text=text)])
    saved = save_json(state.outputs, result.data, stem=short_model_name(model))
    note = (
        f"{model} answered with {saved.size:,} bytes of JSON, too large to show inline; "
        f"saved to {saved.path} (resource {saved.uri})."
    )
    return CallToolResult(content=[TextContent(type="text", text=note), resource_link(saved, f"Answer of {model}")])


def register(server: Registry) -> None:
    """Add run_model to `server`."""
    add_inference_tool(server, run_model, title="Run any model", annotations=WRITES_OUTPUT, structured_output=False)
