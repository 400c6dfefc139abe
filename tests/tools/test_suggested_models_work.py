"""Every model a refusal suggests works for the same input through the same tool.

The walk: each task tool, with each option it has, on every current catalog model of its task (and on
a model of another task); wherever the server refuses and names another model, the same call with that
model must then be accepted. The emulator checks every request against the model's published schema.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette

from support.media import small_png, wav_bytes, write
from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.catalog.task_tools import TOOL_TASKS
from workers_ai_mcp.emulator.registry import models

_MODEL = re.compile(r"@cf/[\w.-]+/[\w.-]*\w")
SCHEMA = {"type": "object", "properties": {"fact": {"type": "string"}}, "required": ["fact"]}
OTHER_TASK = {"Text-to-Image": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"}
OTHER = "@cf/lykon/dreamshaper-8-lcm"  # a Text-to-Image model, for every other tool

# Per tool: its required arguments, and the options to try one at a time ("{png}", "{wav}": input files).
WALK: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "chat": ({"prompt": "Hi"}, [{"json_schema": SCHEMA}, {"reasoning_effort": "high"}, {"images": ["{png}"]}]),
    "complete": ({"prompt": "Once upon"}, []),
    "respond": ({"input": "Hi"}, []),
    "embed": ({"texts": ["otter"]}, []),
    "rank_documents": ({"query": "otters", "documents": ["otters swim", "cats nap"]}, []),
    "translate": ({"text": "Hello", "target_lang": "fr"}, [{"source_lang": "de"}]),
    "summarize": ({"text": "Otters are mammals that swim. " * 4}, []),
    "classify_text": ({"text": "I love otters"}, []),
    "classify_image": ({"image": "{png}"}, []),
    "detect_objects": ({"image": "{png}"}, []),
    "describe_image": ({"image": "{png}"}, [{"prompt": "What is it?"}]),
    "transcribe_audio": (
        {"audio": "{wav}"},
        [{"language": "fr"}, {"task": "translate"}, {"vad_filter": True}, {"include_vtt": True}],
    ),
    "generate_image": (
        {"prompt": "an otter"},
        [
            {"negative_prompt": "cats"},
            {"width": 512, "height": 512},
            {"steps": 4},
            {"guidance": 7.5},
            {"seed": 7},
            {"images": ["{png}"]},
            {"images": ["{png}", "{png}"]},
        ],
    ),
    "text_to_speech": ({"text": "Hello"}, [{"voice": "angus"}, {"lang": "fr"}]),
}


SUGGESTING = {"chat", "generate_image", "text_to_speech"}


def _current(task: str) -> list[str]:
    return [name for name, spec in models().items() if spec.task.name == task and not spec.deprecated()]


def _filled(value: Any, files: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _filled(item, files) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_filled(item, files) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return files.get(value, value) if isinstance(value, str) else value


def test_the_walk_covers_every_task_tool() -> None:
    assert set(WALK) == set(TOOL_TASKS)


@pytest.mark.parametrize("tool", sorted(WALK))
async def test_every_model_a_refusal_names_takes_the_same_call(
    tmp_path: Path, emulator_app: Starlette, tool: str
) -> None:
    files = {
        "{png}": str(write(tmp_path, "otter.png", small_png())),
        "{wav}": str(write(tmp_path, "a.wav", wav_bytes())),
    }
    base, options = WALK[tool]
    candidates = [*_current(TOOL_TASKS[tool]), OTHER_TASK.get(TOOL_TASKS[tool], OTHER)]
    followed: list[str] = []
    with anyio.fail_after(120):
        async with open_session(make_settings(tmp_path), upstream=emulator_app) as client:
            for model in candidates:
                for option in [{}, *options]:
                    arguments = _filled(base | option, files) | {"model": model}
                    refused = await client.call_tool(tool, arguments)
                    if not refused.is_error:
                        continue
                    for suggested in set(_MODEL.findall(text_of(refused))) - {model}:
                        again = await client.call_tool(tool, arguments | {"model": suggested})
                        assert not again.is_error, (
                            f"{tool} with {model} {option} was refused naming {suggested}, which then failed: "
                            f"{text_of(refused)} -> {text_of(again)}"
                        )
                        followed.append(suggested)
    if tool in SUGGESTING:  # these tools' refusals do name models; a walk that followed none checked nothing
        assert followed, f"no refusal of {tool} named a model"
