"""Prompt caching and capacity through real MCP sessions against the emulator: one `x-session-affinity`
value per session (never two sessions'), cached prompt tokens in the usage and priced, and
`rejectIfBusy` sent in Cloudflare's `options` with a 3040 that names another model."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from starlette.applications import Starlette

from support.results import structured, text_of
from support.session import open_session, upstream_transport
from support.settings import make_settings
from support.text_tools import Wire
from tools.test_chat import schema_errors
from tools.test_chat_thinking_and_tools import _real_branch  # pyright: ignore[reportPrivateUsage]
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState

LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GEMMA_4 = "@cf/google/gemma-4-26b-a4b-it"
HEADER = "x-session-affinity"


def _affinities(wire: Wire) -> list[str | None]:
    return [request.headers.get(HEADER) for request in wire.requests]


async def test_one_sessions_calls_share_one_affinity_and_the_repeated_prefix_comes_back_cached(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    wire = Wire()
    first_turn = [{"role": "user", "content": "Tell me about clouds and the edge of the network."}]
    later = [*first_turn, {"role": "assistant", "content": "Clouds."}, {"role": "user", "content": "More."}]
    with anyio.fail_after(20):
        async with open_session(make_settings(tmp_path), upstream=wire.transport(emulator_app)) as client:
            structured(await client.call_tool("chat", {"messages": first_turn, "model": GEMMA_4}))
            data = structured(await client.call_tool("chat", {"messages": later, "model": GEMMA_4}))
            structured(await client.call_tool("respond", {"input": "Say hi", "max_output_tokens": 16}))
    values = _affinities(wire)
    assert len(values) == 3 and values[0] and len(set(values)) == 1
    assert data["usage"]["cached_tokens"] > 0
    assert data["call"]["usage"]["cached_prompt_tokens"] == data["usage"]["cached_tokens"]  # priced at its rate


async def test_two_sessions_on_one_server_never_share_an_affinity(tmp_path: Path, emulator_app: Starlette) -> None:
    wire = Wire()
    server = create_server(make_settings(tmp_path), transport=upstream_transport(wire.transport(emulator_app)))
    with anyio.fail_after(20):
        for _ in range(2):
            async with open_session(server, mode="legacy") as client:
                for _ in range(2):
                    structured(await client.call_tool("chat", {"prompt": "Hi", "model": LLAMA_33}))
    first, second = _affinities(wire)[:2], _affinities(wire)[2:]
    assert first[0] and first[0] == first[1]
    assert second[0] and second[0] == second[1]
    assert first[0] != second[0]


async def test_two_servers_sessions_in_the_2026_era_have_different_affinities(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    wire = Wire()
    with anyio.fail_after(20):
        for _ in range(2):
            async with open_session(make_settings(tmp_path), upstream=wire.transport(emulator_app)) as client:
                structured(await client.call_tool("chat", {"prompt": "Hi", "model": LLAMA_33}))
    first, second = _affinities(wire)
    assert first and second and first != second


async def test_a_busy_model_is_refused_at_once_with_reject_if_busy_and_another_model_named(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    emulator_state.busy.add(LLAMA_33)
    emulator_state.busy_wait = 30.0  # far beyond the call's deadline: only rejectIfBusy can answer in time
    wire = Wire()
    settings = make_settings(tmp_path, max_retries=0)
    with anyio.fail_after(20):
        async with open_session(settings, upstream=wire.transport(emulator_app)) as client:
            result = await client.call_tool("chat", {"prompt": "Hi", "model": LLAMA_33})
    assert result.is_error
    assert "out of capacity" in text_of(result)
    assert f"or pass model={settings.respond_model}, another Text Generation model" in text_of(result)
    assert wire.bodies()[0]["options"] == {"rejectIfBusy": True}


async def test_with_reject_if_busy_off_a_busy_model_queues_and_answers(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    emulator_state.busy.add(LLAMA_33)
    wire = Wire()
    settings = make_settings(tmp_path, reject_if_busy=False)
    with anyio.fail_after(20):
        async with open_session(settings, upstream=wire.transport(emulator_app)) as client:
            data = structured(await client.call_tool("chat", {"prompt": "Hi", "model": LLAMA_33}))
    assert data["text"]
    assert "options" not in wire.bodies()[0]


MISTRAL_LORA = "@cf/mistral/mistral-7b-instruct-v0.2-lora"
PUBLIC_ADAPTER = "cf-public-emulator-summaries"
FINETUNES = "/client/v4/accounts/test-account/ai/finetunes"


async def test_chat_and_complete_take_a_lora_adapter_for_its_base_model(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    wire = Wire()
    with anyio.fail_after(20):
        async with open_session(make_settings(tmp_path), upstream=wire.transport(emulator_app)) as client:
            chat = structured(
                await client.call_tool(
                    "chat", {"prompt": "Sum up: otters.", "model": MISTRAL_LORA, "lora": PUBLIC_ADAPTER}
                )
            )
            completion = structured(
                await client.call_tool(
                    "complete", {"prompt": "Otters are", "model": MISTRAL_LORA, "lora": PUBLIC_ADAPTER}
                )
            )
    assert chat["text"] and completion["text"]
    run = f"/client/v4/accounts/test-account/ai/run/{MISTRAL_LORA}"
    assert [path for path in wire.paths() if path == run] == [run, run]
    sent = [json.loads(request.content) for request in wire.requests if request.url.path == run]
    assert [body["lora"] for body in sent] == [PUBLIC_ADAPTER, PUBLIC_ADAPTER]
    assert sent[1]["raw"] is True and sent[1]["prompt"] == "Otters are"
    # Both bodies fit Cloudflare's published input schema of the base model, `lora` included.
    assert schema_errors(_real_branch("mistral-7b-instruct-v0.2-lora.json", "Messages"), sent[0]) == []
    assert schema_errors(_real_branch("mistral-7b-instruct-v0.2-lora.json", "Prompt"), sent[1]) == []
    assert f"{FINETUNES}/public" in wire.paths() and FINETUNES in wire.paths()


async def test_a_lora_adapter_for_another_model_or_none_at_all_is_refused_before_running(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    wire = Wire()
    with anyio.fail_after(20):
        async with open_session(make_settings(tmp_path), upstream=wire.transport(emulator_app)) as client:
            other = await client.call_tool(
                "chat", {"prompt": "hi", "model": "@cf/google/gemma-7b-it-lora", "lora": PUBLIC_ADAPTER}
            )
            unknown = await client.call_tool("complete", {"prompt": "hi", "model": MISTRAL_LORA, "lora": "nope"})
            plain = await client.call_tool("chat", {"prompt": "hi", "model": LLAMA_33, "lora": PUBLIC_ADAPTER})
    assert other.is_error and f"was trained for {MISTRAL_LORA}" in text_of(other)
    assert f"pass model={MISTRAL_LORA}" in text_of(other)
    assert unknown.is_error and "No LoRA adapter named nope" in text_of(unknown)
    assert plain.is_error and f"{LLAMA_33} takes no LoRA adapters" in text_of(plain)
    assert not [path for path in wire.paths() if "/ai/run/" in path or "/ai/v1/" in path]
