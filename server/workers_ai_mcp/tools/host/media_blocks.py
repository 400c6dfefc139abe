"""The output policy: which content blocks a generated file becomes, and the hard cap on a result.

Every saved file gives a text line (path and size) and a `resource_link`; inline media depend on
`settings.media_mode`: `preview` (a downscaled image under `preview_max_bytes`; audio only if it
is a few seconds, under 24 KB and that cap), `file` (none) or `full` (the file itself if the result
stays under the cap, else the preview). `cap_result` then guarantees that the serialized result fits `max_result_bytes`;
`HostTool.run` applies it to every tool's result (`cap_call_result`). The pipeline tools call
(save, show, link) is results.py.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any, Literal

import anyio.to_thread
from mcp.types import AudioContent, CallToolResult, ContentBlock, ImageContent, TextContent

from ...media.outputs import SavedFile
from ...media.previews import PreviewError, make_preview
from ...settings import Settings
from .links import human_size, resource_link, saved_line

logger = logging.getLogger(__name__)

MediaKind = Literal["image", "audio"]

# Audio goes inline in `preview` mode only up to this size (a few seconds of speech): many hosts drop
# audio blocks, and the ones that keep them give the model base64 it cannot hear; the link plays it.
AUDIO_INLINE_BYTES = 24_000
# Room kept, under `max_result_bytes`, for everything in the result besides the inline file.
FULL_HEADROOM = 32_768
# Room kept for the JSON-RPC envelope around the result.
_ENVELOPE = 1_024
_MIN_SHRUNK_IMAGE = 8_000
_CUT = "[cut]"


async def media_blocks(saved: SavedFile, data: bytes, kind: MediaKind, settings: Settings) -> list[ContentBlock]:
    """Text (path, size), the inline media the policy allows, and a resource link for `saved`."""
    notes: list[str] = []
    inline: ContentBlock | None = None
    mode = settings.media_mode
    if mode == "full":
        if _b64_len(len(data)) + FULL_HEADROOM <= settings.max_result_bytes:
            inline = _media_block(kind, data, saved.media_type)
        else:
            notes.append(f"The full file is too large to show inline ({human_size(len(data))}).")
            mode = "preview"
    if mode == "preview":
        if kind == "image":
            inline, note = await _image_preview(data, settings.preview_max_bytes)
            notes.append(note)
        elif len(data) <= min(AUDIO_INLINE_BYTES, settings.preview_max_bytes):
            inline = _media_block(kind, data, saved.media_type)
        else:
            notes.append(f"The audio is too long to play inline ({human_size(len(data))}); open the file.")
    blocks: list[ContentBlock] = [TextContent(type="text", text=" ".join([saved_line(saved), *notes]).strip())]
    if inline is not None:
        blocks.append(inline)
    blocks.append(resource_link(saved))
    return blocks


def result_size(blocks: Sequence[ContentBlock], structured: dict[str, Any] | None = None) -> int:
    """Bytes of the result's JSON, as the client will receive it."""
    result = CallToolResult(content=list(blocks), structured_content=structured)
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


def cap_call_result(result: CallToolResult, settings: Settings) -> CallToolResult:
    """`result` itself when it fits `max_result_bytes`, else a copy with its content capped (`cap_result`)."""
    structured = result.structured_content
    if result_size(result.content, structured) <= settings.max_result_bytes - _ENVELOPE:
        return result
    content = cap_result(result.content, settings, structured=structured)
    return CallToolResult(content=content, structured_content=structured, is_error=result.is_error, _meta=result.meta)


def cap_result(
    blocks: Sequence[ContentBlock], settings: Settings, *, structured: dict[str, Any] | None = None
) -> list[ContentBlock]:
    """`blocks`, with inline media shrunk or dropped (largest first) until the result fits the cap.

    Text and resource links are kept; only if media alone cannot make room is the longest text cut.
    """
    limit = settings.max_result_bytes - _ENVELOPE
    if result_size(blocks, structured) <= limit:
        return list(blocks)
    note = (
        f"Inline media were reduced to keep this result under {human_size(settings.max_result_bytes)}; "
        "the resource link has the full file."
    )
    out: list[ContentBlock | None] = [*blocks, TextContent(type="text", text=note)]
    media = [i for i, block in enumerate(out) if isinstance(block, ImageContent | AudioContent)]
    media.sort(key=lambda i: -len(getattr(out[i], "data", "")))
    for index in media:
        excess = result_size(_present(out), structured) - limit
        if excess <= 0:
            break
        block = out[index]
        out[index] = _shrunk(block, excess) if isinstance(block, ImageContent) else None
    kept = _present(out)
    if result_size(kept, structured) > limit:
        _cut_text(kept, limit, structured)
    return kept


async def _image_preview(data: bytes, cap: int) -> tuple[ImageContent | None, str]:
    try:
        preview = await anyio.to_thread.run_sync(make_preview, data, cap)
    except PreviewError as exc:
        logger.info("no preview: %s", exc)
        return None, "No preview could be made; open the file."
    block = ImageContent(type="image", data=base64.b64encode(preview.data).decode("ascii"), mime_type=preview.mime_type)
    return block, f"Preview: {preview.width}x{preview.height} {preview.mime_type.split('/')[1].upper()}."


def _shrunk(block: ImageContent, excess: int) -> ImageContent | None:
    """A smaller copy of an inline image that frees `excess` bytes, or None when none is worth showing."""
    budget = (len(block.data) - excess - 256) * 3 // 4
    if budget < _MIN_SHRUNK_IMAGE:
        return None
    try:
        preview = make_preview(base64.b64decode(block.data), budget)
    except (PreviewError, ValueError):
        return None
    return ImageContent(type="image", data=base64.b64encode(preview.data).decode("ascii"), mime_type=preview.mime_type)


def _media_block(kind: MediaKind, data: bytes, media_type: str) -> ContentBlock:
    encoded = base64.b64encode(data).decode("ascii")
    if kind == "image":
        return ImageContent(type="image", data=encoded, mime_type=media_type)
    return AudioContent(type="audio", data=encoded, mime_type=media_type)


def _present(blocks: list[ContentBlock | None]) -> list[ContentBlock]:
    return [block for block in blocks if block is not None]


def _cut_text(blocks: list[ContentBlock], limit: int, structured: dict[str, Any] | None) -> None:
    """Cut the longest text blocks, in place, until the result fits; the last resort."""
    marker = "\n[... cut to keep the result under the size cap]"
    while (excess := result_size(blocks, structured) - limit) > 0:
        texts = [i for i, block in enumerate(blocks) if isinstance(block, TextContent) and len(block.text) > len(_CUT)]
        if not texts:
            return  # structured content alone is over the cap: nothing left that may be cut
        index = max(texts, key=lambda i: len(getattr(blocks[i], "text", "")))
        text = getattr(blocks[index], "text", "")
        # Characters cost 1 to 6 bytes of JSON: cut in proportion to this text's own cost, then check again.
        cost = len(TextContent(type="text", text=text).model_dump_json().encode()) / len(text)
        keep = max(0, int(len(text) - (excess + len(marker) + 64) / cost))
        blocks[index] = TextContent(type="text", text=text[:keep] + marker if keep else _CUT)


def _b64_len(size: int) -> int:
    return (size + 2) // 3 * 4
