"""The model catalog: list_models, get_model_schema, and the catalog and schema resources."""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel, Field

from ..catalog.models import NUMBER_PROPERTIES, TASKS, ModelInfo
from ..client import InvalidRequestError, NotFoundError, WorkersAIError
from ..defaults import DEFAULTS
from ..jsonvalues import as_dict
from ..settings import Settings
from .host.advice import error_text
from .host.common import CATALOG, AppContext, state_of
from .host.registry import Registry
from .host.samples import CHEAP_MODEL, Samples

SHOWN_FLAGS = frozenset({"beta", "async_queue", "function_calling", "reasoning", "vision"})
DESCRIPTION_CHARS = 160
RESOURCE_PAGES = 3
RESOURCE_PER_PAGE = 100

PropertyValue = str | int | bool


class ModelRow(BaseModel):
    name: str
    task: str | None
    description: str
    properties: dict[str, PropertyValue] = Field(description="context_window, price, output_dimensions, beta, ...")


class ModelList(BaseModel):
    """One page of the Workers AI catalog."""

    models: list[ModelRow]
    page: int
    per_page: int
    count: int
    total_count: int | None = Field(description="Matches over all pages.")
    default_for: dict[str, list[str]] = Field(description="Listed models some tools use by default, with the tools.")
    warnings: list[str] = Field(default_factory=list[str], description="Default models that are deprecated.")


class ModelSchema(BaseModel):
    """A model's input and output JSON Schemas."""

    model: str
    input: dict[str, Any]
    output: dict[str, Any]


