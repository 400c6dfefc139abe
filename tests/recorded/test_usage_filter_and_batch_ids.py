"""`workers-ai://usage?model=X` totals only that model (the free allocation left stays the account's);
emulator batch ids are unique across emulator processes."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from mcp.types import TextResourceContents
from starlette.applications import Starlette

from support.emulated import LLAMA_33, M2M
from support.results import structured
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app


async def test_the_usage_resource_filtered_by_model_totals_only_that_model(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            structured(await client.call_tool("chat", {"prompt": "otters", "max_tokens": 20}))
            structured(await client.call_tool("translate", {"text": "hello", "target_lang": "fr"}))
            (whole,) = (await client.read_resource("workers-ai://usage")).contents
            (one,) = (await client.read_resource(f"workers-ai://usage?model={M2M}")).contents
    assert isinstance(whole, TextResourceContents) and isinstance(one, TextResourceContents)
    everything, filtered = json.loads(whole.text), json.loads(one.text)
    assert everything["today"]["total"]["calls"] == 2
    assert filtered["today"]["total"]["calls"] == 1 and filtered["today"]["total"]["model"] == M2M
    assert [m["model"] for m in filtered["today"]["models"]] == [M2M]
    assert filtered["today"]["total"]["prompt_tokens"] < everything["today"]["total"]["prompt_tokens"]
    assert filtered["free_neurons_left_today"] == everything["free_neurons_left_today"]
    assert LLAMA_33 in {m["model"] for m in everything["today"]["models"]}


async def test_two_emulators_hand_out_different_batch_ids(tmp_path: Path) -> None:
    ids: list[str] = []
    for n in range(2):  # two fresh emulators: what two server processes each start with
        app = create_emulator_app(EmulatorState())
        with anyio.fail_after(10):
            async with open_session(make_settings(tmp_path / str(n)), upstream=app) as client:
                job = structured(
                    await client.call_tool("submit_batch", {"model": LLAMA_33, "inputs": [{"prompt": "hi"}]})
                )
        ids.append(job["job_id"])
    assert ids[0] != ids[1]
