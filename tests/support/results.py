"""Reading tool results in tests: the one `text_of`, the structured data, and the blocks by kind."""

from __future__ import annotations

import json
from typing import Any, cast

from mcp.types import CallToolResult, ImageContent, ResourceLink, TextContent


def text_of(result: CallToolResult) -> str:
    """The text blocks of a tool result, one per line."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def data_of(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful result (a dict)."""
    assert not result.is_error, text_of(result)
    structured = result.structured_content
    assert isinstance(structured, dict)
    return cast(dict[str, Any], structured)


def structured(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful result (present)."""
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


def json_text(result: CallToolResult) -> dict[str, Any]:
    """The text copy of a JSON result, parsed."""
    return json.loads(text_of(result))


def images_of(result: CallToolResult) -> list[ImageContent]:
    return [block for block in result.content if isinstance(block, ImageContent)]


def links_of(result: CallToolResult) -> list[ResourceLink]:
    return [block for block in result.content if isinstance(block, ResourceLink)]


def result_bytes(result: CallToolResult) -> int:
    """The result's size as JSON on the wire."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())
