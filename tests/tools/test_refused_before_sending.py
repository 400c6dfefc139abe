"""Whatever the server will refuse, or could not deliver, is refused before any model is called: one
case per tool family, each through an MCP session whose upstream fails the test if a model is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette

from support.emulated import BGE_BASE, LLAMA_33
from support.forbidden import Forbidden
from support.media import small_png, wav_bytes, write
from support.results import text_of
from support.session import open_session
from support.settings import make_settings

FLUX = "@cf/black-forest-labs/flux-1-schnell"
MELO = "@cf/myshell-ai/melotts"
RESNET = "@cf/microsoft/resnet-50"

# (tool, arguments, what the one sentence says); "{png}" and "{wav}" stand for input files.
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("chat", {"prompt": "What is this?", "images": ["{png}"]}, "cannot see images"),
    ("chat", {"prompt": "Hi", "thinking": "off", "model": LLAMA_33}, "has no thinking control"),
    ("complete", {"prompt": "Once", "model": FLUX}, "complete needs a Text Generation model"),
    ("translate", {"text": "Hello", "target_lang": "fr", "model": LLAMA_33}, "use a translation model such as"),
    ("summarize", {"text": "Otters are mammals. " * 5, "model": BGE_BASE}, "summarize needs a Summarization model"),
    ("embed", {"texts": ["otter"], "model": LLAMA_33}, "embed needs a Text Embeddings model"),
    ("classify_image", {"image": "{png}", "model": FLUX}, "takes no image input this tool can send"),
    ("detect_objects", {"image": "{png}", "model": RESNET}, "detect_objects needs an Object Detection model"),
    ("transcribe_audio", {"audio": "{wav}", "model": MELO}, "takes no audio file this tool can send"),
    ("text_to_speech", {"text": "Hello", "voice": "angus"}, "does not take `voice`"),
    ("generate_image", {"prompt": "an otter", "model": LLAMA_33}, "generate_image needs a Text-to-Image model"),
    ("generate_image", {"prompt": "an otter", "negative_prompt": "cats"}, "does not take `negative_prompt`"),
    ("describe_image", {"image": "{png}", "model": RESNET}, "describe_image needs an Image-to-Text model"),
    ("rank_documents", {"query": "otters", "documents": ["a", "b"], "model": BGE_BASE}, "rank_documents needs a"),
    ("run_model", {"model": LLAMA_33, "input": {"prompt": 5}}, "prompt"),
]


def _filled(arguments: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    files = {
        "{png}": str(write(tmp_path, "otter.png", small_png())),
        "{wav}": str(write(tmp_path, "a.wav", wav_bytes())),
    }
    return {
        key: files.get(value, value) if isinstance(value, str) else [files.get(v, v) for v in value]
        if isinstance(value, list) else value
        for key, value in arguments.items()
    }  # fmt: skip


async def _refusal(
    tmp_path: Path, emulator_app: Starlette, tool: str, arguments: dict[str, Any], **settings: Any
) -> str:
    upstream = Forbidden(emulator_app)
    with anyio.fail_after(10):
        async with open_session(make_settings(tmp_path, **settings), upstream=upstream.transport()) as client:
            result = await client.call_tool(tool, _filled(arguments, tmp_path))
    assert upstream.sent == []
    assert result.is_error, text_of(result)
    return text_of(result)


@pytest.mark.parametrize(("tool", "arguments", "said"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
async def test_a_refused_call_sends_nothing_to_workers_ai(
    tmp_path: Path, emulator_app: Starlette, tool: str, arguments: dict[str, Any], said: str
) -> None:
    assert said in await _refusal(tmp_path, emulator_app, tool, arguments)


# Every tool whose result is, or may be, saved in the output folder.
SAVING: list[tuple[str, dict[str, Any]]] = [
    ("generate_image", {"prompt": "an otter"}),
    ("text_to_speech", {"text": "Hi"}),
    ("detect_objects", {"image": "{png}"}),
    ("embed", {"texts": ["otters"]}),
    ("transcribe_audio", {"audio": "{wav}"}),
    ("run_model", {"model": "@cf/black-forest-labs/flux-1-schnell", "input": {"prompt": "an otter"}}),
    ("to_markdown", {"documents": ["data:text/csv;base64,YSxiCjEsMgo="]}),
]


@pytest.mark.parametrize(("tool", "arguments"), SAVING, ids=[case[0] for case in SAVING])
async def test_an_output_folder_that_is_a_file_is_refused_before_the_model_runs(
    tmp_path: Path, emulator_app: Starlette, tool: str, arguments: dict[str, Any]
) -> None:
    folder = write(tmp_path, "not-a-folder", b"x")
    text = await _refusal(tmp_path, emulator_app, tool, arguments, output_dir=folder)
    assert f"The output folder {folder} cannot hold the result (it is a file, not a folder)" in text
    assert "Nothing was sent" in text


async def test_an_output_folder_that_cannot_be_made_is_refused_before_the_model_runs(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    folder = write(tmp_path, "a-file", b"x") / "outputs"  # below a file: no user, root included, can make it
    text = await _refusal(tmp_path, emulator_app, "text_to_speech", {"text": "Hi"}, output_dir=folder)
    assert f"The output folder {folder} cannot hold the result (Not a directory)" in text
