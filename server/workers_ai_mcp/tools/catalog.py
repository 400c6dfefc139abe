"""The model catalog: list_models, get_model_schema, and the catalog and schema resources."""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from pydantic import BaseModel, Field

from ..client import WorkersAIError
from ..jsonvalues import as_dict, dicts
from ..settings import Settings
from ..state import AppState
from ._common import CATALOG, AppContext, state_of, tool_errors

KNOWN_TASKS = (
    "Text Generation",
    "Text Embeddings",
    "Text Classification",
    "Translation",
    "Summarization",
    "Image Classification",
    "Object Detection",
    "Image-to-Text",
    "Automatic Speech Recognition",
    "Text-to-Image",
    "Text-to-Speech",
    "Voice Activity Detection",
)
# Settings field of each default model -> the tool that uses it.
DEFAULT_MODEL_TOOLS = {
    "chat_model": "chat",
    "complete_model": "complete",
    "respond_model": "respond",
    "embed_model": "embed",
    "rank_model": "rank_documents",
    "translate_model": "translate",
    "summarize_model": "summarize",
    "classify_text_model": "classify_text",
    "classify_image_model": "classify_image",
    "detect_model": "detect_objects",
    "describe_image_model": "describe_image",
    "transcribe_model": "transcribe_audio",
    "image_model": "generate_image",
    "speech_model": "text_to_speech",
}
NUMERIC_PROPERTIES = ("context_window", "max_input_tokens", "max_output_tokens", "output_dimensions")
FLAG_PROPERTIES = ("beta", "async_queue", "function_calling", "vision")
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


@tool_errors
async def list_models(
    ctx: AppContext,
    search: Annotated[
        str | None, Field(max_length=100, description="Words to find in model names and descriptions.")
    ] = None,
    task: Annotated[
        str | None, Field(max_length=60, description=f"Task name, one of: {', '.join(KNOWN_TASKS)}.")
    ] = None,
    author: Annotated[
        str | None, Field(max_length=60, description="Model author, e.g. meta, baai, openai, black-forest-labs.")
    ] = None,
    page: Annotated[int, Field(ge=1, le=1000, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Field(ge=1, le=100, description="Models per page.")] = 30,
    include_deprecated: Annotated[bool, Field(description="Also list models past their deprecation date.")] = False,
) -> ModelList:
    """Search the Workers AI model catalog by task, author or words; one page of compact rows."""
    state = state_of(ctx)
    result = await state.client.search_models(
        search=search or None,
        task=_task_name(task),
        author=author or None,
        include_deprecated=include_deprecated,
        page=page,
        per_page=per_page,
    )
    rows = [compact_row(model) for model in result.models]
    defaults = defaults_by_model(state.settings)
    return ModelList(
        models=rows,
        page=result.page,
        per_page=result.per_page,
        count=result.count,
        total_count=result.total_count,
        default_for={row.name: defaults[row.name] for row in rows if row.name in defaults},
        warnings=[notice.message for notice in state.client.deprecations],
    )


@tool_errors
async def get_model_schema(
    model: Annotated[str, Field(min_length=3, max_length=160, description="Model id, e.g. @cf/baai/bge-base-en-v1.5.")],
    ctx: AppContext,
) -> ModelSchema:
    """A Workers AI model's input and output JSON Schemas: what run_model accepts and returns for it."""
    schema = await state_of(ctx).client.model_schema(model)
    return ModelSchema(model=model, input=as_dict(schema.get("input")), output=as_dict(schema.get("output")))


def compact_row(model: dict[str, Any]) -> ModelRow:
    """A catalog row cut down to what helps choose a model."""
    properties: dict[str, PropertyValue] = {}
    for prop in dicts(model.get("properties")):
        key, value = str(prop.get("property_id", "")), prop.get("value")
        if key in NUMERIC_PROPERTIES and isinstance(value, str | int):
            properties[key] = int(value) if str(value).isdigit() else str(value)
        elif key in FLAG_PROPERTIES and value in ("true", True):
            properties[key] = True
        elif key == "planned_deprecation_date" and isinstance(value, str):
            properties[key] = value
        elif key == "price":
            text = _price_text(value)
            if text:
                properties[key] = text
    description = " ".join(str(model.get("description") or "").split())
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    task = as_dict(model.get("task")).get("name")
    return ModelRow(
        name=str(model.get("name", "")),
        task=task if isinstance(task, str) else None,
        description=description,
        properties=properties,
    )


def defaults_by_model(settings: Settings) -> dict[str, list[str]]:
    """Model id -> the tools (among those enabled) that use it by default."""
    enabled = set(settings.tools) if settings.tools else None
    found: dict[str, list[str]] = {}
    for field, tool in DEFAULT_MODEL_TOOLS.items():
        if enabled is None or tool in enabled:
            found.setdefault(str(getattr(settings, field)), []).append(tool)
    return found


def _price_text(value: Any) -> str:
    parts: list[str] = []
    for item in dicts(value):
        price, unit = item.get("price"), item.get("unit")
        if isinstance(price, int | float) and isinstance(unit, str):
            symbol = "$" if item.get("currency", "USD") == "USD" else f"{item.get('currency')} "
            parts.append(f"{symbol}{price:g} {unit}")
    return "; ".join(parts)


def _task_name(task: str | None) -> str | None:
    """The canonical spelling of a known task name (case and spacing forgiven); others pass through."""
    if not task or not task.strip():
        return None
    wanted = "".join(ch for ch in task.lower() if ch.isalnum())
    return next((name for name in KNOWN_TASKS if "".join(ch for ch in name.lower() if ch.isalnum()) == wanted), task)


async def _catalog_json(ctx: AppContext, page: int | None) -> str:
    client = state_of(ctx).client
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


def register(server: MCPServer[AppState]) -> None:
    """Add the catalog tools and resources to `server`."""
    server.add_tool(list_models, title="List models", annotations=CATALOG.model_copy(update={"title": "List models"}))
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
            raise ResourceError(str(exc)) from None

    @server.resource(
        "workers-ai://models/{+model}",
        name="model_schema",
        title="Model input/output schema",
        description="A model's input and output JSON Schemas, e.g. workers-ai://models/@cf/baai/bge-base-en-v1.5.",
        mime_type="application/json",
    )
    async def read_model_schema(model: str, ctx: AppContext) -> str:
        try:
            schema = await state_of(ctx).client.model_schema(model)
        except WorkersAIError as exc:
            raise ResourceError(str(exc)) from None
        return json.dumps({"model": model, **schema}, ensure_ascii=False)
