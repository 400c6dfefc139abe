"""A model that can do what the asked one cannot (switch thinking, call tools), checked against the catalog.

The candidates are the catalog's Text Generation models that are not deprecated, the configured chat
model first, then those out of beta and with function calling (the more capable); each is checked
by its own input schema (as `chat_shape` reads it), at most `CHECKED` of them, so a refusal costs a
few cached catalog reads and never names a model that would refuse too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from ...catalog.chat_input import chat_shape
from ...catalog.models import ModelInfo
from ...client.errors import RateLimitError, WorkersAIError
from ...state import AppState

CHECKED = 8
BUSY = 3040  # Cloudflare's "out of capacity" (429)


@dataclass(frozen=True)
class Ability:
    flag: str | None  # the list_models flag that hints at it (None: any Text Generation model)
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


@asynccontextmanager
async def when_busy(state: AppState, model: str) -> AsyncGenerator[None]:
    """Out of capacity (3040, answered at once with `rejectIfBusy`): the error names another model to try,
    one of the configured Text Generation defaults (no catalog look-up: the answer must stay quick)."""
    try:
        yield
    except RateLimitError as exc:
        if exc.code != BUSY:
            raise
        settings = state.settings
        other = next(
            m for m in (settings.chat_model, settings.respond_model, settings.complete_model, "") if m != model
        )
        hint = f"; or pass model={other}, another Text Generation model that may have capacity." if other else "."
        raise RateLimitError(
            str(exc).rstrip(".") + hint,
            status=exc.status,
            code=exc.code,
            upstream_message=exc.upstream_message,
            request_id=exc.request_id,
            retry_after=exc.retry_after,
        ) from exc


async def instead(state: AppState, refusal: Exception | str, model: str, ability: Ability) -> str:
    """`refusal`, followed by a model that has `ability` (or where to look for one)."""
    try:
        page = await state.ai.search_models(task="Text Generation", per_page=100)
    except WorkersAIError:
        page = None
    today = datetime.now(UTC).date()
    infos = [ModelInfo.from_row(row) for row in page.models] if page is not None else []
    hinted = [
        i
        for i in infos
        if i.name != model and (ability.flag is None or ability.flag in i.flags) and not i.deprecated_by(today)
    ]
    hinted.sort(key=lambda i: (i.name != state.settings.chat_model, "beta" in i.flags, not i.function_calling))
    for info in hinted[:CHECKED]:
        try:
            if await ability.check(state, info):
                return f"{refusal}; use model={info.name}, which {ability.says}."
        except WorkersAIError:
            continue
    where = f"says {ability.flag}" if ability.flag else "has the task Text Generation"
    return f"{refusal}; pick a model whose list_models entry {where}."
