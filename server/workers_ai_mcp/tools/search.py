"""AI Search tools: list_search_instances, search_instance (retrieval only), ask_search_instance (answer).

An AI Search instance (formerly AutoRAG) indexes the user's documents or site; these tools let an
assistant read it. Results are bounded: at most `max_results` chunks, each cut to CHUNK_CHARS. The
token needs the AI Search permissions (client/search.py says which, in the error too).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from ..client import check_model_id
from ..client.search import ask, list_instances, search
from ..jsonvalues import as_dict, dicts
from .host.common import CATALOG, INFERENCE, AppContext, add_inference_tool, state_of
from .host.registry import Registry
from .host.samples import Samples

CHUNK_CHARS = 1_000
SOURCE_CHARS = 300

InstanceParam = Annotated[str, Field(min_length=1, max_length=64, description="Instance id.")]
MaxResults = Annotated[int, Field(ge=1, le=20, description="Most chunks.")]


class SearchInstance(BaseModel):
    id: str
    source: str | None = Field(default=None, description="What it indexes: an R2 bucket or a website.")
    type: str | None = None
    status: str | None = None


class SearchInstances(BaseModel):
    """The account's AI Search instances."""

    instances: list[SearchInstance]
    total: int | None = None


class Chunk(BaseModel):
    source: str = Field(description="The indexed file or page the text is from.")
    score: float
    text: str = Field(description="The chunk's text (cut to 1,000 characters).")


class SearchResult(BaseModel):
    """Chunks of an AI Search instance that match the query, best first."""

    instance: str
    query: str = Field(description="The query searched (rewritten when query rewriting is on).")
    chunks: list[Chunk]


class Answer(BaseModel):
    """An AI Search instance's generated answer and the chunks it was given."""

    instance: str
    answer: str
    model: str | None = None
    sources: list[Chunk] = Field(description="Chunks the answer was based on (text cut to 300 characters).")


async def list_search_instances(ctx: AppContext) -> CallToolResult:
    """List the account's AI Search instances (the indexed documents or sites search_instance reads)."""
    page = await list_instances(state_of(ctx).ai.client)
    found = [
        SearchInstance(
            id=str(i.get("id", "")),
            source=_text(i.get("source")),
            type=_text(i.get("type")),
            status=_text(i.get("status")),
        )
        for i in page.instances
    ]
    return as_json(SearchInstances(instances=found, total=page.total))


async def search_instance(
    instance: InstanceParam,
    query: Annotated[str, Field(min_length=1, max_length=4000, description="What to look for.")],
    ctx: AppContext,
    max_results: MaxResults = 8,
) -> CallToolResult:
    """Search an AI Search instance: the best matching chunks (source, score, text), no generated answer."""
    body = {"messages": [{"role": "user", "content": query}], "ai_search_options": _options(max_results)}
    result = await search(state_of(ctx).ai.client, instance, body)
    data = as_dict(result.data)
    chunks = _chunks(data.get("chunks"), CHUNK_CHARS)[:max_results]
    return as_json(SearchResult(instance=instance, query=_text(data.get("search_query")) or query, chunks=chunks))


async def ask_search_instance(
    instance: InstanceParam,
    question: Annotated[str, Field(min_length=1, max_length=4000, description="The question to answer.")],
    ctx: AppContext,
    max_results: MaxResults = 8,
    model: Annotated[
        str | None, Field(default=None, description="Workers AI model to answer; the instance's if omitted.")
    ] = None,
) -> CallToolResult:
    """Ask an AI Search instance: an answer generated from its indexed content, with its sources."""
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": question}],
        "ai_search_options": _options(max_results),
        "stream": False,
    }
    if model:
        body["model"] = check_model_id(model)  # Workers AI ids only: a crafted one is refused here
    result = await ask(state_of(ctx).ai.client, instance, body)
    data = result.object
    choices = dicts(data.get("choices"))
    choice = choices[0] if choices else {}
    content = as_dict(choice.get("message")).get("content")
    answer = content if isinstance(content, str) else " ".join(str(p.get("text", "")) for p in dicts(content))
    sources = _chunks(data.get("chunks"), SOURCE_CHARS)[:max_results]
    return as_json(Answer(instance=instance, answer=answer, model=_text(data.get("model")), sources=sources))


def as_json(value: BaseModel) -> CallToolResult:
    """The result as compact JSON text: these tools declare no output schema, to keep tools/list small."""
    return CallToolResult(content=[TextContent(type="text", text=value.model_dump_json(exclude_none=True))])


def _options(max_results: int) -> dict[str, Any]:
    return {"retrieval": {"max_num_results": max_results}}


def _chunks(value: object, limit: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for item in dicts(value):
        score: object = item.get("score")
        text = str(item.get("text", ""))
        source = _text(as_dict(item.get("item")).get("key")) or _text(item.get("id")) or "unknown"
        cut = text if len(text) <= limit else text[: limit - 1] + "…"
        chunks.append(
            Chunk(source=source, score=round(float(score), 4) if isinstance(score, int | float) else 0.0, text=cut)
        )
    chunks.sort(key=lambda c: -c.score)
    return chunks


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


SAMPLES: Samples = {
    "list_search_instances": {},
    # The emulator's instance; on a real account, the first id list_search_instances shows.
    "search_instance": {"instance": "emulator-docs", "query": "refunds"},
    "ask_search_instance": {"instance": "emulator-docs", "question": "How long do refunds take?"},
}


def register(server: Registry) -> None:
    """Add the AI Search tools to `server`."""
    server.add_tool(list_search_instances, title="AI Search instances", annotations=CATALOG, structured_output=False)
    add_inference_tool(
        server, search_instance, title="Search AI Search", annotations=INFERENCE, structured_output=False
    )
    add_inference_tool(
        server, ask_search_instance, title="Ask AI Search", annotations=INFERENCE, structured_output=False
    )
