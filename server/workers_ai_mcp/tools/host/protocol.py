"""Tool results fitted to the protocol version the session negotiated: the one place older hosts are served.

Hosts keep everything their protocol revision describes and get a text line for the rest:
- `resource_link` blocks and `structuredContent` exist from 2025-06-18: earlier, a link becomes a line
  with its URI and the saved file's path, and structured content goes away (its JSON stays as text);
- `audio` blocks exist from 2025-03-26: earlier, audio becomes a line naming the saved file and its URI.
Hosts on 2025-06-18 or newer get the result unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp.types import AudioContent, CallToolResult, ContentBlock, ResourceLink, TextContent
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS, is_version_at_least

from ...media.outputs import OUTPUT_URI_PREFIX
from ...settings import Settings
from .links import human_size
from .media_blocks import cap_result

LINKS_SINCE = "2025-06-18"  # resource_link content blocks and structuredContent
AUDIO_SINCE = "2025-03-26"  # audio content blocks


def fit_result(result: CallToolResult, version: str | None, settings: Settings) -> CallToolResult:
    """`result` as a host speaking protocol `version` can read; unchanged for 2025-06-18 and newer.

    An unknown or missing version (a call outside a session) is taken as current.
    """
    if version is None or version not in KNOWN_PROTOCOL_VERSIONS or is_version_at_least(version, LINKS_SINCE):
        return result
    audio_ok = is_version_at_least(version, AUDIO_SINCE)
    links = [block for block in result.content if isinstance(block, ResourceLink)]
    blocks: list[ContentBlock] = []
    for block in result.content:
        if isinstance(block, ResourceLink):
            blocks.append(TextContent(type="text", text=link_line(block, settings.output_dir)))
        elif isinstance(block, AudioContent) and not audio_ok:
            blocks.append(TextContent(type="text", text=_audio_line(block, links, settings.output_dir, version)))
        else:
            blocks.append(block)
    structured = result.structured_content
    if structured is not None and not _carried_as_text(blocks, structured):
        blocks.append(TextContent(type="text", text=json.dumps(structured, ensure_ascii=False)))
    return CallToolResult(content=cap_result(blocks, settings), is_error=result.is_error, _meta=result.meta)


def link_line(link: ResourceLink, output_dir: Path) -> str:
    """One line for a resource link: where the file was saved, what it is, and the URI to read it."""
    path = saved_path(link, output_dir)
    facts = ", ".join(f for f in (link.mime_type, human_size(link.size) if link.size is not None else None) if f)
    about = f"{f' ({facts})' if facts else ''}{f': {link.description}' if link.description else ''}"
    if path is None:
        return f"Resource {link.uri}{about}"
    return f"File {path}{about}; resource {link.uri}"


def saved_path(link: ResourceLink, output_dir: Path) -> Path | None:
    """The file in the output folder that a `workers-ai://outputs/` link names, or None for other links."""
    uri = str(link.uri)
    if not uri.startswith(OUTPUT_URI_PREFIX):
        return None
    return output_dir / uri.removeprefix(OUTPUT_URI_PREFIX)


def _audio_line(block: AudioContent, links: list[ResourceLink], output_dir: Path, version: str) -> str:
    size = human_size(len(block.data) * 3 // 4)
    line = f"Audio ({block.mime_type}, {size}) is not sent inline: protocol {version} has no audio content."
    saved = next((link for link in links if (link.mime_type or "").startswith("audio/")), None)
    if saved is None:
        return line
    path = saved_path(saved, output_dir)
    return f"{line} Play the saved file{f' {path}' if path else ''} (resource {saved.uri})."


def _carried_as_text(blocks: list[ContentBlock], structured: dict[str, Any]) -> bool:
    """True when a text block already holds the structured content as JSON (the SDK's own copy)."""
    for block in blocks:
        if isinstance(block, TextContent) and block.text.startswith("{"):
            try:
                if json.loads(block.text) == structured:
                    return True
            except ValueError:
                continue
    return False
