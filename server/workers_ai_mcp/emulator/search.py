"""AI Search: one instance, `emulator-docs`, over a few built-in documents; and the LoRA fine-tunes lists.

Routes as Cloudflare publishes them (cloudflare-typescript `src/resources/aisearch/instances/instances.ts`,
`src/resources/ai/finetunes/`; tests/recorded/search/, tests/recorded/finetunes/): `GET ai-search/instances`
(a V4 page), `POST ai-search/instances/{id}/search` (envelope, `result: {search_query, chunks,
query_kind}`), `POST ai-search/instances/{id}/chat/completions` (a bare chat completion plus `chunks`);
the finetune lists are served by `finetunes.py`.
Retrieval scores chunks by the share of query words they hold: deterministic, lexically meaningful.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .context import parse_json_object
from .envelope import CloudflareError, as_list, as_obj, ok, success

INSTANCE = "emulator-docs"
CREATED = "2026-01-05T09:00:00.000Z"
DOCUMENTS = {
    "policies/refunds.md": (
        "Refunds are paid to the original payment method within 5 business days of the return arriving. "
        "Items returned after 30 days are refunded as store credit."
    ),
    "policies/shipping.md": (
        "Orders ship within 2 business days. Express shipping arrives the next business day in most regions."
    ),
    "support/warranty.md": (
        "Every device has a two-year warranty covering manufacturing defects. Accidental damage is not covered."
    ),
}
_WORDS = re.compile(r"[a-z0-9]+")


def _instance() -> dict[str, Any]:
    return {
        "id": INSTANCE, "created_at": CREATED, "modified_at": CREATED, "source": "emulator-docs-bucket",
        "type": "r2", "status": "ready", "enable": True, "paused": False, "namespace": "default",
        "ai_search_model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "embedding_model": "@cf/baai/bge-m3", "rewrite_query": False, "reranking": False,
        "max_num_results": 10, "ai_gateway_id": None,
    }  # fmt: skip


async def list_instances(_request: Request) -> Response:
    body = success([_instance()])
    body["result_info"] = {"page": 1, "per_page": 20, "count": 1, "total_count": 1}
    return JSONResponse(body)


async def search(request: Request) -> Response:
    query, limit = await _query(request)
    return ok({"search_query": query, "chunks": _chunks(query, limit), "query_kind": "text"})


async def chat_completions(request: Request) -> Response:
    query, limit = await _query(request)
    payload = parse_json_object(await request.body())
    chunks = _chunks(query, limit)
    answer = f"Emulated answer from {INSTANCE}: {chunks[0]['text']}" if chunks else f"{INSTANCE} holds nothing on that."
    model = str(payload.get("model") or _instance()["ai_search_model"])
    return JSONResponse({
        "id": "chatcmpl-emulator", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "chunks": chunks,
    })  # fmt: skip


async def _query(request: Request) -> tuple[str, int]:
    if request.path_params.get("instance") != INSTANCE:
        raise CloudflareError(404, 7003, f"AI Search instance not found: {request.path_params.get('instance')}")
    payload = parse_json_object(await request.body())
    messages = [m for m in (as_obj(v) for v in as_list(payload.get("messages")) or []) if m is not None]
    users = [m for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
    query = str(users[-1]["content"]) if users else str(payload.get("query") or "")
    if not query.strip():
        raise CloudflareError(400, 7003, "Give `messages` with a user message, or `query`.")
    retrieval = as_obj((as_obj(payload.get("ai_search_options")) or {}).get("retrieval")) or {}
    limit = retrieval.get("max_num_results", 10)
    return query, limit if isinstance(limit, int) and 1 <= limit <= 50 else 10


def _chunks(query: str, limit: int) -> list[dict[str, Any]]:
    wanted = set(_WORDS.findall(query.lower()))
    scored: list[dict[str, Any]] = []
    for index, (key, text) in enumerate(DOCUMENTS.items()):
        words = set(_WORDS.findall(text.lower()))
        score = round(len(wanted & words) / len(wanted), 4) if wanted else 0.0
        if score > 0:
            scored.append({
                "id": f"{INSTANCE}-chunk-{index}", "type": "text", "score": score, "text": text,
                "item": {"key": key, "timestamp": 1767603600, "metadata": {}},
            })  # fmt: skip
    scored.sort(key=lambda c: (-c["score"], c["id"]))
    return scored[:limit]
