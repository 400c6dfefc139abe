"""Exact cost: the neurons an answer reports are what is recorded; else the catalog price, cached prompt
tokens at their own rate; else the fallback, shown as an estimate and never counted as free allocation spent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from starlette.applications import Starlette

from recorded.corpus import load
from recorded.replay import Replay
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings

KIMI = "@cf/moonshotai/kimi-k2.6"  # priced per M input, output and cached input tokens
GEMMA = "@cf/google/gemma-4-26b-a4b-it"
UNPRICED = "@cf/tiiuae/falcon-7b-instruct"  # the catalog lists no price


def enveloped(result: Any) -> httpx2.Response:
    body = {"result": result, "success": True, "errors": [], "messages": []}
    return httpx2.Response(200, headers={"content-type": "application/json"}, content=json.dumps(body).encode())


async def chat_then_usage(tmp_path: Path, upstream: Any, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=upstream) as client:
            answer = await client.call_tool("chat", {"prompt": "Say hi", "model": model})
            usage = await usage_of(client)
    assert not answer.is_error, text_of(answer)
    return structured(answer), usage


async def test_a_saved_image_says_its_cost_comes_from_the_catalog_price(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            result = await client.call_tool(
                "generate_image", {"prompt": "an otter", "steps": 4, "model": "@cf/leonardo/phoenix-1.0"}
            )
    assert not result.is_error, text_of(result)
    assert "(the catalog price for the usage)." in text_of(result)


async def usage_of(client: Client) -> dict[str, Any]:
    return structured(await client.call_tool("usage", {}))


def row(usage: dict[str, Any], model: str) -> dict[str, Any]:
    (found,) = [entry for entry in usage["today"]["models"] if entry["model"] == model]
    return found


async def test_a_kimi_call_is_priced_with_its_cached_tokens_at_the_cached_rate(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    recorded = load("responses/run_usage_cached_tokens").response
    assert recorded is not None
    reported = recorded.body["usage"]  # 6377 prompt tokens of which 2861 cached, 349 completion tokens
    replay = Replay(emulator_app).answer_with(KIMI, enveloped({"response": "Hi", "usage": reported}))
    data, usage = await chat_then_usage(tmp_path, replay.transport(), KIMI)
    expected = ((6377 - 2861) * 0.95 + 2861 * 0.16 + 349 * 4) / 1e6
    assert data["call"]["price_known"] is True and data["call"]["cost_basis"] == "price"
    assert data["call"]["cost_usd"] == pytest.approx(expected)
    assert row(usage, KIMI)["cost_usd"] == pytest.approx(expected) and row(usage, KIMI)["fallback_usd"] == 0


async def test_a_call_that_reports_neurons_records_exactly_those_neurons(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(GEMMA, "responses/chat_completion_run_gemma4_neurons")
    data, usage = await chat_then_usage(tmp_path, replay.transport(), GEMMA)
    neurons = 1.7727272510528564
    assert data["call"]["usage"]["neurons"] == neurons
    assert data["call"]["cost_usd"] == pytest.approx(neurons * 0.011 / 1000, rel=1e-6)
    assert data["call"]["cost_basis"] == "neurons"
    gemma = row(usage, GEMMA)
    assert gemma["units"]["neurons"] == pytest.approx(neurons) and gemma["neurons"] == pytest.approx(1.77)
    assert usage["free_neurons_left_today"] == pytest.approx(10_000 - 1.77)


async def test_an_unpriced_call_is_a_shown_estimate_and_not_counted_as_free_allocation_spent(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    data, usage = await chat_then_usage(tmp_path, emulator_app, UNPRICED)
    assert "cost_usd" not in data["call"] and data["call"]["counted_usd"] > 0
    assert data["call"]["cost_basis"] == "estimate"
    assert (
        "fallback" in data["call"]["spending_note"].lower()
        or "WORKERS_AI_MCP_UNPRICED_CALL_USD" in (data["call"]["spending_note"])
    )
    assert row(usage, UNPRICED)["fallback_usd"] > 0 and row(usage, UNPRICED)["neurons"] == 0
    assert usage["free_neurons_left_today"] == 10_000
