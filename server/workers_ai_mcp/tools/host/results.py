"""Results that carry files: the one pipeline every tool uses for what a model made.

save (the output store) → a line naming the file → the inline media the policy allows (media_blocks.py)
→ a `resource_link` to it. The cap on the whole result is not here: `HostTool.run` applies it to every
result (`cap_call_result`), whatever tool made it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mcp.types import CallToolResult, ContentBlock, TextContent

from ...media.outputs import OutputStore, SavedFile, extension_for
from ...settings import Settings
from .links import resource_link, saved_line
from .media_blocks import media_blocks


async def media_result(
    outputs: OutputStore,
    settings: Settings,
    data: bytes,
    media_type: str,
    *,
    stem: str,
    before: Sequence[ContentBlock] = (),
    after: Sequence[ContentBlock] = (),
    lead: str = "",
) -> list[ContentBlock]:
    """Save `data` as a new output file and show it: `before`, the file's blocks (see `file_blocks`), `after`."""
    saved = outputs.save(data, stem=stem, extension=extension_for(media_type))
    return [*before, *await file_blocks(saved, data, settings, media_type=media_type, lead=lead), *after]


async def file_blocks(
    saved: SavedFile, data: bytes, settings: Settings, *, media_type: str | None = None, lead: str = ""
) -> list[ContentBlock]:
    """Blocks for a saved file: images and audio per the media policy; any other file, a line (after
    `lead`) and a link. The kind is read from `media_type` (what the model said), else the file's own."""
    kind = (media_type or saved.media_type).split("/", 1)[0]
    if kind in ("image", "audio"):
        return await media_blocks(saved, data, "image" if kind == "image" else "audio", settings)
    return [TextContent(type="text", text=f"{lead}{saved_line(saved)}"), resource_link(saved)]


async def binary_media_result(
    outputs: OutputStore, settings: Settings, model: str, data: bytes, media_type: str
) -> list[ContentBlock]:
    """Blocks for a model's binary answer: saved to the output folder, shown per the media policy."""
    stem = model.rsplit("/", 1)[-1]
    lead = f"{model} answered with {media_type}. "
    return await media_result(outputs, settings, data, media_type, stem=stem, lead=lead)


def compact_copies(result: CallToolResult) -> CallToolResult:
    """`result` with its text copy of the structured content as compact JSON (no indentation, no spaces).

    The spec asks for the copy beside `structuredContent` for clients that read only `content`; an
    indented copy costs the assistant's context up to four times the data, a compact one exactly it.
    """
    structured = result.structured_content
    if structured is None:
        return result
    blocks: list[ContentBlock] = []
    changed = False
    for block in result.content:
        if isinstance(block, TextContent) and block.text.startswith("{") and _is_copy(block.text, structured):
            compact = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
            changed = changed or compact != block.text
            blocks.append(TextContent(type="text", text=compact, annotations=block.annotations, _meta=block.meta))
        else:
            blocks.append(block)
    return result.model_copy(update={"content": blocks}) if changed else result


def _is_copy(text: str, structured: dict[str, Any]) -> bool:
    try:
        return json.loads(text) == structured
    except ValueError:
        return False
