"""Batch jobs through MCP: submit, poll until done, results in order, the index across restarts, refusals.

The tests taking `state` keep the index in a SQLite file and, once more, in a PostgreSQL schema."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import ResourceLink, TextResourceContents
from PIL import Image
from starlette.applications import Starlette

from support.emulated import BGE_BASE, LLAMA_33, LLAMA_FP8, M2M, model_calls
from support.postgres import StateHome
from support.results import data_of, text_of
from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from workers_ai_mcp.catalog.model_input import without_batch_branch
from workers_ai_mcp.catalog.schema_check import input_problem
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app
from workers_ai_mcp.media.outputs import OutputStore
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.batch_store import LEGACY_INDEX, MAX_JOBS, BatchRecord, BatchStore
from workers_ai_mcp.spending.caller import LOCAL
from workers_ai_mcp.tools.batch.results import batch_items


async def poll_until_done(client: Client, job_id: str) -> tuple[list[str], dict[str, Any]]:
    """Statuses seen, and the final answer (the emulator finishes on the second poll)."""
    seen: list[str] = []
    with anyio.fail_after(10):
        while True:
            status = data_of(await client.call_tool("get_batch", {"job_id": job_id}))
            seen.append(status["status"])
            if status["status"] == "done":
                return seen, status


async def test_a_batch_is_queued_at_once_then_polled_to_its_results_in_input_order(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    inputs = [
        {"text": "otters hold hands while sleeping"},
        {"text": ["beavers build dams", "dams hold water"], "external_reference": "second"},
        {"text": "rivers run to the sea", "pooling": "cls"},
    ]
    async with open_session(settings, upstream=emulator_app) as client:
        submitted = data_of(await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": inputs}))
        seen, done = await poll_until_done(client, submitted["job_id"])
        listed = data_of(await client.call_tool("list_batches", {}))
    assert submitted | {"job_id": "", "submitted_at": "", "payload_bytes": 0} == {
        "job_id": "", "model": BGE_BASE, "count": 3, "status": "queued", "submitted_at": "", "payload_bytes": 0,
    }  # fmt: skip
    assert seen == ["running", "done"]
    # Inline, the first results within a few KB; all of them in the results file.
    results = json.loads(Path(done["results_file"]).read_text())["results"]
    assert done["results"] == results[: len(done["results"])]
    assert done["results_truncated"] == (len(done["results"]) < 3)
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["external_reference"] for r in results] == [None, "second", None]
    assert [r["result"]["shape"] for r in results] == [[1, 768], [2, 768], [1, 768]]
    assert results[2]["result"]["pooling"] == "cls"
    assert done["call"]["price_known"] and done["call"]["cost_usd"] > 0
    queued = model_calls(emulator_state)[0]
    assert "queueRequest=true" in queued.query
    assert len(model_calls(emulator_state)) == 3  # one submission, two polls
    assert listed["jobs"][0]["job_id"] == submitted["job_id"] and listed["jobs"][0]["status"] == "done"


async def test_jobs_survive_a_restart_and_finished_results_are_read_back_without_a_request(
    state: StateHome, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = state.settings()
    async with open_session(settings, upstream=emulator_app) as client:
        first = data_of(await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": "one"}]}))
        second = data_of(await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": "two"}]}))
        _, done = await poll_until_done(client, first["job_id"])
    assert state.query("SELECT COUNT(*) FROM batches") == [(2,)]  # in the store's file or database
    sent = len(model_calls(emulator_state))
    async with open_session(settings, upstream=emulator_app) as restarted:
        listed = data_of(await restarted.call_tool("list_batches", {}))
        again = data_of(await restarted.call_tool("get_batch", {"job_id": first["job_id"]}))
    assert [(job["job_id"], job["status"]) for job in listed["jobs"]] == [
        (second["job_id"], "queued"),
        (first["job_id"], "done"),
    ]
    assert listed["total"] == 2
    assert again["results"] == done["results"] and again["call"] == done["call"]
    assert len(model_calls(emulator_state)) == sent


async def test_inputs_that_do_not_fit_the_schema_are_refused_before_anything_is_sent(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    inputs: list[dict[str, Any]] = [
        {"prompt": "fine"},
        {"prompt": ""},
        {"messages": "not a list"},
        {"prompt": "ok", "external_reference": 7},
        {"prompt": "ok", "stream": True},
    ]
    async with open_session(settings, upstream=emulator_app) as client:
        refused = await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs})
        listed = data_of(await client.call_tool("list_batches", {}))
    message = text_of(refused)
    assert refused.is_error
    assert "4 of 5 inputs do not fit" in message and "nothing was sent" in message
    assert "inputs[1].prompt: must not be empty" in message
    assert "inputs[2].messages" in message and "inputs[3].external_reference: must be a string" in message
    assert model_calls(emulator_state) == []
    assert listed["jobs"] == []


async def test_a_model_without_async_queue_is_refused_with_models_that_take_batches(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        refused = await client.call_tool("submit_batch", {"model": LLAMA_FP8, "inputs": [{"prompt": "hi"}]})
        unknown = await client.call_tool("submit_batch", {"model": "@cf/nobody/nothing", "inputs": [{"prompt": "hi"}]})
    assert refused.is_error and "does not accept batches" in text_of(refused)
    assert "@cf/openai/gpt-oss-120b" in text_of(refused)  # a Text Generation model that does
    assert unknown.is_error and "not in the Workers AI catalog" in text_of(unknown)
    assert model_calls(emulator_state) == []


async def test_a_batch_over_the_10_mb_payload_limit_is_refused_before_sending(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    inputs = [{"text": "x" * 3_500_000} for _ in range(3)]
    async with open_session(settings, upstream=emulator_app) as client:
        refused = await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": inputs})
    assert refused.is_error
    assert "10.5 MB" in text_of(refused) and "at most 10 MB" in text_of(refused)
    assert model_calls(emulator_state) == []


async def test_an_unknown_job_id_gets_a_clear_error(settings: Settings, emulator_app: Starlette) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("get_batch", {"job_id": "0000-not-a-job"})
    assert result.is_error and "list_batches" in text_of(result)


async def test_large_results_are_cut_inline_and_kept_whole_in_a_linked_file(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    settings = make_settings(tmp_path, max_result_bytes=64_000)  # 16 KB inline: about two 768-d vectors
    inputs = [{"text": f"sentence number {i}"} for i in range(6)]
    async with open_session(settings, upstream=emulator_app) as client:
        job = data_of(await client.call_tool("submit_batch", {"model": BGE_BASE, "inputs": inputs}))["job_id"]
        await client.call_tool("get_batch", {"job_id": job})
        result = await client.call_tool("get_batch", {"job_id": job})
        done = data_of(result)
        links = [block for block in result.content if isinstance(block, ResourceLink)]
        assert len(links) == 1
        whole = await client.read_resource(links[0].uri)
    assert done["results_truncated"] and 0 < len(done["results"]) < 6
    assert [r["index"] for r in done["results"]] == list(range(len(done["results"])))
    content = whole.contents[0]
    assert isinstance(content, TextResourceContents)
    saved = json.loads(content.text)
    assert [r["index"] for r in saved["results"]] == list(range(6))
    assert done["results_uri"] == links[0].uri


async def test_a_finished_batch_is_priced_once_from_its_reported_usage(
    settings: Settings, emulator_app: Starlette
) -> None:
    inputs = [{"prompt": "tell me about otters", "max_tokens": 20}, {"prompt": "and beavers", "max_tokens": 20}]
    async with open_session(settings, upstream=emulator_app) as client:
        job = data_of(await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs}))["job_id"]
        _, done = await poll_until_done(client, job)
        await client.call_tool("get_batch", {"job_id": job})  # read back from the file: not counted again
        report = data_of(await client.call_tool("usage", {}))["today"]
    usage = done["call"]["usage"]
    assert not done["call"]["usage_estimated"]
    assert usage["completion_tokens"] > 0 and usage["prompt_tokens"] > 0
    assert [r["result"]["response"].startswith("[emulator]") for r in done["results"]] == [True, True]
    llama = next(m for m in report["models"] if m["model"] == LLAMA_33)
    assert llama["calls"] == 1 and llama["completion_tokens"] == usage["completion_tokens"]
    assert llama["cost_usd"] == pytest.approx(done["call"]["cost_usd"])


async def test_results_fetched_again_by_a_replica_without_their_file_are_not_counted_twice(
    state: StateHome, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    inputs = [{"prompt": "tell me about otters", "max_tokens": 20}]
    first, second = state.settings(), state.settings(output_dir=state.tmp_path / "replica-2" / "outputs")
    async with open_session(first, upstream=emulator_app) as replica_1:
        job = data_of(await replica_1.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs}))["job_id"]
        _, done = await poll_until_done(replica_1, job)
    polls = len(model_calls(emulator_state))
    async with open_session(second, upstream=emulator_app) as replica_2:  # the same store, its own output folder
        again = data_of(await replica_2.call_tool("get_batch", {"job_id": job}))
        report = data_of(await replica_2.call_tool("usage", {}))["today"]
    assert len(model_calls(emulator_state)) == polls + 1  # fetched again: the results file is not here
    assert again["results"] == done["results"] and done["call"]["counted_usd"] > 0
    assert again["call"]["counted_usd"] == 0
    assert "counted when they were first fetched" in again["call"]["spending_note"]
    llama = next(m for m in report["models"] if m["model"] == LLAMA_33)
    assert llama["calls"] == 1 and llama["cost_usd"] == pytest.approx(done["call"]["cost_usd"])
    assert state.query("SELECT COUNT(*) FROM calls WHERE kind = 'batch'") == [(1,)]


async def test_a_queued_batch_counts_against_the_budget_until_it_is_priced(
    state: StateHome, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = state.settings(max_cost_usd=0.001)
    inputs = [{"prompt": "otters", "max_tokens": 150}]  # about $0.00034 each, held while queued
    async with open_session(settings, upstream=emulator_app) as client:
        for _ in range(2):
            data_of(await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs}))
        report = data_of(await client.call_tool("usage", {}))
        refused = await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs})
    today = report["today"]
    assert today["total"]["cost_usd"] == 0 and today["budget_left_usd"] < 0.001 - 2 * 150 * 2.25e-6 + 1e-9
    assert report["held_usd"] > 2 * 150 * 2.25e-6 - 1e-9
    assert refused.is_error and "WORKERS_AI_MCP_MAX_COST_USD" in text_of(refused)
    assert len(model_calls(emulator_state)) == 2


async def test_a_job_another_emulator_process_held_is_reported_and_marked_lost_without_blaming_the_input(
    state: StateHome,
) -> None:
    settings = state.settings(emulator=True)
    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as first:
        job = data_of(await first.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": "a"}]}))
    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as later:
        gone = await later.call_tool("get_batch", {"job_id": job["job_id"]})
        again = await later.call_tool("get_batch", {"job_id": job["job_id"]})
        listed = data_of(await later.call_tool("list_batches", {}))
    assert gone.is_error and "built-in emulator of another server process" in text_of(gone)
    assert "get_model_schema" not in text_of(gone) and "rejected the input" not in text_of(gone)
    assert again.is_error and "is lost" in text_of(again)
    assert [(j["job_id"], j["status"]) for j in listed["jobs"]] == [(job["job_id"], "lost")]


async def test_a_job_the_upstream_no_longer_knows_is_marked_lost_and_its_hold_released(
    state: StateHome, emulator_app: Starlette
) -> None:
    settings = state.settings(max_cost_usd=0.01)
    inputs = [{"prompt": "otters", "max_tokens": 150}]
    async with open_session(settings, upstream=emulator_app) as client:
        job = data_of(await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": inputs}))
        held = data_of(await client.call_tool("usage", {}))["held_usd"]
    async with open_session(settings, upstream=create_emulator_app(EmulatorState())) as forgetful:
        gone = await forgetful.call_tool("get_batch", {"job_id": job["job_id"]})
        listed = data_of(await forgetful.call_tool("list_batches", {}))
        after = data_of(await forgetful.call_tool("usage", {}))
    assert held > 0
    assert gone.is_error and "Workers AI no longer knows batch job" in text_of(gone)
    assert "get_model_schema" not in text_of(gone)
    assert listed["jobs"][0]["status"] == "lost" and after["held_usd"] == 0


async def test_the_old_batches_json_is_imported_once_and_kept_as_a_backup(
    state: StateHome, emulator_app: Starlette
) -> None:
    settings = state.settings()
    settings.output_dir.mkdir(parents=True)
    old = [
        {"job_id": f"job-{i}", "model": M2M, "count": 1, "submitted_at": f"2026-01-0{i + 1}T00:00:00+00:00"}
        for i in range(3)
    ]
    legacy = settings.output_dir / LEGACY_INDEX
    legacy.write_text(json.dumps({"version": 1, "jobs": old}))
    async with open_session(settings, upstream=emulator_app) as client:
        listed = data_of(await client.call_tool("list_batches", {}))
    async with open_session(settings, upstream=emulator_app) as restarted:
        again = data_of(await restarted.call_tool("list_batches", {}))
    assert [j["job_id"] for j in listed["jobs"]] == ["job-2", "job-1", "job-0"]
    assert again["jobs"] == listed["jobs"]
    assert not legacy.exists()
    assert json.loads((settings.output_dir / f"{LEGACY_INDEX}.migrated").read_text())["jobs"] == old


async def test_the_index_keeps_the_newest_jobs(state: StateHome) -> None:
    store = BatchStore(state.store())
    for i in range(MAX_JOBS + 2):
        await store.add(
            BatchRecord(
                job_id=f"job-{i}", model=M2M, count=1, submitted_at=f"2026-01-01T00:{i // 60:02}:{i % 60:02}+00:00"
            )
        )
    jobs = await store.newest_first(LOCAL)
    assert len(jobs) == MAX_JOBS and jobs[0].job_id == f"job-{MAX_JOBS + 1}" and jobs[-1].job_id == "job-2"
    await store.store.aclose()


def test_results_come_back_in_input_order_with_media_saved_and_failures_explained(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 90)).save(buffer, "PNG")
    png = base64.b64encode(buffer.getvalue() + b"\0" * 2_000).decode()
    responses: list[dict[str, Any]] = [
        {"id": 2, "success": False, "error": "AiError: model overloaded", "external_reference": "c"},
        {"id": 0, "success": True, "result": {"image": png, "seed": 7}, "external_reference": "a"},
        {"id": 1, "success": True, "result": {"embedding": [[0.5, 0.25]], "text": "short text stays"}},
    ]
    items = batch_items(OutputStore(tmp_path), "job-1234-5678", responses)
    assert [(i.index, i.success, i.external_reference) for i in items] == [
        (0, True, "a"),
        (1, True, None),
        (2, False, "c"),
    ]
    saved = items[0].result["image"]
    assert saved["media_type"] == "image/png" and saved["uri"].startswith("workers-ai://outputs/")
    assert Path(saved["file"]).read_bytes() == base64.b64decode(png)
    assert items[0].result["seed"] == 7
    assert items[1].result == {"embedding": [[0.5, 0.25]], "text": "short text stays"}
    assert items[2].result is None and items[2].error == "AiError: model overloaded"


def test_a_batch_item_is_checked_against_the_single_request_forms_of_cloudflares_schema() -> None:
    path = SHARED_MODELS / "llama-3.3-70b-instruct-fp8-fast.json"
    if not path.is_file():
        pytest.skip(f"Cloudflare's schemas are not at {SHARED_MODELS}")
    schema = without_batch_branch(json.loads(path.read_text())["schema"]["input"])
    assert not any("requests" in branch.get("properties", {}) for branch in schema["oneOf"])
    assert input_problem(schema, {"prompt": "hello", "max_tokens": 20}) is None
    assert input_problem(schema, {"messages": [{"role": "user", "content": "hi"}]}) is None
    assert input_problem(schema, {"prompt": ""}) == "input.prompt: must not be empty"
    assert input_problem(schema, {"requests": [{"prompt": "x"}]}) is not None
