"""models/search filters and paging, and the AI Gateway URL shape with its cache and token."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from support.emulator import AI, LLAMA
from workers_ai_mcp.emulator import EmulatorState

DEPRECATED = "@cf/qwen/qwen1.5-7b-chat-awq"  # planned_deprecation_date 2025-10-01


async def search(client: httpx2.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{AI}/models/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_search_rows_have_the_models_search_shape(client: httpx2.AsyncClient) -> None:
    body = await search(client, per_page=100)
    assert body["success"] is True
    rows = body["result"]
    assert {"id", "source", "name", "description", "task", "created_at", "tags", "properties"} <= set(rows[0])
    assert all(set(row["task"]) == {"id", "name", "description"} for row in rows)
    assert all("(emulated" in row["description"] for row in rows)
    llama = next(row for row in rows if row["name"] == LLAMA)
    props = {p["property_id"]: p["value"] for p in llama["properties"]}
    assert props["async_queue"] == "true"
    assert props["price"] == [
        {"unit": "per M input tokens", "price": 0.29, "currency": "USD"},
        {"unit": "per M output tokens", "price": 2.25, "currency": "USD"},
    ]
    assert len({row["id"] for row in rows}) == len(rows)
    again = await search(client, per_page=100)
    assert [r["id"] for r in again["result"]] == [r["id"] for r in rows]


async def test_search_filters_by_task_author_source_and_text(client: httpx2.AsyncClient) -> None:
    embeddings = await search(client, task="Text Embeddings")
    names = {r["name"] for r in embeddings["result"]}
    assert {"@cf/baai/bge-base-en-v1.5", "@cf/baai/bge-small-en-v1.5", "@cf/google/embeddinggemma-300m"} <= names
    assert all(r["task"]["name"] == "Text Embeddings" for r in embeddings["result"]) and len(names) == 8
    meta = await search(client, author="meta", per_page=100)
    assert meta["result"] and all(r["name"].split("/")[1] == "meta" for r in meta["result"])
    hf = await search(client, source=2, include_deprecated="true", per_page=100)
    assert hf["result"] and all(r["name"].startswith("@hf/") for r in hf["result"])
    whisper = await search(client, search="WHISPER")
    assert all("whisper" in r["name"] for r in whisper["result"]) and len(whisper["result"]) == 3


async def test_search_hides_experimental_when_asked(client: httpx2.AsyncClient) -> None:
    everything = await search(client, per_page=100)
    stable = await search(client, per_page=100, hide_experimental="true")
    hidden = {r["name"] for r in everything["result"]} - {r["name"] for r in stable["result"]}
    assert "@cf/facebook/bart-large-cnn" in hidden
    assert LLAMA not in hidden


async def test_deprecated_models_are_hidden_unless_included(client: httpx2.AsyncClient) -> None:
    default = await search(client, per_page=100)
    included = await search(client, per_page=100, include_deprecated="true")
    assert DEPRECATED not in {r["name"] for r in default["result"]}
    assert DEPRECATED in {r["name"] for r in included["result"]}
    hidden = {r["name"] for r in included["result"]} - {r["name"] for r in default["result"]}
    assert hidden == {
        "@cf/qwen/qwen1.5-7b-chat-awq",
        "@cf/moonshotai/kimi-k2.5",
        "@cf/meta/llama-2-7b-chat-int8",
        "@hf/mistral/mistral-7b-instruct-v0.2",
    }  # each past its planned_deprecation_date


async def test_search_pages_with_v4_result_info(client: httpx2.AsyncClient) -> None:
    total = (await search(client, per_page=100))["result_info"]["total_count"]
    pages = [await search(client, page=page, per_page=40) for page in (1, 2, 3, 4)]
    assert [p["result_info"]["count"] for p in pages] == [40, 40, total - 80, 0]
    assert pages[0]["result_info"] == {"page": 1, "per_page": 40, "count": 40, "total_count": total}
    names = [r["name"] for p in pages for r in p["result"]]
    assert len(names) == len(set(names)) == total
    default = await search(client)
    assert default["result_info"]["per_page"] == 20


async def test_search_rejects_a_non_numeric_page(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{AI}/models/search", params={"page": "two"})
    assert response.status_code == 400
    assert response.json()["success"] is False


M2M = "@cf/meta/m2m100-1.2b"
BODY = {"text": "hello", "target_lang": "de"}


@pytest.mark.parametrize("prefix", ["/v1/acct/my-gw/workers-ai", "/acct/my-gw/workers-ai"])
async def test_gateway_cache_misses_then_hits(client: httpx2.AsyncClient, prefix: str) -> None:
    headers = {"cf-aig-cache-ttl": "300"}
    first = await client.post(f"{prefix}/{M2M}", json=BODY, headers=headers)
    second = await client.post(f"{prefix}/{M2M}", json=BODY, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.json() == first.json()
    assert second.headers["content-type"] == first.headers["content-type"]
    assert first.headers["cf-aig-log-id"] != second.headers["cf-aig-log-id"]
    with_run = await client.post(f"{prefix}/run/{M2M}", json=BODY, headers=headers)
    assert with_run.json() == first.json()


async def test_gateway_does_not_cache_without_ttl_or_when_skipping(client: httpx2.AsyncClient) -> None:
    url = f"/v1/acct/gw/workers-ai/{M2M}"
    plain = [await client.post(url, json=BODY) for _ in range(2)]
    assert [r.headers["cf-aig-cache-status"] for r in plain] == ["MISS", "MISS"]
    ttl = {"cf-aig-cache-ttl": "60"}
    await client.post(url, json=BODY, headers=ttl)
    skipped = await client.post(url, json=BODY, headers={**ttl, "cf-aig-skip-cache": "true"})
    assert skipped.headers["cf-aig-cache-status"] == "MISS"
    other_body = await client.post(url, json={**BODY, "text": "bye"}, headers=ttl)
    assert other_body.headers["cf-aig-cache-status"] == "MISS"


async def test_gateway_openai_chat_route_answers_with_gateway_headers(client: httpx2.AsyncClient) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}
    response = await client.post("/v1/acct/gw/workers-ai/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"
    assert response.headers["cf-aig-log-id"]


async def test_gateway_token_is_checked_when_configured(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.gateway_token = "gw-secret"
    url = f"/v1/acct/gw/workers-ai/run/{M2M}"
    missing = await client.post(url, json=BODY)
    wrong = await client.post(url, json=BODY, headers={"cf-aig-authorization": "Bearer nope"})
    right = await client.post(url, json=BODY, headers={"cf-aig-authorization": "Bearer gw-secret"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["errors"][0]["code"] == 2009
    assert right.status_code == 200
    assert state.requests[-1].headers["cf-aig-authorization"] == "Bearer gw-secret"


async def test_gateway_errors_keep_the_cloudflare_envelope(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v1/acct/gw/workers-ai/@cf/none/such", json=BODY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 5007
    assert response.headers["cf-aig-cache-status"] == "MISS"
