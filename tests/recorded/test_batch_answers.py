"""Batch answers as Cloudflare documents them: results nested as `result.result.response` and out of order
(matched to their inputs by `id`); a status other than queued or running ends the polling with a sentence."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
from starlette.applications import Starlette

from recorded.replay import Replay
from support.results import structured, text_of
from support.session import open_session
from support.settings import make_settings

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # takes async batches
PROMPTS = [{"prompt": "Tell me a joke"}, {"prompt": "Summarise the refund request"}, {"prompt": "A llama joke"}]


def status(value: str) -> httpx2.Response:
    body = {"result": {"status": value, "request_id": "768f15b7-4fd6-4498-906e-ad94ffc7f8d2"}, "success": True,
            "errors": [], "messages": []}  # fmt: skip
    return httpx2.Response(200, headers={"content-type": "application/json"}, content=json.dumps(body).encode())


async def test_nested_results_out_of_order_are_unwrapped_and_put_in_input_order(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    replay = Replay(emulator_app).answer(
        LLAMA, "batch/queued_rest_envelope", "batch/completed_nested_result_result_response"
    )
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport()) as client:
            job = structured(await client.call_tool("submit_batch", {"model": LLAMA, "inputs": PROMPTS}))
            done = structured(await client.call_tool("get_batch", {"job_id": job["job_id"]}))
    assert done["status"] == "done"
    results = done["results"]
    assert [item["index"] for item in results] == [0, 1, 2]
    assert results[0]["result"]["response"].startswith(", please!")  # id 0, which came second
    assert "refund" in results[1]["result"]["response"]
    assert "llama" in results[2]["result"]["response"]


async def test_a_failed_status_ends_the_polling_with_a_sentence(tmp_path: Path, emulator_app: Starlette) -> None:
    replay = Replay(emulator_app).answer(LLAMA, "batch/queued_rest_envelope").answer_with(LLAMA, status("failed"))
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=replay.transport()) as client:
            job = structured(await client.call_tool("submit_batch", {"model": LLAMA, "inputs": PROMPTS}))
            polled = await client.call_tool("get_batch", {"job_id": job["job_id"]})
            listed = structured(await client.call_tool("list_batches", {}))
    assert polled.is_error
    assert "'failed'" in text_of(polled) and "will bring no results" in text_of(polled)
    assert [entry["status"] for entry in listed["jobs"]] == ["failed"]
