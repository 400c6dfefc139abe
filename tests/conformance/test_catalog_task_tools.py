"""Every non-chat model of the published catalog, through the tool for its task, in a real MCP session.

The fake upstream serves the published catalog and schemas, refuses any run request its published
input schema does not allow, and answers with every answer its published output schema allows;
each one must become a correct tool result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp.types import AudioContent, CallToolResult, EmbeddedResource, ImageContent, ResourceLink

from conformance.published import Answer, Upstream, index, jpeg_bytes, png_bytes, schema_of, wav_bytes
from conformance.session import call_with_every_answer, session, text_of
from workers_ai_mcp.catalog.model_input import properties
from workers_ai_mcp.catalog.task_tools import TASK_TOOLS, serving

TASK_MODELS = [row for row in index() if row["task"] in TASK_TOOLS and row["task"] != "Text Generation"]


def arguments_for(tool: str, model: str, tmp_path: Path) -> tuple[dict[str, Any], set[str]]:
    """The tool's arguments for this model (what its schema takes), and the fields its request carries."""
    props = properties(schema_of(model)["input"])
    image = tmp_path / "photo.jpg"
    image.write_bytes(jpeg_bytes())
    audio = tmp_path / "speech.wav"
    audio.write_bytes(wav_bytes())
    match tool:
        case "embed":
            return {"texts": ["hello world"]}, {"text"}
        case "rank_documents":
            return {"query": "cats", "documents": ["Cats purr.", "Dogs bark."]}, {"query", "contexts"}
        case "classify_text":
            return {"text": "I love this."}, {"text"}
        case "summarize":
            return {"text": "Workers AI runs models on Cloudflare's network. " * 5, "max_length": 32}, {"input_text"}
        case "translate":
            target = props.get("target_lang") or props.get("target_language") or {}
            language = target.get("enum", ["french"])[0]
            return {"text": "good morning", "target_lang": language}, {"text"}
        case "classify_image" | "detect_objects":
            return {"image": str(image)}, {"image"}
        case "describe_image":
            return {"image": str(image), "prompt": "What is shown?"}, {"image"}
        case "transcribe_audio":
            arguments: dict[str, Any] = {"audio": str(audio)}
            if "language" in props:
                arguments["language"] = "en"
            return arguments, {"audio"}
        case "generate_image":
            arguments = {"prompt": "a red square on white"}
            if "multipart" in props:
                reference = tmp_path / "reference.png"
                reference.write_bytes(png_bytes())
                arguments |= {"width": 512, "height": 512, "steps": 4, "seed": 7, "images": [str(reference)]}
            return arguments, {"prompt"}
        case "text_to_speech":
            return {"text": "Hello there."}, {"text"}
        case _:
            raise AssertionError(f"no arguments for {tool}")


def check(tool: str) -> Any:
    def checked(result: CallToolResult, answer: Answer) -> None:
        blocks = result.content
        if tool == "generate_image":
            assert any(isinstance(b, ResourceLink | ImageContent) for b in blocks), text_of(result)
        elif tool == "text_to_speech":
            assert any(isinstance(b, AudioContent | ResourceLink | EmbeddedResource) for b in blocks), text_of(result)
        elif tool == "transcribe_audio":
            assert result.structured_content and result.structured_content["text"], text_of(result)
        elif tool == "describe_image":
            assert result.structured_content and result.structured_content["description"]
        elif tool == "translate":
            assert result.structured_content and result.structured_content["translated_text"]
        else:
            assert result.structured_content or json.loads(text_of(result)), text_of(result)

    return checked


@pytest.mark.parametrize("row", TASK_MODELS, ids=[row["name"] for row in TASK_MODELS])
async def test_the_task_tool_serves_every_answer_of_the_model(tmp_path: Path, row: dict[str, Any]) -> None:
    model = row["name"]
    served = serving(row["task"], schema_of(model)["input"])
    upstream = Upstream()
    async with session(tmp_path, upstream) as client:
        if served.tool is None:
            # Not served by its task's tool: the tool says why, plainly, and sends nothing.
            tool = TASK_TOOLS[row["task"]]
            arguments, _ = arguments_for(tool, model, tmp_path)
            result = await client.call_tool(tool, {**arguments, "model": model})
            assert result.is_error and "WebSocket" in text_of(result) and upstream.runs == []
            return
        arguments, fields = arguments_for(served.tool, model, tmp_path)
        tried = await call_with_every_answer(
            client, upstream, model, served.tool, {**arguments, "model": model}, fields, check(served.tool)
        )
    assert tried >= 1


async def test_the_catalog_is_here_and_whole() -> None:
    assert len(index()) == 112, "Cloudflare's published catalog (../shared/workers-ai-models/) is missing or changed"
