"""Cost awareness: prices from the catalog, estimates, usage on results, the usage tool, and the budget."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.types import TextResourceContents
from starlette.applications import Starlette

from support.emulated import BART, BGE_BASE, LLAMA_33, M2M, catalog_reads, model_calls
from support.media import small_png
from support.results import data_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.catalog.models import ModelInfo
from workers_ai_mcp.client import BinaryResult, JsonResult, StreamResult, WorkersAIClient, create_http_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.inference import WorkersAI
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.ledger import usd
from workers_ai_mcp.spending.metering import CallMeta, Spending
from workers_ai_mcp.spending.pricing import Pricing, estimate_before, measure_after
from workers_ai_mcp.tools.host.call_info import CallInfo


def call_meta(result: JsonResult | BinaryResult | StreamResult) -> CallMeta:
    """What a metered call used and cost."""
    assert isinstance(result.meta, CallMeta)
    return result.meta


IN, OUT = 0.29, 2.25  # llama-3.3 per M tokens, in the emulator's catalog as in Cloudflare's


def row(*prices: tuple[str, float], currency: str = "USD") -> ModelInfo:
    value = [{"unit": unit, "price": price, "currency": currency} for unit, price in prices]
    return ModelInfo.from_row({"name": "@cf/x/y", "properties": [{"property_id": "price", "value": value}]})


TOKENS = row(("per M input tokens", IN), ("per M output tokens", OUT))
PNG_URI = "data:image/png;base64," + base64.b64encode(small_png(448, 448)).decode()


# ---- pricing, estimates and measured usage (pure) --------------------------------------------


@pytest.mark.parametrize(
    ("info", "rates", "known"),
    [
        (TOKENS, {"prompt_tokens": IN / 1e6, "completion_tokens": OUT / 1e6}, True),
        (row(("per M input tokens", 0.067)), {"prompt_tokens": 0.067 / 1e6}, True),
        (
            row(("per 512 by 512 tile", 0.0000528), ("per step", 0.0001056)),
            {"tiles": 0.0000528, "steps": 0.0001056},
            True,
        ),
        (row(("per audio minute", 0.0052), ("per audio minute (websocket)", 0.0092)), {"audio_minutes": 0.0052}, True),
        (row(("per 1k characters", 0.015)), {"characters": 0.000015}, True),
        (row(("per inference request", 2.51e-06)), {"requests": 2.51e-06}, True),
        (row(("per M input tokens", 0.1), ("per GPU second", 0.5)), {"prompt_tokens": 0.1 / 1e6}, False),
        (row(("per M input tokens", 0.1), currency="EUR"), {}, False),
    ],
)
def test_catalog_price_units_become_rates_per_single_unit(
    info: ModelInfo, rates: dict[str, float], known: bool
) -> None:
    pricing = Pricing.of(info)
    assert pricing is not None
    assert pricing.rates == pytest.approx(rates)
    assert pricing.known is known


@pytest.mark.parametrize(
    "row", [None, {"name": "@cf/x/y", "properties": []}, {"properties": [{"property_id": "beta"}]}]
)
def test_a_model_without_a_price_has_no_pricing_and_no_estimate(row: dict[str, Any] | None) -> None:
    info = ModelInfo.from_row(row) if row is not None else None
    assert Pricing.of(info) is None
    assert estimate_before(info, {"prompt": "hello"}) is None


@pytest.mark.parametrize(
    ("info", "inputs", "schema", "expected"),
    [
        # 40 letters: at most 20 input tokens, 16 of template; no max_tokens and no schema: 256 output tokens
        (TOKENS, {"prompt": "x" * 40}, None, (36 * IN + 256 * OUT) / 1e6),
        (
            TOKENS,  # 396 letters of content and 4 of role, 16 of template and 8 for the message: 224 input tokens
            {"messages": [{"role": "user", "content": "x" * 396}], "max_tokens": 100},
            None,
            (224 * IN + 100 * OUT) / 1e6,
        ),
        # CJK text: two tokens a character, never characters / 4
        (TOKENS, {"prompt": "水獭" * 50, "max_tokens": 1}, None, (216 * IN + 1 * OUT) / 1e6),
        (
            TOKENS,
            {"prompt": "hi"},
            {"properties": {"max_tokens": {"type": "integer", "default": 512}}},
            (17 * IN + 512 * OUT) / 1e6,
        ),
        # a translation schema has no max_tokens: the output may be as long as the input
        (TOKENS, {"text": "x" * 4000}, {"properties": {"text": {"type": "string"}}}, (2016 * IN + 2016 * OUT) / 1e6),
        (
            TOKENS,
            {"requests": [{"prompt": "x" * 4, "max_tokens": 10}, {"prompt": "x" * 8, "max_tokens": 10}]},
            None,
            (38 * IN + 20 * OUT) / 1e6,
        ),
        (row(("per M input tokens", 1.0)), {"text": ["x" * 8, "y" * 8]}, None, 24 / 1e6),
        # media payloads are not text tokens: an image counts by its pixels (1,024 14x14 patches and 64
        # of margin), one that cannot be read as the most one image can cost
        (row(("per M input tokens", 1.0)), {"prompt": "abcd", "image": list(small_png(448, 448))}, None, 1106 / 1e6),
        (row(("per M input tokens", 1.0)), {"prompt": "abcd", "image": "A" * 4000}, None, 16402 / 1e6),
        (
            row(("per M input tokens", 1.0)),
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG_URI}}]}]},
            None,
            (16 + 8 + 2 + 6 + 1088) / 1e6,
        ),
        (
            row(("per step", 0.01), ("per 512 by 512 tile", 0.001)),
            {"prompt": "a fox", "steps": 4},
            None,
            4 * 0.01 + 4 * 0.001,
        ),
        (row(("per step", 0.01)), {"prompt": "a fox"}, {"properties": {"steps": {"default": 4}}}, 0.04),
        (row(("per step", 0.01)), {"prompt": "a fox"}, None, 0.2),
        (row(("per 512 by 512 tile", 1.0)), {"prompt": "p", "width": 513, "height": 512}, None, 2.0),
        (row(("per 1k characters", 0.015)), {"text": "x" * 2000}, None, 0.03),
        (row(("per inference request", 0.5)), None, None, 0.5),
        # the audio's length is unknown until it is transcribed
        (row(("per audio minute", 0.0052)), {"audio": "AAAA"}, None, None),
    ],
)
def test_estimates_before_sending_are_conservative(
    info: ModelInfo, inputs: dict[str, Any] | None, schema: dict[str, Any] | None, expected: float | None
) -> None:
    estimate = estimate_before(info, inputs, schema=schema)
    assert estimate == (pytest.approx(expected) if expected is not None else None)


def tokens(prompt: float, completion: float | None = None, total: float | None = None) -> dict[str, float]:
    usage = {"prompt_tokens": prompt} | ({"completion_tokens": completion} if completion is not None else {})
    return usage | ({"total_tokens": total} if total is not None else {})


PER_TOKEN = row(("per M input tokens", 1.0))
PER_MINUTE = row(("per audio minute", 1.0))


@pytest.mark.parametrize(
    ("info", "inputs", "output", "reported", "usage", "estimated"),
    [
        (TOKENS, {"prompt": "x" * 400}, {"response": "y" * 40}, tokens(7, 3, 10), tokens(7, 3, 10), False),
        (TOKENS, None, None, {"input_tokens": 5, "output_tokens": 6}, tokens(5, 6, 11), False),
        (TOKENS, {"text": "x" * 40}, {"translated_text": "y" * 20}, None, tokens(10, 5), True),
        (PER_TOKEN, None, None, tokens(9, total=9), tokens(9, total=9), False),
        (PER_MINUTE, None, {"transcription_info": {"duration": 90.0}}, None, {"audio_minutes": 1.5}, False),
        (PER_MINUTE, None, {"words": [{"word": "hi", "start": 0, "end": 30}]}, None, {"audio_minutes": 0.5}, False),
        (row(("per step", 1.0)), {"prompt": "p", "num_steps": 8}, None, None, {"steps": 8}, False),
        (None, {"prompt": "p"}, {"response": "r"}, tokens(1, 2), tokens(1, 2, 3), False),
        (None, {"prompt": "p"}, {"response": "r"}, None, None, False),
    ],
)
def test_usage_after_a_call_prefers_what_the_api_reported(
    info: ModelInfo | None,
    inputs: dict[str, Any] | None,
    output: Any,
    reported: dict[str, Any] | None,
    usage: dict[str, float] | None,
    estimated: bool,
) -> None:
    measured, was_estimated = measure_after(Pricing.of(info), inputs, output, reported)
    assert measured == usage
    assert was_estimated is estimated


def test_cost_is_the_sum_over_priced_units_and_unknown_when_a_unit_was_not_measured() -> None:
    def cost(info: ModelInfo, usage: dict[str, float]) -> float | None:
        pricing = Pricing.of(info)
        assert pricing is not None
        return pricing.cost(usage)

    assert cost(TOKENS, {"prompt_tokens": 1_000_000, "completion_tokens": 2_000_000}) == pytest.approx(IN + 2 * OUT)
    assert cost(TOKENS, {"prompt_tokens": 100}) == pytest.approx(100 * IN / 1e6)  # embeddings-like
    assert cost(row(("per audio minute", 1.0)), {}) is None


@pytest.mark.parametrize(("amount", "shown"), [(2.5, "$2.50"), (0.0123456, "$0.0123"), (0.0000528, "$0.000053")])
def test_dollar_amounts_show_sub_cent_digits(amount: float, shown: str) -> None:
    assert usd(amount) == shown


# ---- through the client ----------------------------------------------------------------------


@pytest.fixture
async def metered(settings: Settings, emulator_app: Starlette) -> AsyncIterator[WorkersAI]:
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        yield WorkersAI(settings, WorkersAIClient(settings, http), spending=Spending())


async def test_text_generation_results_carry_reported_usage_and_its_estimated_cost(metered: WorkersAI) -> None:
    result = await metered.run(LLAMA_33, {"prompt": "tell me about otters", "max_tokens": 20})
    assert isinstance(result, JsonResult)
    reported = result.data["usage"]
    meta = call_meta(result)
    assert meta.usage == {key: float(value) for key, value in reported.items()}
    assert meta.price_known and not meta.usage_estimated
    expected = (reported["prompt_tokens"] * IN + reported["completion_tokens"] * OUT) / 1e6
    assert meta.cost_usd == pytest.approx(expected)
    info = CallInfo.from_meta(meta)
    assert info.cost_usd == pytest.approx(expected) and info.note.startswith("Estimated cost: $")


async def test_embeddings_without_reported_usage_are_priced_from_estimated_tokens(metered: WorkersAI) -> None:
    result = await metered.run(BGE_BASE, {"text": ["x" * 40, "y" * 40]})
    assert call_meta(result).usage == {"prompt_tokens": 20}
    assert call_meta(result).usage_estimated
    assert call_meta(result).cost_usd == pytest.approx(20 * 0.067 / 1e6)
    openai = call_meta(await metered.v1("embeddings", {"model": BGE_BASE, "input": ["a b c d"]}))
    assert openai.usage is not None and not openai.usage_estimated
    assert openai.cost_usd == pytest.approx(openai.usage["prompt_tokens"] * 0.067 / 1e6)


async def test_a_model_without_a_catalog_price_says_so_instead_of_guessing(metered: WorkersAI) -> None:
    result = await metered.run(BART, {"input_text": "A long article about otters. " * 5})
    assert call_meta(result).cost_usd is None and not call_meta(result).price_known
    assert "No price is listed" in CallInfo.from_meta(result.meta).note


async def test_streams_and_openai_chat_are_metered_too(metered: WorkersAI) -> None:
    async def ignore(_: object) -> None:
        return None

    streamed = await metered.stream_run(LLAMA_33, {"prompt": "hello there", "max_tokens": 8}, ignore)
    used = call_meta(streamed).usage
    assert streamed.usage and used and call_meta(streamed).cost_usd
    assert used["completion_tokens"] == streamed.usage["completion_tokens"]
    chat = await metered.v1("chat/completions", {"model": LLAMA_33, "messages": [{"role": "user", "content": "hi"}]})
    chat_used = call_meta(chat).usage
    assert chat_used and chat_used["prompt_tokens"] == chat.data["usage"]["prompt_tokens"]
    models = await metered.spending.ledger.totals(0.0)
    assert [m.calls for m in models] == [2]


async def test_prices_are_looked_up_once_after_the_first_call_and_the_bare_client_reads_no_catalog(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState, metered: WorkersAI
) -> None:
    for _ in range(3):
        await metered.run(M2M, {"text": "hi", "target_lang": "fr"})
    reads = [r.query for r in catalog_reads(emulator_state)]
    assert reads and len(reads) == len(set(reads))  # one read of each catalog page, then prices from the cache
    assert "/run/" in emulator_state.requests[0].path  # the call went first; nothing blocked it
    emulator_state.reset_counters()
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        plain = await WorkersAIClient(settings, http).run(M2M, {"text": "hi", "target_lang": "fr"})
    assert not isinstance(plain.meta, CallMeta) and catalog_reads(emulator_state) == []


# ---- through MCP -------------------------------------------------------------------------------


async def test_the_usage_tool_adds_up_calls_tokens_and_cost_per_model(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        chats = [
            data_of(await client.call_tool("chat", {"prompt": p, "max_tokens": 30})) for p in ("otters", "beavers?")
        ]
        data_of(await client.call_tool("embed", {"texts": ["x" * 40]}))
        full = data_of(await client.call_tool("usage", {}))
        resource = await client.read_resource("workers-ai://usage")
    report = full["today"]
    assert full["month"]["total"] == report["total"] and full["since"] is None
    by_model = {m["model"]: m for m in report["models"]}
    llama = by_model[LLAMA_33]
    assert llama["calls"] == 2
    assert llama["prompt_tokens"] == sum(c["usage"]["prompt_tokens"] for c in chats)
    assert llama["completion_tokens"] == sum(c["usage"]["completion_tokens"] for c in chats)
    assert llama["cost_usd"] == pytest.approx((llama["prompt_tokens"] * IN + llama["completion_tokens"] * OUT) / 1e6)
    assert by_model[BGE_BASE] | {"cost_usd": 0, "neurons": 0} == {
        "model": BGE_BASE, "calls": 1, "prompt_tokens": 10, "completion_tokens": 0, "units": {},
        "cost_usd": 0, "fallback_usd": 0, "neurons": 0, "unpriced_calls": 0, "cached_calls": 0,
    }  # fmt: skip
    assert report["total"]["neurons"] == pytest.approx(report["total"]["cost_usd"] / 0.011 * 1000, abs=0.01)
    assert full["free_daily_neurons"] == 10_000
    assert full["free_neurons_left_today"] == pytest.approx(10_000 - report["total"]["neurons"], abs=0.01)
    assert report["total"]["calls"] == 3
    assert report["total"]["cost_usd"] == pytest.approx(sum(m["cost_usd"] for m in report["models"]), abs=1e-8)
    assert report["budget_usd"] is None and report["budget_left_usd"] is None
    content = resource.contents[0]
    assert isinstance(content, TextResourceContents)
    assert json.loads(content.text)["today"]["total"]["calls"] == 3


async def test_the_budget_refuses_the_call_that_would_cross_it_before_sending(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    budget = 0.001
    settings = make_settings(tmp_path, max_cost_usd=budget)
    async with open_session(settings, upstream=emulator_app) as client:
        first = data_of(await client.call_tool("chat", {"prompt": "otters", "max_tokens": 40}))
        spent = data_of(await client.call_tool("usage", {}))["today"]["total"]["cost_usd"]
        assert spent == pytest.approx(
            (first["usage"]["prompt_tokens"] * IN + first["usage"]["completion_tokens"] * OUT) / 1e6
        )
        # An estimate that fits the budget alone, but not on top of what was spent.
        max_tokens = int((budget - spent) / (OUT / 1e6)) + 5
        assert max_tokens * OUT / 1e6 < budget
        sent = len(model_calls(emulator_state))
        refused = await client.call_tool("chat", {"prompt": "otters", "max_tokens": max_tokens})
        report = data_of(await client.call_tool("usage", {}))["today"]
    assert refused.is_error
    assert "WORKERS_AI_MCP_MAX_COST_USD" in text_of(refused) and "nothing was sent" in text_of(refused)
    assert "daily budget" in text_of(refused) and "resets at 00:00 UTC" in text_of(refused)
    assert len(model_calls(emulator_state)) == sent
    assert report["total"]["calls"] == 1 and report["budget_usd"] == budget
    assert report["budget_left_usd"] == pytest.approx(budget - spent)


async def test_the_per_call_cap_refuses_an_expensive_call_and_lets_a_cheap_one_through(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, max_call_cost_usd=0.001)
    async with open_session(settings, upstream=emulator_app) as client:
        refused = await client.call_tool("chat", {"prompt": "otters", "max_tokens": 1000})
        assert len(model_calls(emulator_state)) == 0
        allowed = await client.call_tool("chat", {"prompt": "otters", "max_tokens": 100})
    assert refused.is_error and "WORKERS_AI_MCP_MAX_CALL_COST_USD" in text_of(refused)
    assert "$0.002" in text_of(refused)  # 1000 tokens at $2.25/M
    assert not allowed.is_error and len(model_calls(emulator_state)) == 1


async def test_with_a_budget_a_model_without_a_price_runs_and_counts_as_the_stated_fallback(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=0.025, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        first = data_of(await client.call_tool("summarize", {"text": "Otters are playful animals. " * 20}))
        second = data_of(await client.call_tool("summarize", {"text": "Beavers build dams. " * 20}))
        report = data_of(await client.call_tool("usage", {}))
        refused = await client.call_tool("summarize", {"text": "Rivers run to the sea. " * 20})
    assert first["call"]["counted_usd"] == 0.01 and "cost_usd" not in first["call"]
    assert "the catalog lists no price for it" in first["call"]["spending_note"]
    assert "WORKERS_AI_MCP_UNPRICED_CALL_USD" in first["call"]["spending_note"]
    assert second["call"]["counted_usd"] == 0.01
    bart = next(m for m in report["today"]["models"] if m["model"] == BART)
    assert (bart["unpriced_calls"], bart["cost_usd"], bart["fallback_usd"]) == (2, 0, 0.02)
    assert report["today"]["budget_left_usd"] == pytest.approx(0.005)
    assert report["unpriced_call_usd"] == 0.01
    assert refused.is_error and "has no known price (the catalog lists no price for it)" in text_of(refused)
    assert "counts as $0.0100 (WORKERS_AI_MCP_UNPRICED_CALL_USD)" in text_of(refused)
    assert len(model_calls(emulator_state)) == 2


def catalog_down(emulator_app: Starlette) -> httpx2.MockTransport:
    """The emulator, except that every catalog read fails with 503."""
    forward = httpx2.ASGITransport(app=emulator_app)

    async def handler(request: httpx2.Request) -> httpx2.Response:
        if "/ai/models/" in request.url.path:
            body = {"success": False, "errors": [{"code": 7000, "message": "Service unavailable"}], "result": None}
            return httpx2.Response(503, json=body)
        return await forward.handle_async_request(request)

    return httpx2.MockTransport(handler)


async def test_with_the_catalog_down_a_budget_counts_each_call_as_the_fallback_and_says_so(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=0.015, unpriced_call_usd=0.01, max_retries=0)
    async with open_session(settings, upstream=catalog_down(emulator_app)) as client:
        with caplog.at_level(logging.WARNING):
            allowed = data_of(await client.call_tool("chat", {"prompt": "otters", "max_tokens": 20}))
        refused = await client.call_tool("chat", {"prompt": "otters", "max_tokens": 20})
        report = data_of(await client.call_tool("usage", {}))
    assert allowed["call"]["counted_usd"] == 0.01 and not allowed["call"]["price_known"]
    assert "the catalog could not be read" in allowed["call"]["spending_note"]
    assert refused.is_error and "has no known price (the catalog could not be read)" in text_of(refused)
    assert "WORKERS_AI_MCP_MAX_COST_USD" in text_of(refused) and "nothing was sent" in text_of(refused)
    assert report["today"]["total"]["unpriced_calls"] == 1 and report["today"]["total"]["fallback_usd"] == 0.01
    assert any("catalog look-up failed" in r.getMessage() for r in caplog.records)
    assert len([r for r in emulator_state.requests if "/ai/run/" in r.path]) == 1


async def test_the_per_call_cap_applies_to_the_fallback_of_an_unpriced_call(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, max_call_cost_usd=0.005, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        refused = await client.call_tool("summarize", {"text": "Otters are playful animals. " * 20})
    assert refused.is_error and "Lower WORKERS_AI_MCP_UNPRICED_CALL_USD" in text_of(refused)
    assert model_calls(emulator_state) == []


async def test_a_monthly_budget_refuses_what_would_cross_it_and_names_its_setting(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, max_cost_usd_monthly=0.015, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        data_of(await client.call_tool("summarize", {"text": "Otters are playful animals. " * 20}))
        refused = await client.call_tool("summarize", {"text": "Otters are playful animals. " * 20})
        report = data_of(await client.call_tool("usage", {"since": "2000-01-01"}))
    assert refused.is_error and "WORKERS_AI_MCP_MAX_COST_USD_MONTHLY" in text_of(refused)
    assert "monthly budget" in text_of(refused) and "on the 1st" in text_of(refused)
    assert report["month"]["budget_usd"] == 0.015 and report["month"]["budget_left_usd"] == pytest.approx(0.005)
    assert report["today"]["budget_usd"] is None
    assert report["since"]["start"] == "2000-01-01T00:00:00+00:00" and report["since"]["total"]["calls"] == 1
    assert len(model_calls(emulator_state)) == 1


async def test_a_restart_keeps_todays_spend_and_usage_since_a_time_reads_it_back(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, max_cost_usd=0.015, unpriced_call_usd=0.01)
    async with open_session(settings, upstream=emulator_app) as client:
        data_of(await client.call_tool("summarize", {"text": "Otters are playful animals. " * 20}))
    async with open_session(settings, upstream=emulator_app) as restarted:
        report = data_of(await restarted.call_tool("usage", {}))
        refused = await restarted.call_tool("summarize", {"text": "Otters are playful animals. " * 20})
        future = data_of(await restarted.call_tool("usage", {"since": "2999-01-01T00:00:00Z"}))
        bad = await restarted.call_tool("usage", {"since": "last tuesday"})
    assert report["today"]["total"]["calls"] == 1 and report["today"]["budget_left_usd"] == pytest.approx(0.005)
    assert report["store"] == str(tmp_path / "state" / "state.sqlite3")
    assert refused.is_error and "every user and server process of this deployment" in text_of(refused)
    assert future["since"]["total"]["calls"] == 0
    assert bad.is_error and "ISO 8601" in text_of(bad)
    assert len(model_calls(emulator_state)) == 1


async def test_a_token_without_catalog_access_still_runs_models_unpriced_with_one_failed_lookup(
    settings: Settings, emulator_app: Starlette
) -> None:
    forward = httpx2.ASGITransport(app=emulator_app)
    searches: list[str] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/ai/models/search"):
            searches.append(str(request.url.query))
            body = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}], "result": None}
            return httpx2.Response(403, json=body)
        return await forward.handle_async_request(request)

    async with create_http_client(settings, httpx2.MockTransport(handler)) as http:
        client = WorkersAI(settings, WorkersAIClient(settings, http), spending=Spending())
        results = [await client.run(M2M, {"text": "hi", "target_lang": "fr"}) for _ in range(3)]
    assert all(isinstance(r, JsonResult) and r.data["translated_text"] for r in results)
    assert all(call_meta(r).cost_usd is None and not call_meta(r).price_known for r in results)
    assert len(searches) == 2  # the whole-catalog read and one look-up of the model; not retried on every call
