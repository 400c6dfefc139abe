"""Embeddings and ranking: embed, rank_documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from ..catalog.call import ModelCall
from ..catalog.model_input import schema_has
from ..client import RunResult
from ..client.errors import InvalidRequestError, ResponseDecodeError
from ..jsonvalues import as_dict, as_list, dicts
from ..media.vectors import (
    inline_limit,
    json_size,
    norms,
    preview,
    save_json,
    short_model_name,
)
from .host.call_info import call_of
from .host.common import WRITES_OUTPUT, AppContext, add_inference_tool, model_param, state_of
from .host.links import resource_link
from .host.registry import Registry
from .host.samples import Samples

MAX_TEXTS = 100
# Vectors go inline only while they are this small (about 400 values); beyond, to a JSON file with a
# preview inline, so that an assistant's context is not filled with numbers (40 texts of bge-base
# are about 250 KB of JSON).
VECTORS_INLINE_BYTES = 8_000
PREVIEW_VECTORS = 10  # vectors previewed inline when they went to the file
MAX_TEXT_CHARS = 8_192
SNIPPET_CHARS = 200

Texts = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]],
    Field(min_length=1, max_length=MAX_TEXTS, description="Texts to embed (1-100)."),
]
Documents = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]],
    Field(min_length=1, max_length=MAX_TEXTS, description="Documents (1-100) to score."),
]


class EmbedResult(BaseModel):
    """Embedding vectors, inline when a few KB, otherwise in a JSON file (with a preview inline)."""

    model: str
    count: int
    dimensions: int
    pooling: str | None
    vectors: list[list[float]] | None = Field(description="In input order; null when written to `file`.")
    file: str | None = Field(description="JSON file holding all vectors (key `vectors`).")
    resource_uri: str | None = Field(description="The same file as an MCP resource.")
    preview: list[list[float]] = Field(description="First 8 values of each vector (the first 10 if in `file`).")
    norms: list[float]
    call: dict[str, Any] | None = None


class RankedDocument(BaseModel):
    index: int = Field(description="Position in `documents`.")
    score: float
    text: str


class RankResult(BaseModel):
    """Documents ordered from most to least relevant to the query."""

    model: str
    results: list[RankedDocument]
    call: dict[str, Any] | None = None


async def embed(
    texts: Texts,
    ctx: AppContext,
    model: Annotated[str | None, model_param()] = None,
    pooling: Annotated[
        Literal["mean", "cls"] | None,
        Field(description="bge pooling; cls and mean vectors do not compare."),
    ] = None,
) -> Annotated[CallToolResult, EmbedResult]:
    """Embed texts as vectors (bge-base, 768 dimensions, by default); large results go to a JSON file."""
    state = state_of(ctx)
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # many or long vectors are saved to a file
    chosen = model or state.settings.embed_model
    call = state.ai.prepare(chosen)
    if chosen != state.settings.embed_model and await _takes_openai_input(call):
        if pooling is not None:
            raise InvalidRequestError(f"{chosen} takes OpenAI input, which has no `pooling`; leave it out.")
        result: RunResult = await state.ai.v1("embeddings", {"model": chosen, "input": texts}, call=call)
    else:
        inputs: dict[str, Any] = {"text": texts}
        if pooling is not None:
            inputs["pooling"] = pooling
        result = await state.ai.run(call, inputs)
    vectors = _vectors(chosen, result, len(texts))
    data = result.object
    used_pooling = data.get("pooling") if isinstance(data.get("pooling"), str) else pooling
    answer = EmbedResult(
        model=chosen,
        count=len(vectors),
        dimensions=len(vectors[0]),
        pooling=used_pooling,
        vectors=vectors,
        file=None,
        resource_uri=None,
        preview=preview(vectors),
        norms=norms(vectors),
        call=call_of(result.meta),
    )
    content: list[ContentBlock] = []
    if json_size(vectors) > min(VECTORS_INLINE_BYTES, inline_limit(state.settings)):
        saved = save_json(
            state.outputs,
            {"model": chosen, "pooling": used_pooling, "shape": [len(vectors), len(vectors[0])], "vectors": vectors},
            stem=f"embeddings-{short_model_name(chosen)}",
        )
        shown = answer.preview[:PREVIEW_VECTORS]
        answer = answer.model_copy(
            update={"vectors": None, "file": str(saved.path), "resource_uri": saved.uri, "preview": shown}
        )
        content.append(resource_link(saved, f"{len(vectors)} embedding vectors from {chosen} (JSON, key 'vectors')"))
    content.insert(0, TextContent(type="text", text=answer.model_dump_json()))
    return CallToolResult(content=content, structured_content=answer.model_dump(mode="json"))


async def rank_documents(
    query: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="What to look for.")],
    documents: Documents,
    ctx: AppContext,
    top_k: Annotated[
        int | None, Field(ge=1, le=MAX_TEXTS, description="Return only the best k documents (default: all).")
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> RankResult:
    """Order documents by relevance to a query (reranker; bge-reranker-base by default)."""
    state = state_of(ctx)
    chosen = model or state.settings.rank_model
    inputs: dict[str, Any] = {"query": query, "contexts": [{"text": text} for text in documents]}
    if top_k is not None:
        inputs["top_k"] = top_k
    result = await state.ai.run(chosen, inputs)
    rows = dicts(result.object.get("response"))
    ranked: list[RankedDocument] = []
    for row in rows:
        index, score = row.get("id"), row.get("score")
        if not isinstance(index, int) or not 0 <= index < len(documents) or not isinstance(score, int | float):
            raise ResponseDecodeError(
                f"{chosen} answered with a malformed ranking; rank_documents needs a reranker "
                f"(e.g. the default {state.settings.rank_model})."
            )
        ranked.append(RankedDocument(index=index, score=float(score), text=_snippet(documents[index])))
    if not ranked:
        raise ResponseDecodeError(
            f"{chosen} answered without a ranking; rank_documents needs a reranker "
            f"(e.g. the default {state.settings.rank_model})."
        )
    ranked.sort(key=lambda doc: doc.score, reverse=True)
    return RankResult(model=chosen, results=ranked[:top_k] if top_k else ranked, call=call_of(result.meta))


def _vectors(model: str, result: RunResult, expected: int) -> list[list[float]]:
    data = result.object
    vectors: list[list[float]] = []
    for row in as_list(data.get("data")):
        values = as_list(as_dict(row).get("embedding")) or as_list(row)  # OpenAI rows, or bare vectors
        if not values or not all(isinstance(x, int | float) for x in values):
            vectors = []
            break
        vectors.append([float(x) for x in values])
    if len(vectors) != expected or len({len(v) for v in vectors}) != 1:
        raise ResponseDecodeError(
            f"{model} answered without {expected} embedding vectors; embed needs a Text Embeddings model "
            "(list_models with task 'Text Embeddings' lists them)."
        )
    return vectors


async def _takes_openai_input(call: ModelCall) -> bool:
    """Whether the model's schema is OpenAI's embeddings input (`input`, no `text`): then `/v1/embeddings`."""
    schema = await call.input_schema()
    return schema is not None and schema_has(schema, "input") and not schema_has(schema, "text")


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


SAMPLES: Samples = {
    "embed": {"texts": ["hello world"]},
    "rank_documents": {"query": "cats", "documents": ["Cats purr.", "Dogs bark."]},
}


def register(server: Registry) -> None:
    """Add the embedding and ranking tools to `server`."""
    # embed may write a vectors file into the output folder.
    add_inference_tool(server, embed, title="Embed texts", annotations=WRITES_OUTPUT)
    add_inference_tool(server, rank_documents, title="Rank documents")
