"""AI Gateway: configured headers on every call, cache status and log id on results, batches never cached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from support.emulated import BGE_BASE, LLAMA_33, M2M, model_calls
from support.results import data_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.client import WorkersAIClient, create_http_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.inference import WorkersAI
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.metering import CallMeta
from workers_ai_mcp.tools.host.call_info import CallInfo

GATEWAY_PATH = "/v1/test-account/gw1/workers-ai/"
GATEWAY_SECRET = "gw-secret-token-1234"


@pytest.fixture
def gateway_settings(tmp_path: Path, emulator_state: EmulatorState) -> Settings:
    emulator_state.gateway_token = GATEWAY_SECRET  # the emulated gateway is an authenticated one
    return make_settings(tmp_path, gateway_id="gw1", gateway_token=SecretStr(GATEWAY_SECRET), gateway_cache_ttl=300)


@pytest.fixture
async def gateway_client(gateway_settings: Settings, emulator_app: Starlette) -> AsyncIterator[WorkersAI]:
    async with create_http_client(gateway_settings, httpx2.ASGITransport(app=emulator_app)) as http:
        yield WorkersAI(gateway_settings, WorkersAIClient(gateway_settings, http))


async def test_a_repeated_call_is_answered_from_the_gateway_cache_and_costs_nothing(
    gateway_client: WorkersAI, emulator_state: EmulatorState
) -> None:
    inputs = {"text": "good morning", "target_lang": "fr"}
    first = await gateway_client.run(M2M, inputs)
    second = await gateway_client.run(M2M, inputs)
    assert (first.meta.gateway_cache_status, second.meta.gateway_cache_status) == ("MISS", "HIT")
    assert first.meta.gateway_log_id and second.meta.gateway_log_id
    assert first.meta.gateway_log_id != second.meta.gateway_log_id
    assert isinstance(first.meta, CallMeta) and isinstance(second.meta, CallMeta)
    assert first.meta.cost_usd and first.meta.cost_usd > 0 and second.meta.cost_usd == 0
    info = CallInfo.from_meta(second.meta)
    assert info.gateway_cache_status == "HIT" and info.gateway_log_id == second.meta.gateway_log_id
    assert "AI Gateway cache" in info.note
    calls = model_calls(emulator_state)
    assert all(r.path.startswith(GATEWAY_PATH) for r in calls)
    assert [r.headers["cf-aig-cache-ttl"] for r in calls] == ["300", "300"]
    assert {r.headers["cf-aig-authorization"] for r in calls} == {f"Bearer {GATEWAY_SECRET}"}


async def test_a_per_call_cache_ttl_overrides_the_configured_one(
    gateway_client: WorkersAI, emulator_state: EmulatorState
) -> None:
    await gateway_client.run(M2M, {"text": "hi", "target_lang": "de"}, cache_ttl=60)
    await gateway_client.v1(
        "chat/completions", {"model": LLAMA_33, "messages": [{"role": "user", "content": "hi"}]}, cache_ttl=3600
    )
    calls = model_calls(emulator_state)
    assert [r.headers["cf-aig-cache-ttl"] for r in calls] == ["60", "3600"]
    assert calls[1].path == f"{GATEWAY_PATH}v1/chat/completions"


async def test_skip_cache_is_sent_and_every_answer_is_fresh(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, gateway_id="gw1", gateway_cache_ttl=300, gateway_skip_cache=True)
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        client = WorkersAIClient(settings, http)
        statuses = [
            (await client.run(M2M, {"text": "hi", "target_lang": "it"})).meta.gateway_cache_status for _ in "ab"
        ]
    assert statuses == ["MISS", "MISS"]
    assert [r.headers.get("cf-aig-skip-cache") for r in model_calls(emulator_state)] == ["true", "true"]
    assert all("cf-aig-authorization" not in r.headers for r in model_calls(emulator_state))


async def test_through_mcp_cached_answers_show_in_usage_and_batches_are_never_cached(
    gateway_settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(gateway_settings, upstream=emulator_app) as client:
        for _ in range(2):
            data_of(await client.call_tool("translate", {"text": "good night", "target_lang": "es"}))
        job = data_of(await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": "a"}]}))
        done: dict[str, Any] = {"status": "queued"}
        with anyio.fail_after(10):
            while done["status"] != "done":
                done = data_of(await client.call_tool("get_batch", {"job_id": job["job_id"]}))
        report = data_of(await client.call_tool("usage", {}))
    m2m = next(m for m in report["today"]["models"] if m["model"] == M2M)
    assert m2m["calls"] == 2 and m2m["cached_calls"] == 1
    batch_calls = [r for r in model_calls(emulator_state) if BGE_BASE in r.path]
    assert len(batch_calls) == 3  # submission and two polls, none answered from the cache
    assert all(r.headers.get("cf-aig-skip-cache") == "true" for r in batch_calls)
    assert all("cf-aig-cache-ttl" not in r.headers for r in batch_calls)
    assert done["call"]["gateway_cache_status"] == "MISS" and done["call"]["gateway_log_id"]
