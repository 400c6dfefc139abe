"""The AI Search tools through a real MCP client session, against the emulator's one instance, each
request checked against the paths and bodies Cloudflare publishes (tests/recorded/search/)."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from recorded.corpus import load
from support.results import text_of
from support.text_tools import Call, Wire

ACCOUNT = "/client/v4/accounts/test-account"


def answer_of(text: str) -> dict[str, Any]:
    return json.loads(text)


def sent_to(wire: Wire, suffix: str) -> list[httpx2.Request]:
    return [r for r in wire.requests if r.url.path.endswith(suffix)]


def check_body(request: httpx2.Request, recording: str) -> dict[str, Any]:
    """The JSON body of an AI Search request, with the recorded request's keys and bearer auth."""
    assert request.method == "POST"
    assert request.headers["authorization"].startswith("Bearer ")
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert set(load(recording).request) <= set(body)
    return body


async def test_list_search_instances_names_the_account_s_instances(call: Call, wire: Wire) -> None:
    result = await call("list_search_instances", {})

    data = answer_of(text_of(result))
    assert [i["id"] for i in data["instances"]] == ["emulator-docs"]
    assert data["instances"][0]["type"] == "r2" and data["total"] == 1
    assert [r.url.path for r in wire.requests] == [f"{ACCOUNT}/ai-search/instances"]
    assert wire.requests[0].url.params["per_page"] == "20"


async def test_search_instance_returns_bounded_chunks_with_source_score_and_text(call: Call, wire: Wire) -> None:
    result = await call(
        "search_instance", {"instance": "emulator-docs", "query": "how are refunds paid", "max_results": 1}
    )

    data = answer_of(text_of(result))
    assert len(data["chunks"]) == 1
    chunk = data["chunks"][0]
    assert chunk["source"] == "policies/refunds.md" and 0 < chunk["score"] <= 1 and "Refunds" in chunk["text"]
    request = sent_to(wire, "/ai-search/instances/emulator-docs/search")[0]
    body = check_body(request, "search/instance_search")
    assert body["messages"] == [{"role": "user", "content": "how are refunds paid"}]
    assert body["ai_search_options"] == {"retrieval": {"max_num_results": 1}}


async def test_ask_search_instance_answers_with_its_sources(call: Call, wire: Wire) -> None:
    result = await call(
        "ask_search_instance", {"instance": "emulator-docs", "question": "Is accidental damage covered?"}
    )

    data = answer_of(text_of(result))
    assert data["answer"].startswith("Emulated answer from emulator-docs")
    assert data["sources"][0]["source"] == "support/warranty.md"
    request = sent_to(wire, "/ai-search/instances/emulator-docs/chat/completions")[0]
    assert check_body(request, "search/instance_chat_completions")["stream"] is False


async def test_an_instance_id_that_could_change_the_path_is_refused_before_sending(call: Call, wire: Wire) -> None:
    result = await call("search_instance", {"instance": "../../tokens", "query": "x"})

    assert result.is_error and "not an AI Search instance id" in text_of(result)
    assert wire.requests == []


async def test_a_token_without_ai_search_permission_is_told_which_it_needs(call: Call, wire: Wire) -> None:
    body = {"result": None, "success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
    wire.intercept = lambda request: httpx2.Response(403, json=body) if "/ai-search/" in request.url.path else None

    result = await call("ask_search_instance", {"instance": "emulator-docs", "question": "refunds?"})

    text = text_of(result)
    assert result.is_error
    assert "AI Search:Run" in text and "Authentication error" in text
    assert "emulator-token" not in text


async def test_an_unknown_instance_is_the_api_s_not_found(call: Call) -> None:
    result = await call("search_instance", {"instance": "nope", "query": "refunds"})

    assert result.is_error and "nope" in text_of(result)


async def test_a_crafted_answering_model_is_refused_before_sending(call: Call, wire: Wire) -> None:
    arguments = {"instance": "emulator-docs", "question": "refunds?", "model": "@cf/../../user/tokens"}

    result = await call("ask_search_instance", arguments)

    assert result.is_error and "not a Workers AI model id" in text_of(result)
    assert wire.requests == []


async def test_the_answering_model_is_sent_in_the_body(call: Call, wire: Wire) -> None:
    model = "@cf/meta/llama-3.1-8b-instruct-fp8"
    arguments = {"instance": "emulator-docs", "question": "refunds?", "model": model}

    result = await call("ask_search_instance", arguments)

    assert answer_of(text_of(result))["model"] == model
    assert json.loads(wire.requests[0].content)["model"] == model
