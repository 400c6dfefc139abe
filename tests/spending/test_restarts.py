"""Batch jobs outlive the server process that submitted them, on SQLite and on PostgreSQL.

Each server is a real stdio subprocess on the test's store (`state`: a SQLite file, then a PostgreSQL
schema), all calling one emulator served on loopback, as a Workers AI account that outlives them: a
job one process submitted is listed, polled to its results and read back by processes started after
it exited (on the same machine: a finished job's results file is read back from the output folder).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from support.emulated import BGE_BASE, model_calls
from support.loopback import serving
from support.postgres import StateHome
from support.results import data_of
from support.transports import Pipes, server_command, server_env, spawned
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState, create_emulator_app


@asynccontextmanager
async def server_run(state: StateHome, name: str, url: str) -> AsyncGenerator[Client]:
    """One run of a server subprocess on `state`'s store and the machine's output folder, its Workers AI at `url`."""
    folder = state.tmp_path / name
    folder.mkdir()
    env = server_env(
        folder,
        **state.env(),
        CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
        CLOUDFLARE_ACCOUNT_ID="test-account",
        WORKERS_AI_BASE_URL=f"{url}/client/v4",
        WORKERS_AI_MCP_OUTPUT_DIR=str(state.tmp_path / "outputs"),  # one machine's: results files are read back
    )
    with (folder / "stderr.log").open("wb") as stderr:
        async with spawned(server_command(), env, folder, stderr) as process, Client(Pipes(process).transport()) as c:
            yield c


async def until_done(client: Client, job_id: str) -> dict[str, Any]:
    while True:
        status = data_of(await client.call_tool("get_batch", {"job_id": job_id}))
        if status["status"] == "done":
            return status


async def test_a_batch_submitted_by_one_process_is_listed_polled_and_read_back_by_processes_started_after_it(
    state: StateHome,
) -> None:
    inputs = [{"text": "otters hold hands"}, {"text": "beavers build dams"}]
    upstream = EmulatorState()
    async with serving(create_emulator_app(upstream)) as url:
        with anyio.fail_after(90):
            async with server_run(state, "first", url) as first:
                job = data_of(await first.call_tool("submit_batch", {"model": BGE_BASE, "inputs": inputs}))
            async with server_run(state, "second", url) as second:
                listed = data_of(await second.call_tool("list_batches", {}))
                done = await until_done(second, job["job_id"])
            sent = len(model_calls(upstream))
            async with server_run(state, "third", url) as third:
                again = data_of(await third.call_tool("get_batch", {"job_id": job["job_id"]}))
                later = data_of(await third.call_tool("list_batches", {}))
    assert [(j["job_id"], j["status"]) for j in listed["jobs"]] == [(job["job_id"], "queued")]
    results = json.loads(Path(done["results_file"]).read_text())["results"]
    assert [r["index"] for r in results] == [0, 1] and [r["result"]["shape"] for r in results] == [[1, 768]] * 2
    assert again["results"] == done["results"] and again["call"] == done["call"]
    assert [(j["job_id"], j["status"]) for j in later["jobs"]] == [(job["job_id"], "done")]
    assert len(model_calls(upstream)) == sent  # read back from the store and the results file, not fetched
    assert state.query("SELECT job_id FROM batches") == [(job["job_id"],)]
