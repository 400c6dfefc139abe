"""The chat tool's request: the model's shape from the catalog, images resolved, the body checked locally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...catalog.call import ModelCall
from ...catalog.chat_input import ChatShape, Image, chat_body, chat_shape, normalizations
from ...catalog.chat_tools import Function, NoFunctionCalling
from ...catalog.models import ModelInfo
from ...catalog.schema_check import input_problem
from ...catalog.thinking import NoThinkingControl, Thinking
from ...catalog.vision import catalog_sees_images
from ...client.errors import InvalidRequestError, WorkersAIError
from ...media.inputs import resolve_media
from ...state import AppState
from . import alternatives
from .lora import check_lora


@dataclass(frozen=True)
class ChatRequest:
    shape: ChatShape
    body: dict[str, Any]
    call: ModelCall  # the model's entry and schema, read once here, handed on to the call


async def build_request(
    state: AppState,
    model: str,
    turns: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int,
    sampling: Mapping[str, object],
    images: Sequence[str] = (),
    json_schema: dict[str, Any] | None = None,
    thinking: Thinking | None = None,
    tools: Sequence[Function] = (),
    tool_choice: str | None = None,
    lora: str | None = None,
) -> ChatRequest:
    """Read the model's schema and catalog entry, then build and check its body."""
    call = state.ai.prepare(model)
    schema = await call.input_schema() or {}
    info = await call.info()
    shape = chat_shape(model, schema, info, effort=thinking is not None)
    if images and shape.image is None:
        raise InvalidRequestError(await _no_vision(state, model, unknown=not schema))
    resolved = [await _image(state, value) for value in images]
    try:
        body = chat_body(
            shape,
            turns,
            max_tokens=max_tokens,
            sampling=sampling,
            images=resolved,
            json_schema=json_schema,
            thinking=thinking,
            tools=tools,
            tool_choice=tool_choice,
            normalize=normalizations(info),
            others={"json_schema": state.settings.chat_model},
        )
    except NoThinkingControl as exc:
        raise InvalidRequestError(await alternatives.instead(state, exc, model, alternatives.thinks)) from None
    except NoFunctionCalling as exc:
        raise InvalidRequestError(await alternatives.instead(state, exc, model, alternatives.calls_tools)) from None
    if lora is not None:
        await check_lora(state, model, lora, info)
        body["lora"] = lora
    problem = input_problem(schema, body) if schema else None
    if problem is not None:
        raise InvalidRequestError(f"{model} would refuse this conversation: {problem}")
    return ChatRequest(shape, body, call)


async def _image(state: AppState, value: str) -> Image:
    media = await resolve_media(value, "image", settings=state.settings, http=state.ai.http)
    return Image(media.data, media.media_type)


async def _no_vision(state: AppState, model: str, *, unknown: bool) -> str:
    refusal = f"{model} cannot see images"
    if unknown:  # e.g. apertus: a vision model per the catalog, but how it takes images is not published
        refusal = f"{model} publishes no input schema, so how it takes images is unknown"
    seeing = await vision_model(state, besides=model)
    if seeing is not None:
        return f"{refusal}; pass model={seeing} (a vision model) or leave images out."
    return f"{refusal}; pick a model whose list_models entry says vision, or leave images out."


async def vision_model(state: AppState, *, besides: str = "") -> str | None:
    """The first current Text Generation model that chat can send images to, as its schema and catalog
    entry say (`chat_shape`), or None; a model the catalog calls a vision model but whose schema is not
    published (so chat cannot know how it takes images) is never the answer."""
    try:
        page = await state.ai.search_models(task="Text Generation", per_page=100)
    except WorkersAIError:
        return None
    today = datetime.now(UTC).date()
    for info in (ModelInfo.from_row(row) for row in page.models):
        if info.name == besides or info.deprecated_by(today) or not catalog_sees_images(info):
            continue
        if await _takes_images(state, info):
            return info.name
    return None


async def _takes_images(state: AppState, info: ModelInfo) -> bool:
    try:
        schema = await state.ai.prepare(info.name).input_schema()
        return bool(schema) and chat_shape(info.name, schema, info).image is not None
    except WorkersAIError:
        return False
