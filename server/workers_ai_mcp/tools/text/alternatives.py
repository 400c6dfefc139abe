"""A model that can do what the asked one cannot (switch thinking, call tools), checked against the catalog.

The candidates are the catalog's Text Generation models that are not deprecated, the configured chat
model first; each is checked by its own input schema (as `chat_shape` reads it), at most `CHECKED` of
them, so a refusal costs a few cached catalog reads and never names a model that would refuse too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ...catalog.chat_input import chat_shape
from ...catalog.models import ModelInfo
from ...client.errors import WorkersAIError
from ...state import AppState

CHECKED = 8


@dataclass(frozen=True)
class Ability:
    flag: str  # the list_models flag that hints at it
    says: str  # "which <says>"
    check: Callable[[AppState, ModelInfo], Awaitable[bool]]


async def _switches_thinking(state: AppState, info: ModelInfo) -> bool:
    schema = await state.ai.prepare(info.name).input_schema()
    return bool(schema) and chat_shape(info.name, schema, info).thinking.switch


async def _takes_tools(state: AppState, info: ModelInfo) -> bool:
    schema = await state.ai.prepare(info.name).input_schema()
    return bool(schema) and chat_shape(info.name, schema, info).takes_tools


thinks = Ability("reasoning", "can switch thinking off and on", _switches_thinking)
calls_tools = Ability("function_calling", "has function calling", _takes_tools)


async def instead(state: AppState, refusal: Exception, model: str, ability: Ability) -> str:
    """`refusal`, followed by a model that has `ability` (or where to look for one)."""
    try:
        page = await state.ai.search_models(task="Text Generation", per_page=100)
    except WorkersAIError:
        page = None
    today = datetime.now(UTC).date()
    infos = [ModelInfo.from_row(row) for row in page.models] if page is not None else []
    hinted = [i for i in infos if i.name != model and ability.flag in i.flags and not i.deprecated_by(today)]
    hinted.sort(key=lambda i: i.name != state.settings.chat_model)
    for info in hinted[:CHECKED]:
        try:
            if await ability.check(state, info):
                return f"{refusal}; use model={info.name}, which {ability.says}."
        except WorkersAIError:
            continue
    return f"{refusal}; pick a model whose list_models entry says {ability.flag}."
