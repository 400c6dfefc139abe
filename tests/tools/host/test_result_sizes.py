"""Results sized for an assistant's context, measured on the wire of real sessions: every tool's text copy
of its structured content is compact, and the big families (embed, get_batch, usage) stay a few KB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from mcp.types import CallToolResult, TextContent
from starlette.applications import Starlette

from support.session import open_session
from workers_ai_mcp.selftest.registered import tool_families
from workers_ai_mcp.selftest.samples import sample_arguments
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.metering import Spending

COPY_RATIO = 1.2  # the most a text copy may weigh against the structured content's compact JSON


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def copies(result: CallToolResult) -> list[str]:
    """The text blocks that hold a copy of the structured content (JSON objects)."""
    return [b.text for b in result.content if isinstance(b, TextContent) and b.text.startswith("{")]


def wire_bytes(result: CallToolResult) -> int:
    """Bytes of the result as it travels in a JSON-RPC response (aliases, no nulls the SDK drops)."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


async def test_every_tools_text_copy_is_at_most_its_compact_json_in_every_family(
    settings: Settings, emulator_app: Starlette, tmp_path: Path
) -> None:
    measured: dict[str, tuple[int, int]] = {}
    earlier: dict[str, dict[str, Any]] = {}
    async with open_session(settings, upstream=emulator_app) as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            arguments = sample_arguments(tool.name, dict(tool.input_schema), tmp_path, earlier)
            result = await client.call_tool(tool.name, arguments)
            if result.structured_content is None:
                continue
            earlier[tool.name] = result.structured_content
            data = len(compact(result.structured_content).encode())
            for text in copies(result):
                measured[tool.name] = (len(text.encode()), data)
    families = {tool_families()[name] for name in measured}
    assert {"text", "language", "embeddings", "catalog", "vision", "batch", "usage"} <= families
    over = {name: sizes for name, sizes in measured.items() if sizes[0] > COPY_RATIO * sizes[1]}
    assert not over, f"text copies over {COPY_RATIO}x their compact JSON (copy, data): {over}"


async def test_get_model_schema_of_a_large_model_sends_its_schema_once_compactly(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("get_model_schema", {"model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"})
    assert result.structured_content is not None
    data = len(compact(result.structured_content).encode())
    assert sum(len(text.encode()) for text in copies(result)) <= data
    assert wire_bytes(result) < 2 * data + 1_500  # structured content, one compact copy, the envelope: not 4x


INLINE_CAP = 16_000  # bytes on the wire for the results that used to carry their whole data inline


async def test_get_batch_of_50_embeddings_stays_under_16_kb_inline_with_every_result_in_its_file(
    settings: Settings, emulator_app: Starlette
) -> None:
    inputs = [{"text": f"sentence number {i} about otters and rivers"} for i in range(50)]
    async with open_session(settings, upstream=emulator_app) as client:
        submitted = await client.call_tool("submit_batch", {"model": "@cf/baai/bge-base-en-v1.5", "inputs": inputs})
        assert submitted.structured_content is not None
        job = submitted.structured_content["job_id"]
        with anyio.fail_after(10):
            while True:
                done = await client.call_tool("get_batch", {"job_id": job})
                assert done.structured_content is not None
                if done.structured_content["status"] == "done":
                    break
    data = done.structured_content
    assert data["results_truncated"] is True and data["results_uri"].startswith("workers-ai://outputs/")
    saved = json.loads(Path(data["results_file"]).read_text())["results"]
    assert [item["index"] for item in saved] == list(range(50))
    assert wire_bytes(done) < INLINE_CAP


async def test_usage_is_a_summary_of_a_few_kb_by_default_and_lists_every_model_on_request(
    settings: Settings, emulator_app: Starlette
) -> None:
    ledger = Spending.from_settings(settings)  # the same shared store the server reads
    models = [f"@cf/test/model-number-{i:02d}-with-a-long-name" for i in range(30)]
    for rank, model in enumerate(models):
        await ledger.ledger.record(model, {"prompt_tokens": 1000.0 + rank, "completion_tokens": 50.0}, 0.001 * rank)
    await ledger.aclose()
    async with open_session(settings, upstream=emulator_app) as client:
        summary = await client.call_tool("usage", {})
        details = await client.call_tool("usage", {"details": True})
    short, full = summary.structured_content, details.structured_content
    assert short is not None and full is not None
    assert [m["model"] for m in short["today"]["models"]] == models[::-1][:5]  # the costliest first
    assert short["today"]["models_not_shown"] == 25 and short["today"]["total"]["calls"] == 30
    assert len(full["today"]["models"]) == 30 and full["today"]["models_not_shown"] == 0
    assert short["today"]["total"] == full["today"]["total"]
    assert wire_bytes(summary) < INLINE_CAP < wire_bytes(details)
