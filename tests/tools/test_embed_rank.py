"""embed and rank_documents, through a real MCP client session against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator, validate
from mcp.types import CallToolResult, ResourceLink, TextContent, TextResourceContents
from starlette.applications import Starlette

from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings

BASE = "@cf/baai/bge-base-en-v1.5"
LARGE = "@cf/baai/bge-large-en-v1.5"
RERANKER = "@cf/baai/bge-reranker-base"


def run_paths(state: EmulatorState) -> list[str]:
    return [r.path.split("/ai/run/", 1)[1] for r in state.requests if "/ai/run/" in r.path]


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / ((sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5))


def vectors_of(result: CallToolResult) -> list[list[float]]:
    """The vectors of an embed result: inline, or read from the file it names."""
    data = result.structured_content
    assert data is not None
    if data["vectors"] is not None:
        return data["vectors"]
    return json.loads(Path(data["file"]).read_text())["vectors"]


async def test_embed_returns_vectors_of_a_few_kb_inline_with_a_preview(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("embed", {"texts": ["alpha beta", "gamma"]})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert (data["model"], data["count"], data["dimensions"], data["pooling"]) == (BASE, 2, 768, "mean")
    assert data["file"] is None and data["resource_uri"] is None
    assert [len(v) for v in data["vectors"]] == [768, 768]
    assert len(json.dumps(data["vectors"], separators=(",", ":"))) <= 8_000
    assert data["preview"] == [[round(x, 6) for x in v[:8]] for v in data["vectors"]]
    assert data["norms"] == pytest.approx([1.0, 1.0])
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
    assert json.loads(result.content[0].text) == data
    assert run_paths(emulator_state) == [BASE]


async def test_embed_saves_vectors_beyond_a_few_kb_to_a_file_with_a_preview_and_the_norms_inline(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("embed", {"texts": ["alpha beta", "gamma", "delta epsilon"]})
    data = result.structured_content
    assert data is not None and data["vectors"] is None
    saved = vectors_of(result)
    assert [len(v) for v in saved] == [768, 768, 768]
    assert data["preview"] == [[round(x, 6) for x in v[:8]] for v in saved]
    assert data["norms"] == pytest.approx([1.0, 1.0, 1.0])
    assert data["resource_uri"].startswith("workers-ai://outputs/")
    assert run_paths(emulator_state) == [BASE]


async def test_embed_places_texts_that_share_words_closer_than_unrelated_ones(
    settings: Settings, emulator_app: Starlette
) -> None:
    # The emulator hashes whole words, so related texts must share words ("cat", "purrs").
    texts = ["the cat purrs softly", "a cat purrs", "stock market prices fell"]
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("embed", {"texts": texts})
    cat, kitten, stocks = vectors_of(result)
    assert cosine(cat, kitten) > cosine(cat, stocks) + 0.3


async def test_embed_sends_pooling_and_reports_what_the_model_used(settings: Settings, emulator_app: Starlette) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        mean = await client.call_tool("embed", {"texts": ["pooling check"]})
        cls = await client.call_tool("embed", {"texts": ["pooling check"], "pooling": "cls"})
    assert mean.structured_content is not None and cls.structured_content is not None
    assert (mean.structured_content["pooling"], cls.structured_content["pooling"]) == ("mean", "cls")
    assert vectors_of(mean) != vectors_of(cls)


async def test_embed_writes_100_large_vectors_to_a_file_that_reads_back_through_the_resource(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    texts = [f"document number {i} about topic {i % 7}" for i in range(100)]
    async with open_session(settings, upstream=emulator_app) as client:
        big = await client.call_tool("embed", {"texts": texts, "model": LARGE})
        small = await client.call_tool("embed", {"texts": texts[:2], "model": LARGE})
        assert big.structured_content is not None and small.structured_content is not None
        uri = big.structured_content["resource_uri"]
        read = await client.read_resource(uri)
    data = big.structured_content
    assert (data["count"], data["dimensions"], data["vectors"]) == (100, 1024, None)
    assert Path(data["file"]).parent == settings.output_dir
    links = [block for block in big.content if isinstance(block, ResourceLink)]
    assert [(link.uri, link.mime_type) for link in links] == [(uri, "application/json")]
    assert len(data["preview"]) == 10 and all(len(p) == 8 for p in data["preview"])  # the first ten
    # The whole result, sent twice (structured + text), stays a few KB.
    assert len(big.model_dump_json(by_alias=True)) < 8_000
    contents = read.contents[0]
    assert isinstance(contents, TextResourceContents)
    saved: dict[str, Any] = json.loads(contents.text)
    assert saved["shape"] == [100, 1024] and saved["model"] == LARGE
    assert saved["vectors"][:2] == vectors_of(small)
    assert [[round(x, 6) for x in v[:8]] for v in saved["vectors"][:10]] == data["preview"]
    assert json.loads(Path(data["file"]).read_text()) == saved
    assert run_paths(emulator_state) == [LARGE, LARGE]


async def test_embed_of_40_texts_stays_under_16_kb_on_the_wire_whatever_the_result_cap(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    texts = [f"text number {i} of forty" for i in range(40)]
    async with open_session(make_settings(tmp_path, max_result_bytes=64_000), upstream=emulator_app) as client:
        capped = await client.call_tool("embed", {"texts": texts})
    async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
        default = await client.call_tool("embed", {"texts": texts})
    for result in (capped, default):
        assert result.structured_content is not None and result.structured_content["vectors"] is None
        assert Path(result.structured_content["file"]).is_file() and len(vectors_of(result)) == 40
        assert len(result.model_dump_json(by_alias=True, exclude_none=True).encode()) < 16_000


async def test_embed_refuses_more_than_100_texts_or_an_empty_text_without_calling_the_api(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        too_many = await client.call_tool("embed", {"texts": ["x"] * 101})
        empty = await client.call_tool("embed", {"texts": ["fine", ""]})
    assert "100" in error_text(too_many)
    assert "texts" in error_text(empty)
    assert emulator_state.requests == []


async def test_embed_with_a_model_that_is_not_an_embedder_is_a_clear_error(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("embed", {"texts": ["hello"], "model": RERANKER})
    # The catalog files the reranker under another task: refused before sending, pointing to the right task.
    assert "is a Text Classification model and embed needs a Text Embeddings model" in error_text(result)
    assert "list_models with task 'Text Embeddings'" in error_text(result)


async def test_rank_documents_orders_documents_by_relevance_with_trimmed_text(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    long_doc = "cat food " + "with many words " * 30
    documents = ["stock market news", long_doc, "dog toys", "cat food brands compared"]
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("rank_documents", {"query": "cat food brands", "documents": documents})
    assert not result.is_error and result.structured_content is not None
    ranked = result.structured_content["results"]
    assert result.structured_content["model"] == RERANKER
    assert [r["index"] for r in ranked][:2] == [3, 1]
    assert {r["index"] for r in ranked} == {0, 1, 2, 3}
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    trimmed = next(r["text"] for r in ranked if r["index"] == 1)
    assert len(trimmed) <= 200 and trimmed.endswith("…") and long_doc.startswith(trimmed[:-1])
    assert ranked[0]["text"] == "cat food brands compared"
    assert run_paths(emulator_state) == [RERANKER]


async def test_rank_documents_top_k_keeps_only_the_best(settings: Settings, emulator_app: Starlette) -> None:
    documents = ["red apples", "green apples and pears", "blue whales", "apples"]
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("rank_documents", {"query": "apples", "documents": documents, "top_k": 2})
    assert result.structured_content is not None
    assert [r["index"] for r in result.structured_content["results"]] == [3, 0]


async def test_rank_documents_refuses_a_top_k_of_zero_without_calling_the_api(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("rank_documents", {"query": "q", "documents": ["d"], "top_k": 0})
    assert "top_k" in error_text(result)
    assert emulator_state.requests == []


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Passes requests on, keeping each JSON body sent to `ai/run/{model}`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if "/ai/run/" in request.url.path:
            model = request.url.path.split("/ai/run/", 1)[1]
            self.bodies.append((model, json.loads(await request.aread())))
        return await self.inner.handle_async_request(request)


@pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason="Cloudflare's model schemas (../shared) are not present")
async def test_request_bodies_fit_cloudflares_published_input_schemas(
    settings: Settings, emulator_app: Starlette
) -> None:
    recorder = RecordingTransport(httpx2.ASGITransport(app=emulator_app))
    async with open_session(settings, upstream=recorder) as client:
        for model in (BASE, "@cf/baai/bge-small-en-v1.5", LARGE):
            await client.call_tool("embed", {"texts": ["one text"], "model": model})
        await client.call_tool("embed", {"texts": ["a", "b"], "pooling": "cls"})
        await client.call_tool("rank_documents", {"query": "q", "documents": ["x", "y"]})
        await client.call_tool("rank_documents", {"query": "q", "documents": ["x", "y"], "top_k": 1})
    assert len(recorder.bodies) == 6
    for model, body in recorder.bodies:
        published = json.loads((SHARED_MODELS / f"{model.rsplit('/', 1)[1]}.json").read_text())
        validate(body, published["schema"]["input"], cls=Draft202012Validator)


async def test_embed_uses_the_openai_endpoint_for_a_model_whose_schema_is_openai_input(
    settings: Settings, emulator_app: Starlette
) -> None:
    openai_model = "@cf/example/openai-embedder"
    seen: list[tuple[str, dict[str, Any]]] = []

    async def upstream(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.endswith("/ai/models/schema"):
            schema = {"input": {"type": "object", "properties": {"input": {"type": "array"}}, "required": ["input"]}}
            return httpx2.Response(200, json={"success": True, "errors": [], "messages": [], "result": schema})
        if path.endswith("/ai/models/search"):
            empty = {"success": True, "errors": [], "messages": [], "result": [], "result_info": {"total_count": 0}}
            return httpx2.Response(200, json=empty)
        seen.append((path, json.loads(request.content)))
        rows = [{"object": "embedding", "index": i, "embedding": [0.1 * (i + 1), 0.2, 0.3]} for i in range(2)]
        return httpx2.Response(200, json={"object": "list", "data": rows, "model": openai_model})

    async with open_session(settings, upstream=httpx2.MockTransport(upstream)) as client:
        result = await client.call_tool("embed", {"texts": ["a", "b"], "model": openai_model})
    assert not result.is_error, error_text(result)
    data = result.structured_content or {}
    assert data["count"] == 2 and data["dimensions"] == 3
    [(path, body)] = seen
    assert path.endswith("/ai/v1/embeddings") and body == {"model": openai_model, "input": ["a", "b"]}