async def list_models(
    ctx: AppContext,
    search: Annotated[
        str | None, Field(max_length=100, description="Words to find in model names and descriptions.")
    ] = None,
    task: Annotated[str | None, Field(max_length=60, description=f"Task name, one of: {', '.join(TASKS)}.")] = None,
    author: Annotated[
        str | None, Field(max_length=60, description="Model author, e.g. meta, baai, openai, black-forest-labs.")
    ] = None,
    page: Annotated[int, Field(ge=1, le=1000, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Field(ge=1, le=100, description="Models per page.")] = 30,
    include_deprecated: Annotated[bool, Field(description="Also list models past their deprecation date.")] = False,
) -> ModelList:
    """Search the Workers AI model catalog by task, author or words; one page of compact rows."""
    state = state_of(ctx)
    task_name = _task_name(task)
    result = await state.ai.search_models(
        search=search or None,
        task=task_name,
        author=author or None,
        include_deprecated=include_deprecated,
        page=page,
        per_page=per_page,
    )
    if task_name is not None and task_name not in TASKS and not result.models:
        raise InvalidRequestError(_no_such_task(task_name))
    rows = [compact_row(model) for model in result.models]
    defaults = defaults_by_model(state.settings)
    return ModelList(
        models=rows,
        page=result.page,
        per_page=result.per_page,
        count=result.count,
        total_count=result.total_count,
        default_for={row.name: defaults[row.name] for row in rows if row.name in defaults},
        warnings=[notice.message for notice in state.ai.deprecations],
    )


async def get_model_schema(
    model: Annotated[str, Field(min_length=3, max_length=160, description="Model id, e.g. @cf/baai/bge-base-en-v1.5.")],
    ctx: AppContext,
) -> ModelSchema:
    """A Workers AI model's input and output JSON Schemas: what run_model accepts and returns for it."""
    schema = await state_of(ctx).ai.model_schema(model)
    return ModelSchema(model=model, input=as_dict(schema.get("input")), output=as_dict(schema.get("output")))


def compact_row(row: dict[str, Any]) -> ModelRow:
    """A catalog row cut down to what helps choose a model."""
    info = ModelInfo.from_row(row)
    properties: dict[str, PropertyValue] = {key: info.numbers[key] for key in NUMBER_PROPERTIES if key in info.numbers}
    properties |= dict.fromkeys(sorted(info.flags & SHOWN_FLAGS), True)
    if info.deprecation is not None:
        properties["planned_deprecation_date"] = info.deprecation.isoformat()
    if price := info.price_text():
        properties["price"] = price
    description = info.description
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    return ModelRow(name=info.name, task=info.task, description=description, properties=properties)


def defaults_by_model(settings: Settings) -> dict[str, list[str]]:
    """Model id -> the tools (among those enabled) that use it by default."""
    enabled = set(settings.tools) if settings.tools else None
    found: dict[str, list[str]] = {}
    for default in DEFAULTS:
        if enabled is None or default.tool in enabled:
            found.setdefault(str(getattr(settings, default.field)), []).append(default.tool)
    return found


def _task_name(task: str | None) -> str | None:
    """The canonical spelling of a known task name (case and spacing forgiven); others pass through."""
    if not task or not task.strip():
        return None
    wanted = "".join(ch for ch in task.lower() if ch.isalnum())
    return next((name for name in TASKS if "".join(ch for ch in name.lower() if ch.isalnum()) == wanted), task)


def _no_such_task(task: str) -> str:
    """The refusal for a task no model has: the task names, and the ones whose words it shares, first."""
    words = _stems(task)
    close = [name for name in TASKS if words & _stems(name)]
    hint = f"did you mean {' or '.join(repr(name) for name in close)}? " if close else ""
    return f"No Workers AI model has the task {task!r}; {hint}The tasks are: {', '.join(TASKS)}."


def _stems(text: str) -> set[str]:
    return {word.rstrip("s") for word in text.lower().replace("-", " ").split() if len(word) > 2}


async def _catalog_json(ctx: AppContext, page: int | None) -> str:
    client = state_of(ctx).ai
    numbers = [max(page, 1)] if page is not None else list(range(1, RESOURCE_PAGES + 1))
    rows: list[dict[str, Any]] = []
    total: int | None = None
    last = numbers[0]
    for last in numbers:
        result = await client.search_models(page=last, per_page=RESOURCE_PER_PAGE)
        rows += [compact_row(model).model_dump() for model in result.models]
        total = result.total_count
        if result.count < RESOURCE_PER_PAGE:
            break
    note = f"{len(rows)} of {total if total is not None else 'an unknown number of'} models"
    if total is not None and total > last * RESOURCE_PER_PAGE:
        note += f"; read workers-ai://models?page={last + 1} for more"
    note += "; list_models filters by task, author and words."
    return json.dumps({"models": rows, "note": note}, ensure_ascii=False, separators=(",", ":"))


SAMPLES: Samples = {
    "list_models": {"search": "llama", "per_page": 1},
    "get_model_schema": {"model": CHEAP_MODEL},
}


def register(server: Registry) -> None:
    """Add the catalog tools and resources to `server`."""
    server.add_tool(
        list_models,
        title="List models",
        annotations=CATALOG.model_copy(update={"title": "List models"}),
        list_output_schema=False,
    )
    server.add_tool(
        get_model_schema,
        title="Get model schema",
        annotations=CATALOG.model_copy(update={"title": "Get model schema"}),
    )

    @server.resource(
        "workers-ai://models{?page}",
        name="models",
        title="Workers AI model catalog",
        description="The model catalog, compact (name, task, description, notable properties); ?page=N for one page.",
        mime_type="application/json",
    )
    async def read_catalog(ctx: AppContext, page: int | None = None) -> str:
        try:
            return await _catalog_json(ctx, page)
        except WorkersAIError as exc:
            raise ResourceError(error_text(exc)) from None

    @server.resource(
        "workers-ai://models/{+model}",
        name="model_schema",
        title="Model input/output schema",
        description="A model's input and output JSON Schemas, e.g. workers-ai://models/@cf/baai/bge-base-en-v1.5.",
        mime_type="application/json",
    )
    async def read_model_schema(model: str, ctx: AppContext) -> str:
        try:
            schema = await state_of(ctx).ai.model_schema(model)
        except (InvalidRequestError, NotFoundError) as exc:  # no such model: "resource not found", not internal
            raise ResourceNotFoundError(error_text(exc)) from None
        except WorkersAIError as exc:
            raise ResourceError(error_text(exc)) from None
        return json.dumps({"model": model, **schema}, ensure_ascii=False)
