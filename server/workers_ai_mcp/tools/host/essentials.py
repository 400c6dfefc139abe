"""The essentials of `content`, inside the structured content, for hosts that drop `content` beside it.

Claude Code gives the model only `JSON.stringify(structuredContent)` whenever a result has structured
content (anthropics/claude-code#79944, #54737, #55677): the one-line summaries, saved files' links and
preview images beside it never reach the model. For such a host (known from `clientInfo.name`, or
`WORKERS_AI_MCP_STRUCTURED_ONLY_HOST` either way) the structured content gains `essentials`: one line
per block that is not the JSON copy: its text (cut to a line's length), each link as its file path and
resource URI, each image or audio block as what it is and where it is saved.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import AudioContent, CallToolResult, ImageContent, ResourceLink, TextContent

from ...settings import Settings
from .links import human_size
from .protocol import link_line

# Hosts (`clientInfo.name`) known to show the model only the structured content when there is one.
STRUCTURED_ONLY_HOSTS = frozenset({"claude-code"})
KEY = "essentials"
LINE_CHARS = 400  # a text block is cut to this many characters


def client_name(ctx: Context[Any]) -> str | None:
    params = ctx.request_context.session.client_params
    return params.client_info.name if params is not None else None


def reads_structured_only(ctx: Context[Any], settings: Settings) -> bool:
    """Whether the host of this call shows the model only the structured content."""
    if settings.structured_only_host is not None:
        return settings.structured_only_host
    return client_name(ctx) in STRUCTURED_ONLY_HOSTS


def with_essentials(result: CallToolResult, settings: Settings) -> CallToolResult:
    """`result` with a line per content block beside the JSON copy, inside its structured content."""
    structured = result.structured_content
    if structured is None or KEY in structured:
        return result
    lines = [line for block in result.content if (line := _line(block, structured, settings)) is not None]
    if not lines:
        return result
    return result.model_copy(update={"structured_content": {**structured, KEY: lines}})


def _line(block: Any, structured: dict[str, Any], settings: Settings) -> str | None:
    if isinstance(block, TextContent):
        text = block.text.strip()
        if text.startswith("{"):
            return None  # the copy of the structured content (or JSON the model has in it)
        return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1].rstrip() + "…"
    if isinstance(block, ResourceLink):
        return link_line(block, settings.output_dir)
    if isinstance(block, ImageContent | AudioContent):
        kind = "An image" if isinstance(block, ImageContent) else "Audio"
        size = human_size(len(block.data) * 3 // 4)
        return f"{kind} ({block.mime_type}, {size}) is attached inline; its saved file is linked here."
    return None
