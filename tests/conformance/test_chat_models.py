"""Every Text Generation model of Cloudflare's published catalog, through `chat` in a real MCP session.

For each model, a fake upstream serves its published catalog row and schemas, checks each request
against the published input schema, and answers in every form the published output schema allows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult

from support.results import structured, text_of
from support.session import open_session
from support.settings import SHARED_MODELS, make_settings
from workers_ai_mcp.catalog.model_input import branches, properties
from workers_ai_mcp.catalog.models import ModelInfo

from .upstream import (
    REASONING,
    TEXT,
    Upstream,
    completion,
    json_forms,
    native_chunks,
    openai_chunks,
    reply,
    sse,
    streams,
)

INDEX = SHARED_MODELS / "index.json"
SCHEMA = {"type": "object", "properties": {"fact": {"type": "string"}}, "required": ["fact"]}


def _rows() -> list[dict[str, Any]]:
    if not INDEX.exists():
        return []
    entries = [e for e in json.loads(INDEX.read_text()) if e["task"] == "Text Generation"]
    return [json.loads((SHARED_MODELS / e["file"]).read_text()) for e in entries]


ROWS = _rows()
VISION_ROW = next((r for r in ROWS if ModelInfo.from_row(r).vision and "messages" in json.dumps(r.get("schema"))), None)


def test_the_published_catalog_is_here() -> None:
    assert len(ROWS) == 73, f"Cloudflare's published models are expected at {SHARED_MODELS}"


def _chat_input(row: dict[str, Any]) -> dict[str, Any]:
    return (row.get("schema") or {}).get("input") or {}


def _servable(row: dict[str, Any]) -> bool:
    """A conversation fits the schema, or there is no schema and chat sends the classic form unchecked."""
    props = properties(_chat_input(row))
    return "messages" in props or "prompt" in props or not _chat_input(row)


def _takes_thinking(row: dict[str, Any]) -> bool:
    """A thinking level fits: a `reasoning_effort`, a `reasoning.effort` or a `chat_template_kwargs.enable_thinking`."""
    props = properties(_chat_input(row))
    switch = "enable_thinking" in json.dumps(props.get("chat_template_kwargs", {}))
    return "reasoning_effort" in props or "effort" in json.dumps(props.get("reasoning", {})) or switch


def _takes_json(row: dict[str, Any]) -> bool:
    """The schema declares a JSON mode, or there is no schema and the classic `response_format` goes unchecked."""
    props = properties(_chat_input(row))
    return "response_format" in props or "guided_json" in props or not _chat_input(row)


def _sees(row: dict[str, Any]) -> bool:
    """Images per the published schema and catalog row: image_url parts in the model's own schema; or in
    OpenAI's shared Chat Completions schema (with `model`), or an `image` field, of a model whose row says
    vision or whose description speaks of images."""
    props = properties(_chat_input(row))
    info = ModelInfo.from_row(row)
    described = info.vision or any(w in info.description.lower() for w in ("image", "vision", "visual", "multimodal"))
    parts = '"image_url"' in json.dumps(props.get("messages", {}))
    return (parts and ("model" not in props or described)) or ("image" in props and described)


@asynccontextmanager
async def session(tmp_path: Path, upstream: Upstream) -> AsyncIterator[Client]:
    with anyio.fail_after(20):
        async with open_session(make_settings(tmp_path), upstream=upstream.transport(), mode="legacy") as client:
            yield client


async def _progress_call(client: Client, arguments: dict[str, Any]) -> tuple[CallToolResult, list[str]]:
    updates: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(message or "")

    return await client.call_tool("chat", arguments, progress_callback=on_progress), updates


def _png(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "otter.png"
    Image.new("RGB", (8, 8), (120, 80, 40)).save(path)
    return path


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
async def test_chat_requests_fit_the_published_input_schema(tmp_path: Path, row: dict[str, Any]) -> None:
    name = row["name"]
    output = (row.get("schema") or {}).get("output") or {}
    forms = json_forms(name, output) or [completion(name)]
    upstream = Upstream(row, lambda path, body: reply(path, forms[0]), catalog=[VISION_ROW] if VISION_ROW else [])
    base = {"prompt": "Tell me about otters.", "model": name}
    async with session(tmp_path, upstream) as client:
        plain = await client.call_tool("chat", base)
        if not _servable(row):
            assert plain.is_error and "takes no conversation" in text_of(plain), text_of(plain)
            assert upstream.bodies == []
            return
        assert structured(plain)["text"] == TEXT
        conversation = {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": "Otters?"},
            ],
            "model": name,
            "temperature": 0.5,
        }
        assert structured(await client.call_tool("chat", conversation))["text"] == TEXT

        with_json = await client.call_tool("chat", base | {"json_schema": SCHEMA})
        assert with_json.is_error != _takes_json(row), text_of(with_json)

        streamed, updates = await _progress_call(client, base)
        assert structured(streamed)["text"] == TEXT and updates
        declared = "stream" in properties(_chat_input(row)) or not _chat_input(row)  # unchecked: the classic form
        assert upstream.bodies[-1][1].get("stream") is (True if declared else None)

        effort = await client.call_tool("chat", base | {"thinking": "high"})
        assert effort.is_error != _takes_thinking(row), text_of(effort)
        if not effort.is_error:
            body = upstream.bodies[-1][1]
            levels = (body.get("reasoning_effort"), body.get("reasoning"))
            switched = body.get("chat_template_kwargs") == {"enable_thinking": True}
            assert levels[0] == "high" or levels[1] == {"effort": "high"} or switched and levels == (None, None)
        else:
            assert "has no thinking control" in text_of(effort)

        seen = await client.call_tool("chat", base | {"images": [str(_png(tmp_path))]})
        assert seen.is_error != _sees(row), text_of(seen)
        if seen.is_error:
            assert "cannot see images" in text_of(seen) or "how it takes images is unknown" in text_of(seen)
            assert VISION_ROW is None or VISION_ROW["name"] in text_of(seen)
        else:
            sent = json.dumps(upstream.bodies[-1][1])
            assert "data:image/png;base64," in sent or '"image": [' in sent
    assert upstream.problems == []


@pytest.mark.parametrize("row", [r for r in ROWS if _servable(r)], ids=[r["name"] for r in ROWS if _servable(r)])
async def test_every_answer_form_the_output_schema_allows_becomes_text(tmp_path: Path, row: dict[str, Any]) -> None:
    name = row["name"]
    output = (row.get("schema") or {}).get("output") or {}
    forms = json_forms(name, output)
    assert forms or not branches(output), f"no known answer shape fits {name}'s output schema"
    answers: list[tuple[str, Any]] = [("json", form) for form in forms]
    if streams(output):
        for usage in (True, False):
            answers += [("sse", native_chunks(usage)), ("sse", openai_chunks(name, usage))]
    current: list[tuple[str, Any]] = []

    def answer(path: str, body: dict[str, Any]) -> httpx2.Response:
        kind, value = current[0]
        return sse(value) if kind == "sse" else reply(path, value)

    upstream = Upstream(row, answer)
    async with session(tmp_path, upstream) as client:
        for kind, value in answers:
            current[:] = [(kind, value)]
            arguments = {"prompt": "Otters?", "model": name}
            if kind == "json":  # also the JSON body some models send in reply to stream: true
                plain = structured(await client.call_tool("chat", arguments))
                assert plain["text"] == TEXT, (name, value)
            result, updates = await _progress_call(client, arguments)
            data = structured(result)
            assert data["text"] == TEXT, (name, kind, value)
            assert updates
            if "choices" in json.dumps(value) or "output" in json.dumps(value):
                assert data.get("reasoning") in (REASONING, None)
                assert REASONING not in text_of(result)
    assert upstream.problems == []


def _row(name: str) -> dict[str, Any]:
    return next(row for row in ROWS if row["name"] == name)


async def test_kimi_streams_on_v1_chat_completions_with_progress_and_reasoning_apart(tmp_path: Path) -> None:
    row = _row("@cf/moonshotai/kimi-k2.6")
    upstream = Upstream(row, lambda path, body: sse(openai_chunks(row["name"], usage=True)))
    async with session(tmp_path, upstream) as client:
        result, updates = await _progress_call(client, {"prompt": "Otters?", "model": row["name"], "thinking": "low"})
    data = structured(result)
    path, body = upstream.bodies[-1]
    assert path.endswith("/ai/v1/chat/completions")
    assert body["stream"] is True and body["model"] == row["name"] and body["reasoning_effort"] == "low"
    assert data["text"] == TEXT and updates and updates[-1] == TEXT
    assert data["reasoning"] == REASONING and REASONING not in text_of(result)
    assert upstream.problems == []


async def test_llama_4_scout_chats_about_an_image_from_a_file_path(tmp_path: Path) -> None:
    row = _row("@cf/meta/llama-4-scout-17b-16e-instruct")
    upstream = Upstream(row, lambda path, body: reply(path, {"response": TEXT}))
    async with session(tmp_path, upstream) as client:
        result = await client.call_tool(
            "chat", {"prompt": "What is in this picture?", "model": row["name"], "images": [str(_png(tmp_path))]}
        )
    assert structured(result)["text"] == TEXT
    path, body = upstream.bodies[-1]
    assert path.endswith(f"/ai/run/{row['name']}")
    parts = body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "What is in this picture?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert upstream.problems == []


async def test_llama_3_2_vision_chats_about_an_image_in_its_published_image_field(tmp_path: Path) -> None:
    row = _row("@cf/meta/llama-3.2-11b-vision-instruct")
    upstream = Upstream(row, lambda path, body: reply(path, {"response": TEXT}))
    async with session(tmp_path, upstream) as client:
        result = await client.call_tool(
            "chat", {"prompt": "What is in this picture?", "model": row["name"], "images": [str(_png(tmp_path))]}
        )
    assert structured(result)["text"] == TEXT
    path, body = upstream.bodies[-1]
    assert path.endswith(f"/ai/run/{row['name']}")
    assert (
        body["image"][:4] == [0x89, 0x50, 0x4E, 0x47] and body["messages"][-1]["content"] == "What is in this picture?"
    )
    assert upstream.problems == []
