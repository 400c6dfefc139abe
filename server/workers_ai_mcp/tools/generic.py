"""run_model: any catalog model, its input checked against the model's own schema first."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import Field

from ..catalog.call import ModelCall
from ..catalog.model_output import media_fields
from ..catalog.requests import fitting_input, request_for_input
from ..catalog.schema_check import input_problem
from ..client import BinaryResult, InvalidRequestError, JsonResult, RunResult
from ..jsonvalues import as_dict
from ..media.embedded import replace_media
from ..media.inputs import resolve_media
from ..media.outputs import SavedFile, extension_for
from ..media.vectors import inline_limit, save_json, short_model_name
from ..state import AppState
from .host.call_info import CallInfo, call_of
from .host.common import WRITES_OUTPUT, AppContext, add_inference_tool, state_of
from .host.links import human_size, resource_link
from .host.registry import Registry
from .host.results import binary_media_result, file_blocks
from .host.samples import CHEAP_MODEL, Samples

UNCHECKED = "The model's schema could not be read just now, so the input was sent unchecked."


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
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # media answers are saved
    call = state.ai.prepare(model)
    schema = await call.schema()
    result = await run_checked(state, call, input, as_dict(as_dict(schema).get("input")))
    unchecked = [] if schema is not None else [TextContent(type="text", text=UNCHECKED)]
    if isinstance(result, BinaryResult):
        blocks = await binary_media_result(state.outputs, state.settings, model, result.data, result.media_type)
        note = TextContent(type="text", text=CallInfo.from_meta(result.meta).note)
        return CallToolResult(content=[*blocks, note, *unchecked])
    answer = await json_answer(state, model, result, media_fields(as_dict(schema).get("output")))
    answer.content = [*answer.content, *unchecked]
    return answer


async def json_answer(state: AppState, model: str, result: JsonResult, declared: frozenset[str]) -> CallToolResult:
    """The answer as JSON text, its embedded media saved as files (shown per the media policy), and,
    when the JSON is still larger than the inline limit, the JSON itself saved to a file."""
    saved: list[tuple[SavedFile, bytes]] = []

    def keep(data: bytes, media_type: str, field: str) -> str:
        file = state.outputs.save(data, stem=f"{short_model_name(model)}-{field}", extension=extension_for(media_type))
        saved.append((file, data))
        return f"[{media_type}, {human_size(file.size)}: saved as {file.path}, resource {file.uri}]"

    data = replace_media(result.data, declared, keep)
    media: list[ContentBlock] = []
    for file, raw in saved:
        media += await file_blocks(file, raw, state.settings)
    text = json.dumps({"model": model, "result": data, "call": call_of(result.meta)}, ensure_ascii=False)
    if len(text.encode()) <= inline_limit(state.settings):
        return CallToolResult(content=[TextContent(type="text", text=text), *media])
    answer = save_json(state.outputs, data, stem=short_model_name(model))
    note = (
        f"{model} answered with {answer.size:,} bytes of JSON, too large to show inline; "
        f"saved to {answer.path} (resource {answer.uri})."
    )
    return CallToolResult(
        content=[TextContent(type="text", text=note), resource_link(answer, f"Answer of {model}"), *media]
    )


SAMPLES: Samples = {"run_model": {"model": CHEAP_MODEL, "input": {"text": ["hello"]}}}


def register(server: Registry) -> None:
    """Add run_model to `server`."""
    add_inference_tool(server, run_model, title="Run any model", annotations=WRITES_OUTPUT, structured_output=False)


async def run_checked(state: AppState, call: ModelCall, value: dict[str, Any], schema: dict[str, Any]) -> RunResult:
    """Check `value` against the model's input `schema` (media named by reference stand as handles; an
    empty schema checks nothing), then send it in the model's wire form."""
    model = call.model
    problem = input_problem(schema, fitting_input(schema, value)) if schema else None
    if problem:
        raise InvalidRequestError(
            f"The input does not fit {model}'s schema, so it was not sent: {problem} "
            "(get_model_schema shows what the model accepts)."
        )

    async def resolve(reference: str, kind: str) -> tuple[bytes, str]:
        media = await resolve_media(
            reference, "audio" if kind == "audio" else "image", settings=state.settings, http=state.ai.http
        )
        return media.data, media.media_type

    return await state.ai.run(call, await request_for_input(model, schema, value, resolve))
